//! The document model: spanned trees every input produces and rules read, what an evaluation
//! reads from them, and the YAML/JSON reader they share. Knows nothing of rules.

pub mod edit;
pub mod image;
pub mod keys;
pub mod positions;
pub mod reads;
pub mod tree;
pub mod yaml;

pub use positions::{Positions, PositionsBuilder};
pub use tree::{ChoiceNode, ListNode, MapBuilder, MapNode, Node, NodeId, Pos, Span, Value};

/// Why a file could not be read as a document, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Display path of the file.
    pub path: String,
    /// Where the parser stopped (1-based).
    pub pos: Pos,
    /// What went wrong.
    pub message: String,
    /// Whether the file is of a detected kind (a Terraform file, a Dockerfile, YAML that looks
    /// like a Kubernetes object…): its parse error is then `high`, else `low`.
    pub detected: bool,
}

/// Something readable but suspicious that the reader noticed (e.g. a repeated key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// Display path of the file.
    pub path: String,
    /// First character.
    pub start: Pos,
    /// Just past the last character.
    pub end: Pos,
    /// What.
    pub message: String,
}

/// A place related to a finding, with what it is (a module call a Terraform module was
/// evaluated through, the kustomization an object was rendered by).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Related {
    /// What kind of place it is, as the text report names it (`via module call at main.tf:3`):
    /// `module call`, `kustomization`.
    #[serde(skip)]
    pub via: &'static str,
    /// Display path of the file.
    pub path: String,
    /// First character.
    pub start: Pos,
    /// Just past the last character.
    pub end: Pos,
    /// What the place is (`module call "net"`).
    pub message: String,
}
