//! The repository as a document: the facts a reviewer checks by hand. Being written.

use std::path::Path;

use super::tree::Node;

/// Builds the repository document for the scan root `root`, whose files (relative paths with
/// `/`, sorted, `.gitignore` honoured) are `files`.
pub fn document(_root: &Path, _files: &[String]) -> Option<(Node, Vec<String>)> {
    None
}
