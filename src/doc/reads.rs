//! What one evaluation reads from a document tree, kept per thread while CEL runs: the first
//! unknown value it touched, the conditional nodes it met (and which branch each one took), and
//! whether unknown values read as *unresolved* values that make every operation on them fail
//! (strict reading, which turns "depends on an unknown" into an error CEL's `&&`, `||`, `all()`
//! and `exists()` can still absorb when the unknown does not decide the result).

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;

use cel::common::traits::{Container, Indexer};
use cel::common::types::{CelString, Type, UNKNOWN_TYPE};
use cel::common::value::{CowVal, Val};
use cel::ExecutionError;

use super::tree::{ChoiceNode, Span};

/// Identity of a conditional node while its tree lives.
pub type ChoiceId = usize;

/// The first unknown value an evaluation touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touched {
    /// Its source text (`var.x`, `each.value`, `Fn::ImportValue …`).
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// What an evaluation read, returned by [`finish`].
#[derive(Clone, Debug, Default)]
pub struct Reads {
    /// The first unknown value touched, if any.
    pub unknown: Option<Touched>,
    /// Whether, in strict reading, an unresolved value was handed to CEL.
    pub unresolved: bool,
    /// Conditional nodes met that were not forced, in the order met (each took branch 0).
    pub choices: Vec<ChoiceNode>,
}

#[derive(Default)]
struct State {
    strict: bool,
    forced: Vec<(ChoiceId, usize)>,
    reads: Reads,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Starts recording an evaluation: unknowns read as unresolved values when `strict`, and the
/// conditional nodes in `forced` take the given branch (others take branch 0 and are recorded).
pub fn begin(strict: bool, forced: &[(ChoiceId, usize)]) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.strict = strict;
        s.forced.clear();
        s.forced.extend_from_slice(forced);
        s.reads = Reads::default();
    });
}

/// Stops recording and returns what was read; reading is lenient again afterwards.
pub fn finish() -> Reads {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.strict = false;
        s.forced.clear();
        std::mem::take(&mut s.reads)
    })
}

/// What the current recording has read so far (the differential engine runs an expression
/// twice and compares what each run read).
pub fn snapshot() -> Reads {
    STATE.with(|s| s.borrow().reads.clone())
}

/// Replaces what the current recording has read so far with `reads`.
pub fn restore(reads: Reads) {
    STATE.with(|s| s.borrow_mut().reads = reads);
}

/// Records that an unknown value was read; true when it must read as an [`Unresolved`] value.
pub(super) fn note_unknown(text: &str, span: Span) -> bool {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.reads.unknown.is_none() {
            s.reads.unknown = Some(Touched {
                text: text.to_string(),
                span,
            });
        }
        if s.strict {
            s.reads.unresolved = true;
        }
        s.strict
    })
}

/// The branch a conditional node takes in this evaluation (recording it when not forced).
pub(super) fn branch(choice: &ChoiceNode) -> usize {
    let id = choice.id();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if let Some((_, b)) = s.forced.iter().find(|(c, _)| *c == id) {
            return *b;
        }
        if !s.reads.choices.iter().any(|c| c.id() == id) {
            s.reads.choices.push(choice.clone());
        }
        0
    })
}

/// A value the input cannot give before deployment, with its source text (`var.x`,
/// `!ImportValue shared`). In strict reading CEL sees this value itself: any field of it is
/// unresolved again, and every other operation on it fails; in lenient reading CEL sees its text.
///
/// Shared behind one pointer, so that it keeps [`Value`](super::Value) (and every node) small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved(Arc<(CelString<'static>, bool)>);

static UNKNOWN_T: Type = UNKNOWN_TYPE;

impl Unresolved {
    /// An unknown value written as `text`.
    pub fn new(text: impl Into<String>) -> Unresolved {
        Unresolved(Arc::new((CelString::from(text.into()), false)))
    }

    /// A reference to an attribute of another resource, written as `text`: its value is not
    /// known before deployment, but it is set (never null, never empty).
    pub fn reference(text: impl Into<String>) -> Unresolved {
        Unresolved(Arc::new((CelString::from(text.into()), true)))
    }

    /// Whether the value is known to be set (a reference).
    pub fn is_set(&self) -> bool {
        self.0 .1
    }

    /// Its source text.
    pub fn text(&self) -> &str {
        self.0 .0.inner()
    }

    /// Its source text as a CEL string (what lenient reading sees).
    pub fn as_cel_string(&self) -> &CelString<'static> {
        &self.0 .0
    }
}

fn unresolved_error() -> ExecutionError {
    ExecutionError::function_error("unknown", "the value is not known before deployment")
}

/// Whether a CEL value is an unresolved value.
pub fn is_unresolved(v: &dyn Val) -> bool {
    v.downcast_ref::<Unresolved>().is_some()
}

impl Val for Unresolved {
    fn get_type(&self) -> &Type {
        &UNKNOWN_T
    }
    fn cel_type() -> &'static Type {
        &UNKNOWN_T
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }
    fn equals(&self, _other: &dyn Val) -> bool {
        false
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl cel::common::value::StaticVal for Unresolved {}

impl Indexer for Unresolved {
    fn get<'b, 'v>(&'b self, _idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        Ok(CowVal::Borrowed(self))
    }

    fn steal<'v>(self: Box<Self>, _idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        Ok(self)
    }
}

impl Container for Unresolved {
    fn contains(&self, _value: &dyn Val) -> Result<bool, ExecutionError> {
        Err(unresolved_error())
    }
}

/// The source text of an unresolved value.
pub fn unresolved_text(v: &dyn Val) -> Option<&str> {
    v.downcast_ref::<Unresolved>().map(Unresolved::text)
}

/// `a == b` in strict reading: `Some` when it is decided (an unresolved value that is set
/// differs from `null` and from `""`), `None` when it depends on an unresolved value.
pub fn strict_equals(a: &dyn Val, b: &dyn Val) -> Option<bool> {
    let empty = |v: &dyn Val| {
        v.downcast_ref::<cel::common::types::CelNull>().is_some()
            || v.downcast_ref::<CelString>()
                .is_some_and(|s| s.inner().is_empty())
    };
    match (
        a.downcast_ref::<Unresolved>(),
        b.downcast_ref::<Unresolved>(),
    ) {
        (None, None) => Some(a.equals(b)),
        (Some(u), None) if u.is_set() && empty(b) => Some(false),
        (None, Some(u)) if u.is_set() && empty(a) => Some(false),
        _ => None,
    }
}

/// The error an operation on an unresolved value gives.
pub fn error() -> ExecutionError {
    unresolved_error()
}
