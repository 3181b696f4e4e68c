//! isms-lint patch: where the last [`parse_body`](super::parse_body) on this thread met an object
//! key written twice (the later one is kept, as Terraform does).

use std::cell::RefCell;
use std::ops::Range;

thread_local! {
    static REDEFINED: RefCell<Vec<Range<usize>>> = const { RefCell::new(Vec::new()) };
}

/// Records the byte range of a key that redefines an earlier one.
pub(crate) fn note(span: Option<Range<usize>>) {
    if let Some(span) = span {
        REDEFINED.with(|r| r.borrow_mut().push(span));
    }
}

/// The byte ranges of the repeated keys the last parse on this thread kept, emptying the list.
pub fn take() -> Vec<Range<usize>> {
    REDEFINED.with(|r| std::mem::take(&mut *r.borrow_mut()))
}
