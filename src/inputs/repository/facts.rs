//! The repository as a document: the facts a reviewer or auditor checks by hand — CODEOWNERS,
//! security policy, dependency-update configuration against the ecosystems present, ignore
//! patterns, workflows and their triggers, committed key or env files.
//!
//! Findings about something missing point at line 1 of an existing file (the README when there
//! is one), which GitHub code scanning accepts as a location.

use std::path::Path;

use cel::common::types::CelBool;

use crate::doc::{yaml, ListNode, MapBuilder, Node, Pos, Positions, PositionsBuilder, Span, Value};
use crate::inputs::github::is_workflow_path;
use crate::inputs::{Document, Kind};

/// Most files listed; larger trees are truncated (the count is still given).
const MAX_FILES: usize = 200_000;

/// Dependency ecosystems, the manifests that reveal them, and Dependabot's name for each.
const ECOSYSTEMS: &[(&str, &[&str])] = &[
    ("cargo", &["Cargo.toml"]),
    ("npm", &["package.json"]),
    ("gomod", &["go.mod"]),
    (
        "pip",
        &[
            "requirements.txt",
            "pyproject.toml",
            "setup.py",
            "Pipfile",
            "setup.cfg",
        ],
    ),
    ("maven", &["pom.xml"]),
    ("gradle", &["build.gradle", "build.gradle.kts"]),
    ("bundler", &["Gemfile"]),
    ("composer", &["composer.json"]),
    ("nuget", &[".csproj", "packages.config"]),
    ("docker", &["Dockerfile", "Containerfile"]),
    ("terraform", &[".tf"]),
];

struct Builder {
    files: Vec<String>,
    shown: Vec<String>,
    /// The document's position table: one file per entry of `files`, whose text is not kept,
    /// so every position the facts point at is pinned.
    positions: PositionsBuilder,
}

impl Builder {
    /// Index of `rel` in the document's file list (added on first use).
    fn file_index(&mut self, rel: &str, display: &str) -> u32 {
        if let Some(i) = self.files.iter().position(|f| f == rel) {
            return i as u32;
        }
        self.files.push(rel.to_string());
        self.shown.push(display.to_string());
        self.positions.add_file()
    }

    /// The first character of line `line` of file `file`.
    fn line_span(&self, file: u32, line: u32) -> Span {
        self.positions
            .span(file, Pos::new(line, 1), Pos::new(line, 2))
    }
}

fn text(s: &str, span: Span) -> Node {
    Node::string(s, span)
}

fn boolean(b: bool, span: Span) -> Node {
    Node::new(Value::Bool(CelBool::from(b)), span)
}

fn list(items: Vec<Node>, span: Span) -> Node {
    Node::new(Value::List(ListNode::new(items, span)), span)
}

fn map(fields: Vec<(&str, Node)>, span: Span) -> Node {
    let mut b = MapBuilder::new();
    for (k, v) in fields {
        let ks = v.span;
        b.insert(k.to_string(), ks, v);
    }
    Node::new(Value::Map(b.finish(span)), span)
}

fn null(span: Span) -> Node {
    Node::new(Value::Null, span)
}

fn name_of(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Whether a scanned directory stands for a repository: it has `.git`, a README,
/// a `.gitignore`, a licence or CODEOWNERS. Sub-directories of configuration (`k8s/`) are not judged as
/// repositories.
pub fn is_repository_root(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let n = e.file_name().to_string_lossy().to_ascii_lowercase();
        n == ".git"
            || n == ".gitignore"
            || n.starts_with("readme")
            || n.starts_with("license")
            || n == "codeowners"
    })
}

/// Every file under `root` (relative, `/`-separated, sorted), `.gitignore` honoured.
pub fn list_files(root: &Path, excludes: &globset::GlobSet) -> Vec<String> {
    let root_owned = root.to_path_buf();
    let ex = excludes.clone();
    let mut out: Vec<String> = crate::paths::walker(root)
        .filter_entry(move |e| {
            e.file_name() != ".git"
                && (e.depth() == 0
                    || !ex.is_match(e.path().strip_prefix(&root_owned).unwrap_or(e.path())))
        })
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file() || t.is_symlink()))
        .filter_map(|e| {
            e.path()
                .strip_prefix(root)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .take(MAX_FILES)
        .collect();
    out.sort();
    out
}

fn find_ci<'a>(files: &'a [String], candidates: &[&str]) -> Option<&'a String> {
    candidates
        .iter()
        .find_map(|c| files.iter().find(|f| f.eq_ignore_ascii_case(c)))
}

/// Whether a committed file looks like a private key or an environment file with secrets.
pub fn is_sensitive(rel: &str) -> bool {
    let name = name_of(rel).to_ascii_lowercase();
    const KEY_NAMES: &[&str] = &[
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".htpasswd",
        ".netrc",
        ".pgpass",
    ];
    const KEY_EXT: &[&str] = &[
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".ppk",
        ".asc",
    ];
    const ENV_OK: &[&str] = &["example", "sample", "template", "dist", "defaults"];
    if KEY_NAMES.contains(&name.as_str()) || KEY_EXT.iter().any(|e| name.ends_with(e)) {
        return !name.ends_with(".pub.pem");
    }
    if name == ".env" || name.ends_with(".env") {
        return true;
    }
    if let Some(suffix) = name.strip_prefix(".env.") {
        return !ENV_OK.iter().any(|ok| suffix.contains(ok));
    }
    false
}

fn ecosystems_present(files: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (eco, markers) in ECOSYSTEMS {
        let hit = files.iter().any(|f| {
            let n = name_of(f);
            markers.iter().any(|m| {
                if m.starts_with('.') {
                    n.ends_with(m)
                } else if *m == "Dockerfile" || *m == "Containerfile" {
                    n.starts_with(m) || n.ends_with(".dockerfile")
                } else if *m == "requirements.txt" {
                    n.starts_with("requirements") && n.ends_with(".txt")
                } else {
                    n == *m
                }
            })
        });
        if hit {
            out.push(*eco);
        }
    }
    if files.iter().any(|f| is_workflow_path(Path::new(f))) {
        out.push("github-actions");
    }
    out
}

/// The first document of a YAML file, with the table of its spans.
fn parse_yaml(root: &Path, rel: &str) -> Option<(Node, Positions)> {
    let t = std::fs::read_to_string(root.join(rel)).ok()?;
    let stream = yaml::parse(&t).ok()?;
    Some((stream.documents.into_iter().next()?, stream.positions))
}

fn codeowners(
    root: &Path,
    all: &[String],
    b: &mut Builder,
    display: &dyn Fn(&str) -> String,
) -> Node {
    let found = [
        "CODEOWNERS",
        ".github/CODEOWNERS",
        "docs/CODEOWNERS",
        ".gitlab/CODEOWNERS",
    ]
    .into_iter()
    .find(|c| all.iter().any(|f| f == c));
    let Some(rel) = found else {
        return null(b.line_span(0, 1));
    };
    let file = b.file_index(rel, &display(rel));
    let content = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
    let mut entries = Vec::new();
    let mut covers_all = false;
    for (i, line) in content.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let mut parts = l.split_whitespace();
        let pattern = parts.next().unwrap_or("");
        let owners: Vec<Node> = parts
            .map(|o| text(o, b.line_span(file, i as u32 + 1)))
            .collect();
        let sp = b.line_span(file, i as u32 + 1);
        if (pattern == "*" || pattern == "/*" || pattern == "**" || pattern == "/**")
            && !owners.is_empty()
        {
            covers_all = true;
        }
        entries.push(map(
            vec![("pattern", text(pattern, sp)), ("owners", list(owners, sp))],
            sp,
        ));
    }
    let sp = b.line_span(file, 1);
    map(
        vec![
            ("path", text(rel, sp)),
            ("entries", list(entries, sp)),
            ("covers_all", boolean(covers_all, sp)),
        ],
        sp,
    )
}

fn dependabot(
    root: &Path,
    all: &[String],
    b: &mut Builder,
    display: &dyn Fn(&str) -> String,
) -> Node {
    let Some(rel) = find_ci(all, &[".github/dependabot.yml", ".github/dependabot.yaml"]).cloned()
    else {
        return null(b.line_span(0, 1));
    };
    let file = b.file_index(&rel, &display(&rel));
    let sp = b.line_span(file, 1);
    let parsed = parse_yaml(root, &rel);
    let mut ecos = Vec::new();
    if let Some((updates, positions)) = parsed
        .as_ref()
        .and_then(|(d, p)| Some((d.get("updates")?.as_list()?, p)))
    {
        for u in updates.items() {
            if let Some(e) = u.get("package-ecosystem").and_then(Node::as_str) {
                let line = positions.start(u.span).line;
                ecos.push(text(e, b.line_span(file, line)));
            }
        }
    }
    map(
        vec![("path", text(&rel, sp)), ("ecosystems", list(ecos, sp))],
        sp,
    )
}

fn workflows(
    root: &Path,
    all: &[String],
    b: &mut Builder,
    display: &dyn Fn(&str) -> String,
) -> Node {
    let mut out = Vec::new();
    let wf: Vec<String> = all
        .iter()
        .filter(|f| is_workflow_path(Path::new(f)) && (f.ends_with(".yml") || f.ends_with(".yaml")))
        .cloned()
        .collect();
    for rel in wf {
        let file = b.file_index(&rel, &display(&rel));
        let sp = b.line_span(file, 1);
        let mut triggers = Vec::new();
        if let Some(on) = parse_yaml(root, &rel).and_then(|(d, _)| d.get("on").cloned()) {
            match &on.value {
                Value::Str(s) => triggers.push(text(s.inner(), sp)),
                Value::List(l) => triggers.extend(
                    l.items()
                        .iter()
                        .filter_map(|n| n.as_str())
                        .map(|s| text(s, sp)),
                ),
                Value::Map(m) => triggers.extend(m.iter().map(|(k, _)| text(k, sp))),
                _ => {}
            }
        }
        out.push(map(
            vec![("path", text(&rel, sp)), ("triggers", list(triggers, sp))],
            sp,
        ));
    }
    list(out, b.line_span(0, 1))
}

fn optional_file(b: &mut Builder, rel: Option<String>, display: &dyn Fn(&str) -> String) -> Node {
    match rel {
        Some(r) => {
            let f = b.file_index(&r, &display(&r));
            text(&r, b.line_span(f, 1))
        }
        None => null(b.line_span(0, 1)),
    }
}

/// Builds the repository document for the scan root; `display` shows a root-relative path the
/// way reports do. `None` when the directory holds no file at all.
pub fn document(
    root: &Path,
    excludes: &globset::GlobSet,
    display: &dyn Fn(&str) -> String,
) -> Option<Document> {
    let all = list_files(root, excludes);
    let anchor = find_ci(
        &all,
        &[
            "README.md",
            "README",
            "README.rst",
            "README.txt",
            ".gitignore",
        ],
    )
    .or_else(|| all.first())?
    .clone();
    // The document's file list starts with the anchor; other files are added when a fact
    // points into them.
    let mut b = Builder {
        files: vec![anchor.clone()],
        shown: vec![display(&anchor)],
        positions: PositionsBuilder::new(),
    };
    b.positions.add_file();
    let root_span = b.line_span(0, 1);
    let security = find_ci(
        &all,
        &[
            "SECURITY.md",
            ".github/SECURITY.md",
            "docs/SECURITY.md",
            "SECURITY.txt",
            "SECURITY",
        ],
    )
    .cloned();
    let renovate = find_ci(
        &all,
        &[
            "renovate.json",
            "renovate.json5",
            ".github/renovate.json",
            ".github/renovate.json5",
            ".renovaterc",
            ".renovaterc.json",
        ],
    )
    .cloned();
    let gitignore_rel = find_ci(&all, &[".gitignore"]).cloned();
    let pre_commit = find_ci(&all, &[".pre-commit-config.yaml", ".pre-commit-config.yml"]).cloned();
    let settings_rel = find_ci(&all, &[".github/settings.yml", ".github/settings.yaml"]).cloned();
    let license = find_ci(&all, &["LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"]).cloned();
    let codeowners = codeowners(root, &all, &mut b, display);
    let dependabot = dependabot(root, &all, &mut b, display);
    let workflows = workflows(root, &all, &mut b, display);
    let gitignore = match &gitignore_rel {
        Some(rel) => {
            let f = b.file_index(rel, &display(rel));
            let content = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
            let patterns: Vec<Node> = content
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(|(i, l)| text(l.trim(), b.line_span(f, i as u32 + 1)))
                .collect();
            let sp = b.line_span(f, 1);
            map(
                vec![("path", text(rel, sp)), ("patterns", list(patterns, sp))],
                sp,
            )
        }
        None => null(root_span),
    };
    let settings = match &settings_rel {
        Some(rel) => {
            let f = b.file_index(rel, &display(rel));
            let sp = b.line_span(f, 1);
            let content = parse_yaml(root, rel)
                .map(|(n, from)| with_file(&n, &from, &b.positions, f))
                .unwrap_or_else(|| null(sp));
            map(vec![("path", text(rel, sp)), ("content", content)], sp)
        }
        None => null(root_span),
    };
    let sensitive: Vec<Node> = all
        .iter()
        .filter(|f| is_sensitive(f))
        .map(|rel| {
            let f = b.file_index(rel, &display(rel));
            let sp = b.line_span(f, 1);
            map(vec![("path", text(rel, sp))], sp)
        })
        .collect();
    let present: Vec<Node> = ecosystems_present(&all)
        .into_iter()
        .map(|e| text(e, root_span))
        .collect();
    let security = optional_file(&mut b, security, display);
    let renovate = optional_file(&mut b, renovate, display);
    let pre_commit = optional_file(&mut b, pre_commit, display);
    let license = optional_file(&mut b, license, display);
    let files: Vec<Node> = all.iter().map(|f| text(f, root_span)).collect();
    let root_node = map(
        vec![
            ("files", list(files, root_span)),
            ("readme", text(&anchor, root_span)),
            ("codeowners", codeowners),
            ("security_policy", security),
            ("dependabot", dependabot),
            ("renovate", renovate),
            ("ecosystems", list(present, root_span)),
            ("gitignore", gitignore),
            ("pre_commit", pre_commit),
            ("settings", settings),
            ("license", license),
            ("workflows", workflows),
            ("sensitive_files", list(sensitive, root_span)),
        ],
        root_span,
    );
    Some(Document {
        kind: Kind::Repository,
        root: root_node,
        name: "repository".to_string(),
        files: b.shown,
        via: Vec::new(),
        positions: std::sync::Arc::new(b.positions.finish()),
    })
}

/// A copy of a parsed file's tree (spans of `from`) whose spans point at the same lines and
/// columns of file `file` of the document (spans of `to`).
fn with_file(n: &Node, from: &Positions, to: &PositionsBuilder, file: u32) -> Node {
    let moved = |s: Span| to.span(file, from.start(s), from.end(s));
    let span = moved(n.span);
    match &n.value {
        Value::Map(map) => {
            let mut b = MapBuilder::new();
            for (k, e) in map.iter() {
                b.insert(
                    k.to_string(),
                    moved(e.key_span),
                    with_file(&e.value, from, to, file),
                );
            }
            Node::new(Value::Map(b.finish(span)), span)
        }
        Value::List(l) => {
            let items = l
                .items()
                .iter()
                .map(|i| with_file(i, from, to, file))
                .collect();
            Node::new(Value::List(ListNode::new(items, span)), span)
        }
        other => Node::new(other.clone(), span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_names() {
        assert!(is_sensitive("deploy/id_rsa"));
        assert!(is_sensitive("certs/server.key"));
        assert!(is_sensitive(".env"));
        assert!(is_sensitive("config/.env.production"));
        assert!(!is_sensitive(".env.example"));
        assert!(!is_sensitive("src/main.rs"));
    }

    #[test]
    fn facts_of_a_small_repository() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".github/workflows")).unwrap();
        std::fs::write(d.join("README.md"), "# x\n").unwrap();
        std::fs::write(d.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(
            d.join(".github/CODEOWNERS"),
            "# owners\n* @org/team\n/docs/ @org/docs\n",
        )
        .unwrap();
        std::fs::write(
            d.join(".github/dependabot.yml"),
            "version: 2\nupdates:\n  - package-ecosystem: cargo\n    directory: /\n",
        )
        .unwrap();
        std::fs::write(
            d.join(".github/workflows/ci.yml"),
            "on: [push, pull_request]\njobs: {}\n",
        )
        .unwrap();
        std::fs::write(d.join("server.pem"), "x").unwrap();
        let doc = document(d, &globset::GlobSet::empty(), &|r: &str| r.to_string()).unwrap();
        let root = &doc.root;
        assert_eq!(doc.files[0], "README.md");
        let co = root.get("codeowners").unwrap();
        assert_eq!(co.get("covers_all").unwrap().to_display(), "true");
        let entry = &co.get("entries").unwrap().as_list().unwrap().items()[0];
        let at = &doc.positions;
        assert_eq!(
            doc.files[at.file(entry.span) as usize],
            ".github/CODEOWNERS"
        );
        assert_eq!(at.start(entry.span), Pos::new(2, 1));
        assert_eq!(at.end(entry.span), Pos::new(2, 2));
        assert_eq!(
            root.get("ecosystems").unwrap().to_display(),
            r#"["cargo","github-actions"]"#
        );
        assert_eq!(
            root.get("dependabot")
                .unwrap()
                .get("ecosystems")
                .unwrap()
                .to_display(),
            r#"["cargo"]"#
        );
        let wf = &root.get("workflows").unwrap().as_list().unwrap().items()[0];
        assert_eq!(
            wf.get("triggers").unwrap().to_display(),
            r#"["push","pull_request"]"#
        );
        let s = &root
            .get("sensitive_files")
            .unwrap()
            .as_list()
            .unwrap()
            .items()[0];
        assert_eq!(doc.files[at.file(s.span) as usize], "server.pem");
        assert!(matches!(
            root.get("security_policy").unwrap().value,
            Value::Null
        ));
    }
}
