//! Which findings of the repository document are about the repository as a whole (no CODEOWNERS,
//! no security policy, no dependency updates…) rather than about a line of one of its files.
//!
//! The repository document places such findings on line 1 of an anchor file (the README when
//! there is one, else `.gitignore` or the first file), so rule fixtures and inline suppressions
//! have a line to point at. Reports show them at the repository root instead: a SARIF location
//! on the root directory, `path: …` in text, a file-less GitHub notice. A finding on line 1 of the
//! anchor is repository-level unless the anchor is itself the file of the fact it is about (a
//! repository without README whose first file is a workflow, `.gitignore` or a committed key).

use std::collections::BTreeMap;

use crate::doc::tree::{Node, Value};
use crate::doc::Pos;
use crate::finding::Finding;
use crate::inputs::Document;

/// The repository-level findings of a repository document: fingerprint → display path of the
/// repository root.
pub fn root_level(
    repo: &Document,
    root_display: &str,
    findings: &[Finding],
) -> BTreeMap<String, String> {
    let Some(anchor) = repo.files.first() else {
        return BTreeMap::new();
    };
    let owned = anchor_facts(&repo.root);
    findings
        .iter()
        .filter(|f| {
            &f.path == anchor
                && f.start == Pos::new(1, 1)
                && f.end == Pos::new(1, 2)
                && !owned.iter().any(|fact| about(&f.logical_path, fact))
        })
        .map(|f| (f.fingerprint.clone(), root_display.to_string()))
        .collect()
}

/// The facts (`key` or `key[i]`) whose file is the anchor itself.
fn anchor_facts(root: &Node) -> Vec<String> {
    let Some(map) = root.as_map() else {
        return Vec::new();
    };
    let Some(anchor) = root.get("readme").and_then(Node::as_str) else {
        return Vec::new();
    };
    let is_anchor = |n: &Node| {
        n.as_str() == Some(anchor) || n.get("path").and_then(Node::as_str) == Some(anchor)
    };
    let mut owned = Vec::new();
    for (key, entry) in map.iter() {
        if matches!(key, "readme" | "files" | "ecosystems") {
            continue;
        }
        match &entry.value.value {
            Value::List(items) => {
                for (i, item) in items.items().iter().enumerate() {
                    if is_anchor(item) {
                        owned.push(format!("{key}[{i}]"));
                    }
                }
            }
            _ if is_anchor(&entry.value) => owned.push(key.to_string()),
            _ => {}
        }
    }
    owned
}

/// Whether a logical path (`repository/gitignore`, `repository/workflows[0]/on`) is about `fact`.
fn about(logical_path: &str, fact: &str) -> bool {
    let rest = logical_path
        .strip_prefix("repository/")
        .unwrap_or(logical_path);
    rest.strip_prefix(fact)
        .is_some_and(|tail| tail.is_empty() || tail.starts_with(['.', '/', '[']))
}

#[cfg(test)]
mod tests {
    use super::about;

    #[test]
    fn logical_paths_name_their_fact() {
        assert!(about("repository/gitignore", "gitignore"));
        assert!(about("repository/workflows[0]", "workflows[0]"));
        assert!(about("repository/workflows[0]/on", "workflows[0]"));
        assert!(!about("repository/workflows[1]", "workflows[0]"));
        assert!(!about("repository/workflows[10]", "workflows[1]"));
        assert!(!about("repository/gitignore_extra", "gitignore"));
        assert!(!about("repository/security_policy", "gitignore"));
    }
}
