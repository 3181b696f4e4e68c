//! The YAML/JSON reader: `*.yaml`, `*.yml` and `*.json` files parsed into spanned documents,
//! each offered to the inputs in registry order (a workflow, a Kubernetes object, a template…).
//! A document no input recognises is a generic `yaml` or `json` document, judged only by rules
//! that name its files.

use std::path::Path;

use super::{
    registry, Document, Input, Kind, Read, Source, SourceFile, TreeFormat, TreeInfo, Unit,
};
use crate::doc::{yaml, ParseError, ParseWarning, Pos, Value};

/// The YAML/JSON reader.
pub struct YamlJson;

/// The one instance the registry lists.
pub static INPUT: YamlJson = YamlJson;

/// The syntax of a file, by its extension.
fn format_of(path: &Path) -> Option<TreeFormat> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "yaml" | "yml" => Some(TreeFormat::Yaml),
        "json" => Some(TreeFormat::Json),
        _ => None,
    }
}

impl Input for YamlJson {
    fn name(&self) -> &'static str {
        "yaml-json"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Yaml, Kind::Json]
    }

    fn patterns(&self) -> &'static [&'static str] {
        &["*.yaml", "*.yml", "*.json"]
    }

    fn claim(&self, path: &Path) -> Option<Unit> {
        format_of(path).map(|_| Unit::File)
    }

    fn read(&self, source: &Source<'_>) -> Read {
        let Source::File {
            path,
            display,
            text,
        } = source
        else {
            return Read::default();
        };
        let format = format_of(path).unwrap_or(TreeFormat::Yaml);
        let mut read = Read {
            sources: vec![SourceFile {
                path: display.to_string(),
                text: text.to_string(),
                comments: format == TreeFormat::Yaml,
            }],
            ..Read::default()
        };
        let parsed = check_json(display, format, text).and_then(|()| {
            yaml::parse(text).map_err(|e| ParseError {
                path: display.to_string(),
                pos: e.pos,
                message: e.message,
            })
        });
        let mut stream = match parsed {
            Ok(s) => s,
            Err(e) => {
                read.errors.push(e);
                return read;
            }
        };
        let multi = stream.documents.len() > 1;
        let info = TreeInfo {
            yaml11_plain: std::mem::take(&mut stream.yaml11_plain),
            path: path.to_path_buf(),
            display: display.to_string(),
            added: std::cell::RefCell::default(),
        };
        for (i, root) in std::mem::take(&mut stream.documents)
            .into_iter()
            .enumerate()
        {
            if matches!(root.value, Value::Null) {
                continue;
            }
            let Some(kind) = registry()
                .iter()
                .find_map(|input| input.recognize(path, format, &root))
            else {
                continue;
            };
            let fallback = if multi {
                format!("#{i}")
            } else {
                String::new()
            };
            for (name, root) in kind.input().documents(kind, root, fallback, &info) {
                let added = info.added.borrow();
                read.documents.push(Document {
                    kind,
                    root,
                    name,
                    files: std::iter::once(display.to_string())
                        .chain(added.files.iter().cloned())
                        .collect(),
                    via: Vec::new(),
                });
            }
        }
        read.not_evaluated = std::mem::take(&mut info.added.borrow_mut().not_evaluated);
        read.warnings = stream
            .warnings
            .into_iter()
            .map(|w| ParseWarning {
                path: display.to_string(),
                span: w.span,
                message: w.message,
            })
            .collect();
        read
    }

    fn recognize(
        &self,
        _path: &Path,
        format: TreeFormat,
        _root: &crate::doc::Node,
    ) -> Option<Kind> {
        Some(match format {
            TreeFormat::Json => Kind::Json,
            TreeFormat::Yaml => Kind::Yaml,
        })
    }

    fn fence(&self, path: &Path) -> &'static str {
        match format_of(path) {
            Some(TreeFormat::Json) => "json",
            _ => "yaml",
        }
    }

    fn generic(&self) -> bool {
        true
    }
}

/// JSON is read by the YAML parser (for spans), which accepts more than JSON does: check the
/// syntax strictly first, so `// comments` or trailing garbage are reported at their position.
fn check_json(display: &str, format: TreeFormat, text: &str) -> Result<(), ParseError> {
    if format != TreeFormat::Json {
        return Ok(());
    }
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

/// Reads one YAML or JSON file's text as the reader does (tests and fuzzing use this).
pub fn read_text(path: &Path, display: &str, text: &str) -> Read {
    INPUT.read(&Source::File {
        path,
        display,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_lists_become_objects() {
        let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: b, namespace: x}\n";
        let read = read_text(Path::new("l.yaml"), "l.yaml", text);
        let names: Vec<_> = read.documents.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["Pod/a", "Pod/x/b"]);
        assert!(read.documents.iter().all(|d| d.kind == Kind::Kubernetes));
    }

    #[test]
    fn generic_yaml_and_workflows() {
        let wf = read_text(
            Path::new(".github/workflows/ci.yml"),
            ".github/workflows/ci.yml",
            "on: push\njobs: {}\n",
        );
        assert_eq!(wf.documents[0].kind, Kind::GithubWorkflow);
        let other = read_text(Path::new("x.yaml"), "x.yaml", "a: 1\n");
        assert_eq!(other.documents[0].kind, Kind::Yaml);
        assert!(other.sources[0].comments);
        let json = read_text(Path::new("x.JSON"), "x.JSON", "{\"a\": 1}");
        assert_eq!(json.documents[0].kind, Kind::Json);
        assert!(!json.sources[0].comments);
    }

    #[test]
    fn syntax_errors_carry_position() {
        let read = read_text(Path::new("x.yaml"), "x.yaml", "a: 1\nb: [\n");
        assert_eq!(read.errors[0].path, "x.yaml");
        assert!(read.errors[0].pos.line >= 2);
        let json = read_text(Path::new("x.json"), "x.json", "{\"a\": 1} // no");
        assert!(json.errors[0].message.starts_with("invalid JSON"));
    }
}
