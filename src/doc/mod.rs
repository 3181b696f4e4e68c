//! Parsing: file text into spanned documents of a known kind. Knows nothing of rules.

pub mod cloudformation;
pub mod dockerfile;
pub mod kind;
pub mod reads;
pub mod repository;
pub mod terraform;
pub mod tree;
pub mod yaml;

use std::path::Path;

pub use kind::{Format, Kind};
pub use tree::{ChoiceNode, ListNode, MapBuilder, MapNode, Node, NodeId, Pos, Span, Value};

/// One document a rule judges: a Kubernetes object, a workflow file, a Terraform module…
#[derive(Debug, Clone)]
pub struct Document {
    /// What it is.
    pub kind: Kind,
    /// Its content, with spans.
    pub root: Node,
    /// Logical name inside its file (`Deployment/prod/web`, `#2`), empty for whole-file documents.
    /// Part of finding fingerprints, so it must not depend on line numbers.
    pub name: String,
    /// Files the spans refer to (`Span::file` indexes this list); display paths.
    pub files: Vec<String>,
}

/// Why a file could not be read as a document, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Display path of the file.
    pub path: String,
    /// Where the parser stopped (1-based).
    pub pos: Pos,
    /// What went wrong.
    pub message: String,
}

/// Something readable but suspicious that the reader noticed (e.g. a repeated key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// Display path of the file.
    pub path: String,
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
}

/// The documents read from one file.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// Documents in file order.
    pub documents: Vec<Document>,
    /// Non-fatal reader findings.
    pub warnings: Vec<ParseWarning>,
}

/// Whether isms-lint reads files of this format in this build.
pub fn is_supported(format: Format) -> bool {
    matches!(
        format,
        Format::Yaml | Format::Json | Format::Hcl | Format::Dockerfile
    )
}

/// Reads a Terraform module: every `*.tf` file of `dir` plus `terraform.tfvars` and
/// `*.auto.tfvars`, shown through `display`. Returns the document, the texts read (for inline
/// suppressions) and, on failure, a parse error located in the right file.
pub fn parse_terraform_module(
    dir: &Path,
    display: &dyn Fn(&Path) -> String,
) -> (Option<Document>, Vec<(String, String)>, Option<ParseError>) {
    let mut tf = Vec::new();
    let mut tfvars = Vec::new();
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_tf = name.ends_with(".tf");
        let is_vars = name == "terraform.tfvars" || name.ends_with(".auto.tfvars");
        if !(is_tf || is_vars) || !p.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let src = terraform::SourceText {
            path: display(&p),
            text,
        };
        if is_tf {
            tf.push(src);
        } else {
            tfvars.push(src);
        }
    }
    let texts: Vec<(String, String)> = tf
        .iter()
        .map(|s| (s.path.clone(), s.text.clone()))
        .collect();
    match terraform::parse_module(&tf, &tfvars) {
        Ok(root) => (
            Some(Document {
                kind: Kind::Terraform,
                root,
                name: String::new(),
                files: tf.iter().map(|s| s.path.clone()).collect(),
            }),
            texts,
            None,
        ),
        Err(e) => {
            let path = tf
                .get(e.file)
                .or_else(|| tfvars.get(e.file.saturating_sub(tf.len())))
                .map(|s| s.path.clone())
                .unwrap_or_else(|| display(dir));
            (
                None,
                texts,
                Some(ParseError {
                    path,
                    pos: e.pos,
                    message: e.message,
                }),
            )
        }
    }
}

/// Parses the text of `path` (shown as `display`) into documents.
pub fn parse_file(path: &Path, display: &str, text: &str) -> Result<ParsedFile, ParseError> {
    let Some(format) = kind::format_of(path) else {
        return Ok(ParsedFile::default());
    };
    match format {
        Format::Yaml | Format::Json => parse_yaml_file(path, display, format, text),
        Format::Dockerfile => match dockerfile::parse(text) {
            Ok(root) => Ok(ParsedFile {
                documents: vec![Document {
                    kind: Kind::Dockerfile,
                    root,
                    name: String::new(),
                    files: vec![display.to_string()],
                }],
                warnings: Vec::new(),
            }),
            Err(e) => Err(ParseError {
                path: display.to_string(),
                pos: e.pos,
                message: e.message,
            }),
        },
        _ => Ok(ParsedFile::default()),
    }
}

fn parse_yaml_file(
    path: &Path,
    display: &str,
    format: Format,
    text: &str,
) -> Result<ParsedFile, ParseError> {
    if format == Format::Json {
        check_json(display, text)?;
    }
    let stream = yaml::parse(text).map_err(|e| ParseError {
        path: display.to_string(),
        pos: e.pos,
        message: e.message,
    })?;
    let multi = stream.documents.len() > 1;
    let mut documents = Vec::new();
    for (i, root) in stream.documents.into_iter().enumerate() {
        if matches!(root.value, Value::Null) {
            continue;
        }
        let kind = kind::detect(path, format, &root);
        let fallback = if multi {
            format!("#{i}")
        } else {
            String::new()
        };
        if kind == Kind::Kubernetes && is_k8s_list(&root) {
            let items = root.get("items").and_then(Node::as_list).cloned();
            for (j, item) in items.iter().flat_map(|l| l.items()).enumerate() {
                if item.as_map().is_some() {
                    documents.push(Document {
                        kind: Kind::Kubernetes,
                        name: k8s_name(item).unwrap_or_else(|| format!("{fallback}items[{j}]")),
                        root: item.clone(),
                        files: vec![display.to_string()],
                    });
                }
            }
            continue;
        }
        let name = match kind {
            Kind::Kubernetes => k8s_name(&root).unwrap_or(fallback),
            _ => fallback,
        };
        let root = match kind {
            Kind::TerraformPlan => terraform::plan_document(&root).unwrap_or(root),
            Kind::Cloudformation => cloudformation::normalize(&root),
            _ => root,
        };
        documents.push(Document {
            kind,
            root,
            name,
            files: vec![display.to_string()],
        });
    }
    let warnings = stream
        .warnings
        .into_iter()
        .map(|w| ParseWarning {
            path: display.to_string(),
            span: w.span,
            message: w.message,
        })
        .collect();
    Ok(ParsedFile {
        documents,
        warnings,
    })
}

/// JSON is read by the YAML parser (for spans), which accepts more than JSON does: check the
/// syntax strictly first, so `// comments` or trailing garbage are reported at their position.
fn check_json(display: &str, text: &str) -> Result<(), ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            Err(ParseError {
                path: display.to_string(),
                pos: Pos::new(e.line().max(1) as u32, e.column().max(1) as u32),
                message: format!("invalid JSON: {message}"),
            })
        }
    }
}

fn is_k8s_list(root: &Node) -> bool {
    root.get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && root.get("items").and_then(Node::as_list).is_some()
}

/// `Kind/namespace/name` of a Kubernetes object, when it has a name.
fn k8s_name(obj: &Node) -> Option<String> {
    let kind = obj.get("kind").and_then(Node::as_str)?;
    let meta = obj.get("metadata")?;
    let name = meta
        .get("name")
        .or_else(|| meta.get("generateName"))
        .and_then(Node::as_str)?;
    Some(match meta.get("namespace").and_then(Node::as_str) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_lists_become_objects() {
        let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: b, namespace: x}\n";
        let parsed = parse_file(Path::new("l.yaml"), "l.yaml", text).unwrap();
        let names: Vec<_> = parsed.documents.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["Pod/a", "Pod/x/b"]);
        assert!(parsed.documents.iter().all(|d| d.kind == Kind::Kubernetes));
    }

    #[test]
    fn generic_yaml_and_workflows() {
        let wf = parse_file(
            Path::new(".github/workflows/ci.yml"),
            ".github/workflows/ci.yml",
            "on: push\njobs: {}\n",
        )
        .unwrap();
        assert_eq!(wf.documents[0].kind, Kind::GithubWorkflow);
        let other = parse_file(Path::new("x.yaml"), "x.yaml", "a: 1\n").unwrap();
        assert_eq!(other.documents[0].kind, Kind::Yaml);
    }

    #[test]
    fn syntax_errors_carry_position() {
        let err = parse_file(Path::new("x.yaml"), "x.yaml", "a: 1\nb: [\n").unwrap_err();
        assert_eq!(err.path, "x.yaml");
        assert!(err.pos.line >= 2);
    }
}
