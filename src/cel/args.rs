//! Reading helper arguments and building helper results: document maps and strings in, lists of
//! document nodes and small maps out. An unresolved argument makes a helper fail, so that what
//! it computes is unknown rather than empty.

use cel::common::types::{CelBool, CelString};
use cel::common::value::CowVal;
use cel::ExecutionError;

use crate::doc::{ListNode, MapBuilder, MapNode, Node, Span, Value};

/// A helper's arguments.
pub type Args<'b, 'v> = Vec<CowVal<'b, 'v>>;
/// A helper's result.
pub type Ret<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// The map argument `i` (`None` when it is something else); an unresolved argument makes the
/// helper fail, so its result is unknown rather than empty.
pub fn arg_map<'a>(
    args: &'a [CowVal<'_, '_>],
    i: usize,
    f: &str,
) -> Result<Option<&'a MapNode>, ExecutionError> {
    let v = args
        .get(i)
        .ok_or_else(|| ExecutionError::function_error(f, "missing argument"))?;
    if crate::doc::reads::is_unresolved(v.as_ref()) {
        return Err(crate::doc::reads::error());
    }
    Ok(v.downcast_ref::<MapNode>())
}

/// The string argument `i`.
pub fn arg_str<'a>(
    args: &'a [CowVal<'_, '_>],
    i: usize,
    f: &str,
) -> Result<&'a str, ExecutionError> {
    let v = args
        .get(i)
        .ok_or_else(|| ExecutionError::function_error(f, "missing argument"))?;
    v.downcast_ref::<CelString>()
        .map(|s| s.inner())
        .ok_or_else(|| {
            ExecutionError::function_error(
                f,
                format!("expected a string, got {}", v.get_type().name()),
            )
        })
}

/// Charges `units` of work to the evaluation's cost budget (`cel::cost`, the `--max-cel-cost`
/// limit): a helper that walks more of the document than it returns (every resource, to find a
/// few) says so here; the length of what it returns is charged by the interpreter.
pub fn charge(units: usize) -> Result<(), ExecutionError> {
    cel::cost::charge(u64::try_from(units).unwrap_or(u64::MAX))
}

thread_local! {
    static SAVED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Notes `units` of work a helper's memo saved (a walk it would have charged, done before by
/// an earlier call on the same document). Not charged: the differential engine adds it to the
/// cost, so that two evaluators compare equal whichever of them met the memo first.
pub fn note_saved(units: usize) {
    let units = u64::try_from(units).unwrap_or(u64::MAX);
    SAVED.with(|s| s.set(s.get().saturating_add(units)));
}

/// All the work helpers' memos saved on this thread, see [`note_saved`].
pub fn saved() -> u64 {
    SAVED.with(std::cell::Cell::get)
}

/// A list of document nodes, as a document list: its items keep their spans and stay what they
/// are (an unknown value is still read as one).
pub fn list_of<'b, 'v>(nodes: Vec<Node>) -> Ret<'b, 'v> {
    Ok(CowVal::owned(ListNode::new(nodes, Span::default())))
}

/// A boolean result.
pub fn bool_ret<'b, 'v>(b: bool) -> Ret<'b, 'v> {
    Ok(CowVal::owned(CelBool::from(b)))
}

/// The values of a map node (none for anything else).
pub fn map_values(m: Option<&Node>) -> Vec<Node> {
    m.and_then(Node::as_map)
        .map(|m| m.iter().map(|(_, e)| e.value.clone()).collect())
        .unwrap_or_default()
}

/// The text of a string or of an unknown value's source.
pub fn text_of(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Str(s) => Some(s.inner()),
        Value::Unknown(u) => Some(u.text()),
        _ => None,
    }
}

/// A map result of `(key, node)` fields.
pub fn map_of<'b, 'v>(fields: &[(&str, Node)]) -> Ret<'b, 'v> {
    let mut b = MapBuilder::new();
    for (k, v) in fields {
        b.insert((*k).to_string(), Span::default(), v.clone());
    }
    Ok(CowVal::owned(b.finish(Span::default())))
}

/// A string node with no place.
pub fn s(text: &str) -> Node {
    Node::string(text, Span::default())
}
