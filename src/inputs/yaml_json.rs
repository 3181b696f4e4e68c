//! The YAML/JSON reader: `*.yaml`, `*.yml` and `*.json` files parsed into spanned documents,
//! each offered to the inputs in registry order (a workflow, a Kubernetes object, a template…).
//! A document no input recognises is a generic `yaml` or `json` document, judged only by rules
//! that name its files.

use std::borrow::Cow;
use std::path::Path;

use super::{
    registry, Added, Document, Input, Kind, Read, Source, SourceFile, TreeFormat, TreeInfo, Unit,
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
        "json" | "jsonc" => Some(TreeFormat::Json),
        _ => None,
    }
}

/// Whether a JSON file is one whose tools read it as JSON with comments (and trailing commas):
/// `*.jsonc`, `tsconfig*.json`, `jsconfig*.json`, `devcontainer.json`, `.devcontainer/*.json`,
/// `.vscode/*.json`, `.eslintrc.json`, `tslint.json`, `language-configuration.json`.
pub fn allows_comments(path: &Path) -> bool {
    let name = super::file_name(path).to_ascii_lowercase();
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".jsonc")
        || ((name.starts_with("tsconfig") || name.starts_with("jsconfig"))
            && name.ends_with(".json"))
        || matches!(
            name.as_str(),
            "devcontainer.json"
                | ".devcontainer.json"
                | ".eslintrc.json"
                | "tslint.json"
                | "language-configuration.json"
        )
        || matches!(parent.as_str(), ".vscode" | ".devcontainer")
}

impl Input for YamlJson {
    fn name(&self) -> &'static str {
        "yaml-json"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Yaml, Kind::Json]
    }

    fn patterns(&self) -> &'static [&'static str] {
        &["*.yaml", "*.yml", "*.json", "*.jsonc"]
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
        read_as(path, display, text, None)
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

/// Reads a YAML or JSON text; with `forced`, every document is of that kind (`--kind`, the
/// config's `kinds:`) whatever its content, otherwise the inputs recognise each in turn. The
/// syntax is JSON for `*.json`/`*.jsonc` names, else YAML.
pub fn read_as(path: &Path, display: &str, text: &str, forced: Option<Kind>) -> Read {
    let format = match forced {
        Some(Kind::Json) => TreeFormat::Json,
        _ => format_of(path).unwrap_or(TreeFormat::Yaml),
    };
    let comments = format == TreeFormat::Yaml;
    let mut read = Read {
        sources: vec![SourceFile {
            path: display.to_string(),
            // Only suppression comments read the text again: a JSON file's is not kept.
            text: if comments {
                text.to_string()
            } else {
                String::new()
            },
            comments,
        }],
        ..Read::default()
    };
    let detected = forced.is_some() || registry().iter().any(|i| i.sniff(path, text));
    let texts = match format {
        TreeFormat::Json => json_values(path, display, text),
        TreeFormat::Yaml => Ok(vec![Cow::Borrowed(text)]),
    };
    let mut streams = Vec::new();
    let mut added = Added::default();
    added
        .positions
        .add_text(text.strip_prefix('\u{feff}').unwrap_or(text));
    let parsed = texts.and_then(|texts| {
        for t in texts {
            streams.push(
                yaml::parse_in(&t, &added.positions, 0).map_err(|e| ParseError {
                    path: display.to_string(),
                    pos: e.pos,
                    message: e.message,
                    detected,
                })?,
            );
        }
        Ok(())
    });
    if let Err(mut e) = parsed {
        e.detected = detected;
        read.errors.push(e);
        return read;
    }
    let total: usize = streams.iter().map(|s| s.documents.len()).sum();
    let multi = total > 1;
    let mut index = 0;
    let mut warnings = Vec::new();
    for mut stream in streams {
        let info = TreeInfo {
            yaml11_plain: std::mem::take(&mut stream.yaml11_plain),
            path: path.to_path_buf(),
            display: display.to_string(),
            added: std::cell::RefCell::new(std::mem::take(&mut added)),
        };
        for root in std::mem::take(&mut stream.documents) {
            let i = index;
            index += 1;
            if matches!(root.value, Value::Null) {
                continue;
            }
            let kind = match forced {
                Some(k) => Some(k),
                None => registry()
                    .iter()
                    .find_map(|input| input.recognize(path, format, &root)),
            };
            let Some(kind) = kind else {
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
                    positions: std::sync::Arc::default(),
                });
            }
        }
        added = info.added.into_inner();
        read.not_evaluated.append(&mut added.not_evaluated);
        warnings.extend(stream.warnings);
    }
    // Every document of the file shares its position table.
    let positions = std::sync::Arc::new(added.positions.finish());
    for d in &mut read.documents {
        d.positions = positions.clone();
    }
    read.warnings
        .extend(warnings.into_iter().map(|w| ParseWarning {
            path: display.to_string(),
            start: positions.start(w.span),
            end: positions.end(w.span),
            message: w.message,
        }));
    read
}

/// The JSON values of a file, each as a text of the same shape (every other value blanked, so
/// lines and columns stay those of the file) for the YAML parser to read with spans. The syntax
/// is checked strictly first, since the YAML parser accepts more than JSON does. Comments and
/// trailing commas are blanked first in files that allow them ([`allows_comments`]); an empty
/// file has no value; several values one after the other (`{…}\n{…}`, as kubectl reads them)
/// are several documents.
fn json_values<'t>(
    path: &Path,
    display: &str,
    text: &'t str,
) -> Result<Vec<Cow<'t, str>>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = if allows_comments(path) {
        Cow::Owned(blank_jsonc(text))
    } else {
        Cow::Borrowed(text)
    };
    let mut ranges = Vec::new();
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(v) = values.next() {
        let end = values.byte_offset();
        if let Err(e) = v {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            return Err(ParseError {
                path: display.to_string(),
                pos: Pos::new(e.line().max(1) as u32, e.column().max(1) as u32),
                message: format!("invalid JSON: {message}"),
                detected: false,
            });
        }
        ranges.push(start..end);
        start = end;
    }
    if ranges.len() <= 1 {
        return Ok(vec![text]);
    }
    Ok(ranges
        .into_iter()
        .map(|r| {
            Cow::Owned(
                text.char_indices()
                    .map(|(i, c)| if r.contains(&i) || c == '\n' { c } else { ' ' })
                    .collect(),
            )
        })
        .collect())
}

/// JSON with comments as plain JSON of the same shape: `//` and `/* */` comments and trailing
/// commas become spaces (line breaks kept), so positions do not move.
fn blank_jsonc(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut comma: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '"' => {
                comma = None;
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    match chars[i] {
                        '\\' if i + 1 < chars.len() => {
                            out.push(chars[i + 1]);
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                out.extend([' ', ' ']);
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
                if i < chars.len() {
                    out.extend([' ', ' ']);
                    i += 2;
                }
                continue;
            }
            ',' => comma = Some(out.len()),
            '}' | ']' => {
                if let Some(at) = comma.take() {
                    out[at] = ' ';
                }
            }
            c if c.is_whitespace() => {}
            _ => comma = None,
        }
        out.push(c);
        i += 1;
    }
    out.into_iter().collect()
}

/// Reads one YAML or JSON file's text as the reader does (tests and fuzzing use this).
pub fn read_text(path: &Path, display: &str, text: &str) -> Read {
    read_as(path, display, text, None)
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
        assert_eq!(other.sources[0].text, "a: 1\n", "kept for suppressions");
        let json = read_text(Path::new("x.JSON"), "x.JSON", "{\"a\": 1}");
        assert_eq!(json.documents[0].kind, Kind::Json);
        assert!(!json.sources[0].comments);
        assert_eq!(json.sources[0].text, "", "a JSON text is not kept");
    }

    #[test]
    fn syntax_errors_carry_position() {
        let read = read_text(Path::new("x.yaml"), "x.yaml", "a: 1\nb: [\n");
        assert_eq!(read.errors[0].path, "x.yaml");
        assert!(read.errors[0].pos.line >= 2);
        let json = read_text(Path::new("x.json"), "x.json", "{\"a\": 1} // no");
        assert!(json.errors[0].message.starts_with("invalid JSON"));
        assert!(!json.errors[0].detected, "a generic JSON file");
        let k8s = read_text(
            Path::new("x.yaml"),
            "x.yaml",
            "apiVersion: v1\nkind: Pod\nb: [\n",
        );
        assert!(k8s.errors[0].detected, "looks like a Kubernetes object");
    }

    #[test]
    fn jsonc_empty_files_and_json_streams() {
        let text = "{\n  // a comment\n  \"compilerOptions\": {\"strict\": true, /* x */},\n  \"b\": [1, 2,],\n}\n";
        let read = read_text(Path::new("tsconfig.base.json"), "tsconfig.base.json", text);
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let doc = &read.documents[0].root;
        let at = &read.documents[0].positions;
        assert_eq!(at.start(doc.get("b").unwrap().span), Pos::new(4, 8));
        // The same text in a file whose tools want strict JSON is an error at the comment.
        let strict = read_text(Path::new("package.json"), "package.json", text);
        assert_eq!(strict.errors[0].pos.line, 2);
        for (name, empty) in [("e.json", ""), ("e.yaml", ""), ("w.json", "  \n\n")] {
            let read = read_text(Path::new(name), name, empty);
            assert!(
                read.errors.is_empty() && read.documents.is_empty(),
                "{name}"
            );
        }
        let stream = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}\n{\"apiVersion\": \"v1\",\n \"kind\": \"Secret\"}\n";
        let read = read_text(Path::new("list.json"), "list.json", stream);
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let kinds: Vec<_> = read
            .documents
            .iter()
            .map(|d| d.positions.start(d.root.get("kind").unwrap().span))
            .collect();
        assert_eq!(kinds, [Pos::new(1, 30), Pos::new(3, 10)]);
        assert!(read.documents.iter().all(|d| d.kind == Kind::Kubernetes));
    }
}
