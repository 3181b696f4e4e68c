//! Entry points shared by the `cargo fuzz` targets (`fuzz/`) and the deterministic mutation
//! test (`tests/fuzz_regressions.rs`): each takes arbitrary text and must never panic.

use std::path::Path;

use crate::doc::{self, terraform};
use crate::rules::{RuleSet, RuleSourceFile};

/// YAML stream parsing.
pub fn yaml(text: &str) -> usize {
    doc::yaml::parse(text).map_or(0, |s| s.documents.len())
}

/// JSON file parsing (strict check, then spans).
pub fn json(text: &str) -> usize {
    doc::parse_file(Path::new("x.json"), "x.json", text).map_or(0, |p| p.documents.len())
}

/// A Terraform module of one file.
pub fn hcl(text: &str) -> bool {
    let tf = [terraform::SourceText {
        path: "main.tf".into(),
        text: text.into(),
    }];
    terraform::parse_module(&tf, &[]).is_ok()
}

/// A Dockerfile.
pub fn dockerfile(text: &str) -> bool {
    doc::dockerfile::parse(text).is_ok()
}

/// A rule file.
pub fn rule_file(text: &str) -> usize {
    RuleSet::load(vec![RuleSourceFile {
        path: "fuzz/rule.yaml".into(),
        text: text.into(),
        builtin: false,
    }])
    .errors
    .len()
}

/// A config file.
pub fn config(text: &str) -> bool {
    crate::config::parse(".isms-lint.yaml", text).is_ok()
}

/// Every built-in rule evaluated on the documents the text parses into (as Kubernetes YAML,
/// a workflow, a Compose file and a Dockerfile).
pub fn evaluate(text: &str) -> usize {
    use std::sync::OnceLock;
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    let rules = RULES.get_or_init(|| RuleSet::load(crate::rules::builtin_sources()));
    let mut n = 0;
    for name in [
        "k8s.yaml",
        ".github/workflows/ci.yml",
        "docker-compose.yml",
        "Dockerfile",
        "stack.json",
    ] {
        if let Ok(parsed) = doc::parse_file(Path::new(name), name, text) {
            for d in &parsed.documents {
                n += crate::eval::evaluate(rules, d, name, None).findings.len();
            }
        }
    }
    n
}
