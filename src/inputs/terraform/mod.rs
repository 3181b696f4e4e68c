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
//! may use to relate resources. The document's position table has one file per `.tf` file, in `files` order.

mod body;
mod calls;
mod expr;
mod module;
mod plan;
mod plan_source;
mod source;
#[cfg(test)]
mod tests;

use hcl_edit::parser::parse_body;

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use self::module::Parsed;
use self::source::Source;
use super::{Document, Input, Kind, Read, Resources, SourceFile, TreeFormat, Unit};
use crate::cel::args::{arg_map, arg_str, charge, list_of, text_of, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::{MapNode, Node, ParseError, Pos, Positions, PositionsBuilder};

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
    /// Whether the file was left out. A repeated key in an object literal is not fatal: the
    /// file is read with the last value, as Terraform reads it, and the repetition is reported.
    pub fatal: bool,
}

/// Parses a module from its `.tf` files and its `terraform.tfvars` / `*.auto.tfvars` files.
///
/// Tfvars values override variable defaults: `terraform.tfvars` first, then the others in
/// path order, later files winning, as Terraform loads them. A file with a syntax error is
/// left out and reported; the module is built from the others, so one broken file never hides
/// the rest of its module.
pub fn parse_module(
    tf: &[SourceText],
    tfvars: &[SourceText],
) -> (Node, Vec<ModuleError>, Positions) {
    parse_with(tf, tfvars, &[])
}

/// Parses a child module from its `.tf` files with the arguments of the call that evaluates it
/// bound to its variables (`(name, value)`; a value not known leaves the variable unknown,
/// whatever its default). Terraform reads tfvars files for the root module only.
pub fn parse_child_module(
    tf: &[SourceText],
    bindings: &[(String, Node)],
) -> (Node, Vec<ModuleError>, Positions) {
    parse_with(tf, &[], bindings)
}

fn parse_with(
    tf: &[SourceText],
    tfvars: &[SourceText],
    bindings: &[(String, Node)],
) -> (Node, Vec<ModuleError>, Positions) {
    let mut errors = Vec::new();
    // File `i` of the document is `tf[i]`, then `tfvars[i - tf.len()]`.
    let mut positions = PositionsBuilder::new();
    for s in tf.iter().chain(tfvars) {
        positions.add_text(source::without_bom(&s.text));
    }
    let positions = Rc::new(positions);
    let mut parse = |i: usize, s: &SourceText| match parse_file(i, s, positions.clone()) {
        Ok((p, repeated)) => {
            errors.extend(repeated);
            Some(p)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let files: Vec<Parsed> = tf
        .iter()
        .enumerate()
        .filter_map(|(i, s)| parse(i, s))
        .collect();
    let mut order: Vec<usize> = (0..tfvars.len()).collect();
    order.sort_by_key(|&i| (!is_terraform_tfvars(&tfvars[i].path), &tfvars[i].path));
    let vars: Vec<Parsed> = order
        .into_iter()
        .filter_map(|i| parse(tf.len() + i, &tfvars[i]))
        .collect();
    let root = module::document(&files, &vars, bindings);
    drop((files, vars));
    let positions = Rc::try_unwrap(positions).map_or_else(
        |_| unreachable!("the sources are dropped"),
        PositionsBuilder::finish,
    );
    (root, errors, positions)
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

/// Plan `format_version`s whose shape this reader knows: 0.x and 1.x (Terraform keeps 1.x
/// backward compatible and changes the major version on a breaking change).
const KNOWN_PLAN_MAJORS: &[&str] = &["0", "1"];

/// A notice for a plan whose `format_version` is not one the reader knows.
fn unknown_format(plan: &Node, tree: &super::TreeInfo) -> Option<super::NotEvaluated> {
    let version = plan.get("format_version")?;
    let text = match &version.value {
        crate::doc::Value::Str(s) => s.inner().to_string(),
        _ => version.to_json().to_string(),
    };
    let major = text.split('.').next().unwrap_or("");
    (!KNOWN_PLAN_MAJORS.contains(&major)).then(|| super::NotEvaluated {
        path: tree.display.clone(),
        start: tree.added.borrow().positions.start(version.span),
        end: tree.added.borrow().positions.end(version.span),
        what: "format_version".into(),
        via: Vec::new(),
        message: format!(
            "plan format_version {text} is not one isms-lint knows (0.x, 1.x): its resources were read as 1.x, and what the newer format changed was not evaluated"
        ),
    })
}

fn is_terraform_tfvars(path: &str) -> bool {
    path.rsplit(['/', '\\']).next() == Some("terraform.tfvars")
}

/// Parses one file, numbered `index` in the document, with the object keys it repeats
/// (non-fatal errors: the last value is kept).
fn parse_file(
    index: usize,
    file: &SourceText,
    positions: Rc<PositionsBuilder>,
) -> Result<(Parsed, Vec<ModuleError>), ModuleError> {
    let src = Source::new(
        u32::try_from(index).unwrap_or(u32::MAX),
        &file.text,
        positions,
    );
    let parsed = std::panic::catch_unwind(|| {
        let body = parse_body(&src.text);
        (body, hcl_edit::parser::redefined::take())
    });
    match parsed {
        Ok((Ok(body), mut repeated)) => {
            repeated.sort_by_key(|r| (r.start, r.end));
            repeated.dedup();
            let repeated = repeated
                .into_iter()
                .map(|r| ModuleError {
                    file: index,
                    pos: src.pos(r.start),
                    message: format!(
                        "object key '{}' is written twice; the last value is used, as Terraform does",
                        src.slice(Some(r)).unwrap_or("?")
                    ),
                    fatal: false,
                })
                .collect();
            Ok((Parsed { src, body }, repeated))
        }
        Ok((Err(e), _)) => Err(ModuleError {
            file: index,
            pos: Pos::new(to_u32(e.location().line()), to_u32(e.location().column())),
            message: e.message().to_string(),
            fatal: true,
        }),
        Err(_) => Err(ModuleError {
            file: index,
            pos: Pos::new(1, 1),
            message: "the HCL parser failed on this file".into(),
            fatal: true,
        }),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Terraform modules (every `*.tf` of a directory, with its tfvars) and plans.
pub struct Terraform;

/// The one instance the registry lists.
pub static INPUT: Terraform = Terraform;

const HELPERS: &[Helper] = &[
    Helper { name: "referrers", signature: "referrers(doc, item, type, attr) -> list<map>", doc: "Terraform: resources of `type` whose `attr` refers to the resource `item` (by address, e.g. `bucket = aws_s3_bucket.logs.id`, or by the same literal name) — for the split resources of AWS provider v4+.", arity: 4, function: referrers, gate: HelperGate::None },
];

/// Whether the file is a Terraform source (`*.tf`, any case).
fn is_tf(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".tf")
}

/// Whether the file holds variable values Terraform loads by itself.
fn is_vars(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "terraform.tfvars" || lower.ends_with(".auto.tfvars")
}

impl Input for Terraform {
    fn name(&self) -> &'static str {
        "terraform"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Terraform, Kind::TerraformPlan]
    }

    fn patterns(&self) -> &'static [&'static str] {
        &["*.tf", "*.tfvars"]
    }

    fn managed_dirs(&self) -> &'static [&'static str] {
        &[".terraform"]
    }

    fn claim(&self, path: &Path) -> Option<Unit> {
        let name = super::file_name(path);
        let lower = name.to_ascii_lowercase();
        (is_tf(&name) || lower.ends_with(".tfvars")).then(|| {
            Unit::Directory(
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| std::path::PathBuf::from("."), Path::to_path_buf),
            )
        })
    }

    fn read(&self, source: &super::Source<'_>) -> Read {
        let super::Source::Directory { path, display, .. } = source else {
            return Read::default();
        };
        read_module(path, display)
    }

    fn recognize(&self, _path: &Path, format: TreeFormat, root: &Node) -> Option<Kind> {
        (format == TreeFormat::Json
            && root.get("format_version").is_some()
            && (root.get("planned_values").is_some() || root.get("resource_changes").is_some()))
        .then_some(Kind::TerraformPlan)
    }

    fn documents(
        &self,
        _kind: Kind,
        root: Node,
        name: String,
        tree: &super::TreeInfo,
    ) -> Vec<(String, Node)> {
        let Some(plan) = plan_document(&root) else {
            return vec![(name, root)];
        };
        if let Some(notice) = unknown_format(&root, tree) {
            tree.added.borrow_mut().not_evaluated.push(notice);
        }
        vec![(name, plan_source::locate(plan, tree))]
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
    }

    fn resources<'a>(&self, doc: &'a MapNode) -> Option<Resources<'a>> {
        let tf = doc.get("resource")?;
        let by_type = tf.as_map().into_iter().flat_map(|m| m.iter());
        Some(Box::new(by_type.flat_map(|(t, e)| {
            e.value
                .as_map()
                .into_iter()
                .flat_map(|m| m.iter())
                .filter(|(_, r)| r.value.as_map().is_some())
                .map(move |(_, r)| (Some(t), &r.value))
        })))
    }

    fn fence(&self, _path: &Path) -> &'static str {
        "hcl"
    }
}

/// Reads the module in `dir`: every `*.tf` file plus `terraform.tfvars` and `*.auto.tfvars`,
/// shown through `display`; then the modules it calls, each as a document of its own (see
/// [`calls`](self::calls)).
pub fn read_module(dir: &Path, display: &dyn Fn(&Path) -> String) -> Read {
    let files = module_files(dir, display, true);
    let mut read = Read {
        errors: files.errors,
        ..Read::default()
    };
    read.sources = files
        .tf
        .iter()
        .chain(&files.tfvars)
        .map(|s| SourceFile {
            path: s.path.clone(),
            text: s.text.clone(),
            comments: true,
        })
        .collect();
    if files.tf.is_empty() {
        return read;
    }
    let (root, errors, positions) = parse_module(&files.tf, &files.tfvars);
    push_module_errors(&mut read, errors, &files.tf, &files.tfvars, &display(dir));
    read.documents.push(Document {
        kind: Kind::Terraform,
        root,
        name: String::new(),
        files: files.tf.iter().map(|s| s.path.clone()).collect(),
        via: Vec::new(),
        positions: Arc::new(positions),
    });
    calls::follow(&mut read, dir, display);
    read
}

/// The files of one module directory.
struct ModuleFiles {
    /// `*.tf`, in path order.
    tf: Vec<SourceText>,
    /// `terraform.tfvars` and `*.auto.tfvars`, in path order.
    tfvars: Vec<SourceText>,
    /// Files that could not be read.
    errors: Vec<ParseError>,
}

/// Reads the `.tf` files of `dir` (and its tfvars files when `with_vars`).
fn module_files(dir: &Path, display: &dyn Fn(&Path) -> String, with_vars: bool) -> ModuleFiles {
    let mut out = ModuleFiles {
        tf: Vec::new(),
        tfvars: Vec::new(),
        errors: Vec::new(),
    };
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        let name = super::file_name(&p);
        if !(is_tf(&name) || (with_vars && is_vars(&name))) || !p.is_file() {
            continue;
        }
        let shown = display(&p);
        let text = match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    out.errors.push(ParseError {
                        path: shown,
                        pos: Pos::new(1, 1),
                        message: "file is not valid UTF-8".into(),
                        detected: true,
                    });
                    continue;
                }
            },
            Err(e) => {
                out.errors.push(ParseError {
                    path: shown,
                    pos: Pos::new(1, 1),
                    message: format!("cannot read: {e}"),
                    detected: true,
                });
                continue;
            }
        };
        let src = SourceText { path: shown, text };
        if is_tf(&name) {
            out.tf.push(src);
        } else {
            out.tfvars.push(src);
        }
    }
    out
}

/// Reads one text as a module of one `.tf` file (`--kind terraform`, standard input): no
/// tfvars, no module calls followed.
pub fn read_text(display: &str, text: &str) -> Read {
    let tf = vec![SourceText {
        path: display.to_string(),
        text: text.to_string(),
    }];
    let mut read = Read {
        sources: vec![SourceFile {
            path: display.to_string(),
            text: text.to_string(),
            comments: true,
        }],
        ..Read::default()
    };
    let (root, errors, positions) = parse_module(&tf, &[]);
    push_module_errors(&mut read, errors, &tf, &[], display);
    read.documents.push(Document {
        kind: Kind::Terraform,
        root,
        name: String::new(),
        files: vec![display.to_string()],
        via: Vec::new(),
        positions: Arc::new(positions),
    });
    read
}

/// Puts a module's errors into `read`, each at its file's display path (`dir` when none):
/// fatal ones (the file was left out) as parse errors, the others (a repeated key, whose last
/// value is kept) as warnings.
fn push_module_errors(
    read: &mut Read,
    errors: Vec<ModuleError>,
    tf: &[SourceText],
    tfvars: &[SourceText],
    dir: &str,
) {
    for e in errors {
        let path = tf
            .get(e.file)
            .or_else(|| tfvars.get(e.file.saturating_sub(tf.len())))
            .map(|s| s.path.clone())
            .unwrap_or_else(|| dir.to_string());
        if e.fatal {
            read.errors.push(ParseError {
                path,
                pos: e.pos,
                message: e.message,
                detected: true,
            });
        } else {
            read.warnings.push(crate::doc::ParseWarning {
                path,
                start: e.pos,
                end: e.pos,
                message: e.message,
            });
        }
    }
}

fn referrers<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "referrers")?;
    let item = arg_map(&args, 1, "referrers")?;
    let wanted = arg_str(&args, 2, "referrers")?;
    let attr = arg_str(&args, 3, "referrers")?;
    let (Some(doc), Some(item)) = (doc, item) else {
        return list_of(Vec::new());
    };
    let address = item.get("_address").and_then(text_of).unwrap_or("");
    // A plan's instance (`aws_s3_bucket.b[0]`) is also named by its resource (`aws_s3_bucket.b`),
    // which is what `configuration` references say for `count` and `for_each`.
    let base = plan::without_keys(address);
    let names: Vec<&str> = ["bucket", "name", "id"]
        .iter()
        .filter_map(|k| item.get(k).and_then(Node::as_str))
        .collect();
    // Terraform only: a CloudFormation template has no `resource` block.
    let terraform = doc.get("resource").is_some();
    let mut walked = 0;
    let hits = super::resource_nodes(doc)
        .inspect(|_| walked += 1)
        .filter(|(t, _)| terraform && (wanted == "*" || *t == Some(wanted)))
        .map(|(_, r)| r.clone())
        .filter(|r| {
            r.get(attr).and_then(text_of).is_some_and(|v| {
                names.contains(&v)
                    || (!address.is_empty() && refers_to(r, v, address))
                    || (base != address && !base.is_empty() && refers_to(r, v, &base))
            })
        })
        .collect();
    charge(walked)?;
    list_of(hits)
}

/// Whether the value `v` of an attribute of the resource `r` names the resource at `address`:
/// `aws_s3_bucket.b.id`, an instance of it (`aws_s3_bucket.b[0].id`,
/// `aws_s3_bucket.b[each.key].id`), or, in a resource whose `for_each` is that resource,
/// `each.value.id` / `each.key`.
fn refers_to(r: &Node, v: &str, address: &str) -> bool {
    let names_it = |text: &str| {
        text.match_indices(address).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + address.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && matches!(after, None | Some('.' | '['))
        })
    };
    if names_it(v) {
        return true;
    }
    let iterated = v == "each.key" || v.starts_with("each.value");
    iterated && r.get("for_each").and_then(text_of).is_some_and(names_it)
}
