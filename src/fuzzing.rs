//! Entry points shared by the `cargo fuzz` targets (`fuzz/`) and the deterministic mutation
//! test (`tests/fuzz_regressions.rs`): each takes arbitrary text and must never panic.

use std::path::Path;

use crate::doc;
use crate::inputs::{self, terraform};
use crate::rules::{RuleSet, RuleSourceFile};

/// YAML stream parsing.
pub fn yaml(text: &str) -> usize {
    doc::yaml::parse(text).map_or(0, |s| s.documents.len())
}

/// JSON file parsing (strict check, then spans).
pub fn json(text: &str) -> usize {
    inputs::read_text(Path::new("x.json"), "x.json", text)
        .documents
        .len()
}

/// A Terraform module of one file.
pub fn hcl(text: &str) -> bool {
    let tf = [terraform::SourceText {
        path: "main.tf".into(),
        text: text.into(),
    }];
    !terraform::parse_module(&tf, &[]).1.iter().any(|e| e.fatal)
}

/// The output of `kustomize build`, placed at its (absent) source files.
pub fn kustomize_output(text: &str) -> usize {
    let tree = inputs::kustomize::tree::Tree {
        dir: "/nonexistent/isms-lint-fuzz".into(),
        file: "/nonexistent/isms-lint-fuzz/kustomization.yaml".into(),
        ..Default::default()
    };
    let display = |p: &Path| p.display().to_string();
    inputs::kustomize::render::read_output(
        text,
        Path::new("/nonexistent/isms-lint-fuzz"),
        &tree,
        &display,
    )
    .documents
    .len()
}

/// A Dockerfile.
pub fn dockerfile(text: &str) -> bool {
    inputs::dockerfile::parse::parse(text).is_ok()
}

/// The text read as a file of the input called `name`, once per file-name pattern it claims
/// (`fuzz/fuzz_targets/` has one target per such input, checked by a test): the number of
/// documents it gave.
pub fn input(name: &str, text: &str) -> usize {
    inputs::registry()
        .iter()
        .filter(|i| i.name() == name)
        .flat_map(|i| i.patterns().iter())
        .map(|p| {
            let file = p.replace(['*', '?'], "x");
            inputs::read_text(Path::new(&file), &file, text)
                .documents
                .len()
        })
        .sum()
}

/// The fuzz target's name for the input called `name` (`input_yaml_json` for `yaml-json`).
pub fn input_target(name: &str) -> String {
    format!("input_{}", name.replace('-', "_"))
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
        for d in &inputs::read_text(Path::new(name), name, text).documents {
            n += crate::eval::evaluate(rules, d, name, None).findings.len();
        }
    }
    n
}
