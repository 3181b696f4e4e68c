//! CEL as rules use it: the helper functions isms-lint adds (the generic ones here, the ones of
//! one input kind in its input module), how an expression's names are checked, how values are
//! shown, and the strict form of an expression that read an unknown value. The environment that
//! puts them together is [`crate::rules::env`].

pub mod args;
pub mod helpers;
pub mod names;
pub mod secrets;
pub mod strict;
pub mod values;

use crate::doc::MapNode;

pub use names::{unknown_names, UnknownNames};
pub use strict::strict_form;
pub use values::{display, to_json};

/// Variables a rule expression may use.
pub const VARIABLES: &[&str] = &["doc", "item", "file", "repo", "key", "path"];

/// Variables only a message can use (they are computed when a finding is made).
pub const MESSAGE_ONLY: &[&str] = &["path"];

/// One function isms-lint adds to CEL, documented for rule authors (`rules --helpers` and the
/// table in docs/rule-format.md are generated from these).
pub struct Helper {
    /// Name as called from CEL.
    pub name: &'static str,
    /// Signature as shown to authors.
    pub signature: &'static str,
    /// What it returns.
    pub doc: &'static str,
    /// Number of arguments (all `dyn`).
    pub arity: usize,
    /// The implementation.
    pub function: cel::common::functions::Function,
    /// What its result tells a rule's gate about the document.
    pub gate: HelperGate,
}

/// What a helper's result says about the document it was given, for gates: a rule whose
/// `select` is built from such a helper reports nothing on a document that fails the test.
#[derive(Clone, Copy)]
pub enum HelperGate {
    /// Nothing.
    None,
    /// `f(doc, 'T')` is empty unless the document has a resource of type `T`.
    ResourceType,
    /// `f(doc)` is empty unless this holds on the document; the words say what such a
    /// document is ("Kubernetes workload with a pod spec").
    Document(fn(&MapNode) -> bool, &'static str),
}
