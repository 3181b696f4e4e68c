//! Terraform modules (all `*.tf` of a directory) into one spanned document. Being written.

use super::tree::{Node, Pos};

/// One source file of a module: display path and text.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// Display path.
    pub path: String,
    /// Content.
    pub text: String,
}

/// Why a module could not be read: which file, where, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleError {
    /// Index into the `.tf` files given.
    pub file: usize,
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

/// Parses a module from its `.tf` files and its `terraform.tfvars` / `*.auto.tfvars` files.
pub fn parse_module(_tf: &[SourceText], _tfvars: &[SourceText]) -> Result<Node, ModuleError> {
    Err(ModuleError {
        file: 0,
        pos: Pos::new(1, 1),
        message: "Terraform support is not built yet".into(),
    })
}

/// Normalises `terraform show -json` output into the module document shape; `None` when the
/// JSON is not a plan.
pub fn plan_document(_plan: &Node) -> Option<Node> {
    None
}
