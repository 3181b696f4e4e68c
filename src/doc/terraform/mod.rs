//! Terraform: a module (all `*.tf` files of one directory) into one spanned document, and
//! `terraform show -json` plans into the same shape.
//!
//! The module document groups top-level blocks by kind:
//!
//! ```text
//! resource.<type>.<name>  body + _type, _name, _address ("<type>.<name>")
//! data.<type>.<name>      body + _type, _name, _address ("data.<type>.<name>")
//! module.<name>           arguments + _name, _address ("module.<name>")
//! variable.<name>         default, type (source text), sensitive, description, …
//! output.<name>           value, sensitive, …
//! locals.<name>           value (all `locals` blocks merged)
//! provider.<name>         list of provider blocks (aliases)
//! terraform               merged; required_providers merged into one map, backend.<type>
//! ```
//!
//! Nested blocks are always lists of maps, as in Terraform's JSON plan; labelled nested blocks
//! are maps under their labels; `dynamic "x"` blocks are elements of the `x` list with
//! `_dynamic: true` and `_for_each` (source text). Literals become values; `var.*` and `local.*`
//! references with fully known values (variable defaults overridden by tfvars) and templates
//! whose interpolations all resolve are evaluated. Any other expression (references to
//! resources, data sources or modules, function calls, conditionals, for expressions, splats)
//! becomes [`Value::Unknown`](super::tree::Value::Unknown) holding its source text, which rules
//! may use to relate resources. Spans carry the index of the `.tf` file in `Span::file`.

mod body;
mod expr;
mod module;
mod plan;
mod source;
#[cfg(test)]
mod tests;

use hcl_edit::parser::parse_body;

use self::module::Parsed;
use self::source::Source;
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
    /// The file: an index into the `.tf` files given, or, from `tf.len()` on, into the tfvars
    /// files (`file - tf.len()`).
    pub file: usize,
    /// Where (1-based line and character column, as the HCL parser reports it).
    pub pos: Pos,
    /// What.
    pub message: String,
}

/// Parses a module from its `.tf` files and its `terraform.tfvars` / `*.auto.tfvars` files.
///
/// Tfvars values override variable defaults: `terraform.tfvars` first, then the others in
/// path order, later files winning, as Terraform loads them. The first syntax error found (in
/// `.tf` files first) is returned.
pub fn parse_module(tf: &[SourceText], tfvars: &[SourceText]) -> Result<Node, ModuleError> {
    let files = tf
        .iter()
        .enumerate()
        .map(|(i, s)| parse_file(i, s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut order: Vec<usize> = (0..tfvars.len()).collect();
    order.sort_by_key(|&i| (!is_terraform_tfvars(&tfvars[i].path), &tfvars[i].path));
    let vars = order
        .into_iter()
        .map(|i| parse_file(tf.len() + i, &tfvars[i]))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(module::document(&files, &vars))
}

/// Normalises `terraform show -json` output into the module document shape; `None` when the
/// JSON is not a plan.
///
/// Resources of `planned_values` (child modules included) appear under
/// `resource.<type>.<key>` (`data.<type>.<key>` for data sources), where the key is the
/// address without its `<type>.` prefix for root-module resources and the full address
/// (`module.net.aws_s3_bucket.logs`) otherwise. Each holds the resource's `values` plus `_type`,
/// `_name`, `_address` and `_mode`, reusing the plan's nodes so that spans point into the JSON.
/// `resource_changes` and `terraform_version` are copied as they are.
pub fn plan_document(plan: &Node) -> Option<Node> {
    plan::document(plan)
}

fn is_terraform_tfvars(path: &str) -> bool {
    path.rsplit(['/', '\\']).next() == Some("terraform.tfvars")
}

/// Parses one file, numbered `index` in the document.
fn parse_file(index: usize, file: &SourceText) -> Result<Parsed, ModuleError> {
    let src = Source::new(u32::try_from(index).unwrap_or(u32::MAX), &file.text);
    let parsed = std::panic::catch_unwind(|| parse_body(&src.text));
    match parsed {
        Ok(Ok(body)) => Ok(Parsed { src, body }),
        Ok(Err(e)) => Err(ModuleError {
            file: index,
            pos: Pos::new(to_u32(e.location().line()), to_u32(e.location().column())),
            message: e.message().to_string(),
        }),
        Err(_) => Err(ModuleError {
            file: index,
            pos: Pos::new(1, 1),
            message: "the HCL parser failed on this file".into(),
        }),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
