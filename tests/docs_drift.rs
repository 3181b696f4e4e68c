//! Generated files stay in step with their generators, and every rule's control mapping is
//! defensible on its face: known control ids, a relation and a rationale in words.
//! Set `ISMS_LINT_UPDATE_DOCS=1` to rewrite the committed files.

mod common;

use isms_lint::rules::{builtin_sources, RuleSet};

fn check(path: &str, generated: String) {
    let file = common::root().join(path);
    if std::env::var_os("ISMS_LINT_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == generated,
        "{path} is out of date with its generator; run `ISMS_LINT_UPDATE_DOCS=1 cargo test --test docs_drift` and commit the result"
    );
}

/// Rewrites (or checks) the text between `<!-- NAME:begin … -->` and `<!-- NAME:end -->` in a
/// hand-written file.
fn check_region(path: &str, name: &str, generated: &str) {
    let file = common::root().join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let begin = text
        .find(&format!("<!-- {name}:begin"))
        .unwrap_or_else(|| panic!("{path} has no {name}:begin marker"));
    let begin = begin + text[begin..].find("-->\n").unwrap() + 4;
    let end = text
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("{path} has no {name}:end marker"));
    let wanted = format!("{}{generated}{}", &text[..begin], &text[end..]);
    check(path, wanted);
}

fn builtin() -> RuleSet {
    let set = RuleSet::load(builtin_sources());
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    set
}

#[test]
fn the_helper_table_lists_every_helper() {
    check_region(
        "docs/rule-format.md",
        "helpers",
        &isms_lint::docs::helpers_markdown(),
    );
}

#[test]
fn precommit_files_pattern_matches_what_the_inputs_read() {
    let wanted = isms_lint::inputs::precommit_files_pattern();
    let hooks = common::root().join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&hooks).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("files:"))
        .collect();
    assert!(
        !lines.is_empty(),
        ".pre-commit-hooks.yaml has no files: line"
    );
    if std::env::var_os("ISMS_LINT_UPDATE_DOCS").is_some() {
        let updated: String = text
            .lines()
            .map(|l| match l.find("files:") {
                Some(i) if l.trim_start().starts_with("files:") => {
                    format!("{}files: '{wanted}'\n", &l[..i])
                }
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&hooks, updated).unwrap();
        return;
    }
    for line in lines {
        assert_eq!(
            line.trim(),
            format!("files: '{wanted}'"),
            "a `files:` of .pre-commit-hooks.yaml drifted from inputs::precommit_files_pattern(); \
             run `ISMS_LINT_UPDATE_DOCS=1 cargo test --test docs_drift`"
        );
    }
}

#[test]
fn the_readme_counts_the_rules_and_controls_it_ships() {
    let set = builtin();
    let controls: std::collections::BTreeSet<&str> = set
        .rules
        .iter()
        .flat_map(|r| r.controls.iter().map(|c| c.id.as_str()))
        .collect();
    let wanted = format!(
        "({} built-in rules over {} Annex A controls)",
        set.rules.len(),
        controls.len()
    );
    let file = common::root().join("README.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let re = regex::Regex::new(r"\(\d+ built-in rules over \d+ Annex A controls\)").unwrap();
    assert!(re.is_match(&text), "README.md lost its rule count sentence");
    if std::env::var_os("ISMS_LINT_UPDATE_DOCS").is_some() {
        std::fs::write(&file, re.replace(&text, wanted.as_str()).as_ref()).unwrap();
        return;
    }
    assert!(
        text.contains(&wanted),
        "README.md does not say {wanted:?}; run `ISMS_LINT_UPDATE_DOCS=1 cargo test --test docs_drift`"
    );
}

#[test]
fn rules_md_matches_the_rules() {
    check("docs/rules.md", isms_lint::docs::rules_markdown(&builtin()));
}

#[test]
fn controls_md_matches_the_rules() {
    check(
        "docs/controls.md",
        isms_lint::docs::controls_markdown(&builtin()),
    );
}

#[test]
fn schemas_match_the_types() {
    check("schemas/rule.schema.json", isms_lint::schema::rule_schema());
    check(
        "schemas/config.schema.json",
        isms_lint::schema::config_schema(),
    );
}

#[test]
fn every_mapping_has_a_known_control_a_relation_and_a_rationale() {
    let set = builtin();
    for r in &set.rules {
        assert!(!r.controls.is_empty(), "{} maps to no control", r.id);
        for c in &r.controls {
            assert!(
                isms_lint::catalog::find(&c.id).is_some(),
                "{} maps to unknown {}",
                r.id,
                c.id
            );
            assert!(
                c.rationale.split_whitespace().count() >= 6,
                "{} → {}: the rationale must say why in a sentence, got '{}'",
                r.id,
                c.id,
                c.rationale
            );
        }
        assert!(!r.remediation.is_empty(), "{} has no remediation", r.id);
    }
}

#[test]
fn every_automated_control_says_what_its_rules_evidence_and_what_they_cannot() {
    let set = builtin();
    let notes = isms_lint::docs::control_notes();
    for id in notes.keys() {
        assert!(
            isms_lint::catalog::find(id).is_some(),
            "data/control-notes.tsv names unknown control {id}"
        );
    }
    let missing: Vec<String> = isms_lint::docs::automated_controls(&set)
        .into_iter()
        .filter(|id| {
            notes
                .get(id)
                .is_none_or(|n| n.evidences.split_whitespace().count() < 6 || n.cannot.is_empty())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "controls evidenced by rules without a line in data/control-notes.tsv (what the rules evidence, what they cannot): {missing:?}"
    );
}

#[test]
fn a_rule_without_rationale_or_with_an_unknown_control_is_refused() {
    let text = "title: T\nseverity: low\nkinds: [kubernetes]\ncontrols:\n  - id: \"8.9\"\n    relation: partial\n  - id: \"9.1\"\n    relation: full\n    rationale: Whatever the reason may be here.\nassert: \"true\"\nmessage: m\nremediation: r\n";
    let set = RuleSet::load(vec![isms_lint::rules::RuleSourceFile {
        path: "x/t.yaml".into(),
        text: text.into(),
        builtin: false,
    }]);
    let msgs: Vec<(u32, &str)> = set
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert!(
        msgs.contains(&(5, "control link has no 'rationale'")),
        "{msgs:?}"
    );
    assert!(
        msgs.contains(&(7, "unknown Annex A control '9.1'")),
        "{msgs:?}"
    );
    assert!(set.rules.is_empty());
}

#[test]
fn the_library_meets_its_breadth_floors() {
    use std::collections::BTreeMap;
    let set = builtin();
    let mut per_control: BTreeMap<String, usize> = BTreeMap::new();
    for r in &set.rules {
        for c in &r.controls {
            *per_control.entry(c.id.clone()).or_default() += 1;
        }
    }
    assert!(set.rules.len() >= 450, "{} rules", set.rules.len());
    let cloudformation = set
        .rules
        .iter()
        .filter(|r| r.kinds.contains(&isms_lint::inputs::Kind::Cloudformation))
        .count();
    let terraform_aws = set
        .rules
        .iter()
        .filter(|r| r.id.starts_with("tf-aws-"))
        .count();
    assert!(
        cloudformation >= 75,
        "{cloudformation} CloudFormation rules"
    );
    assert!(terraform_aws >= 80, "{terraform_aws} Terraform AWS rules");
    assert!(per_control.len() >= 39, "{} controls", per_control.len());
    let new_covered = isms_lint::catalog::controls()
        .iter()
        .filter(|c| c.new_in_2022 && per_control.contains_key(&c.id))
        .count();
    assert!(new_covered >= 8, "{new_covered} of the 11 new controls");
    assert!(
        per_control["8.11"] >= 12,
        "8.11 data masking: {}",
        per_control["8.11"]
    );
    assert!(
        per_control["8.9"] >= 8,
        "8.9 configuration management: {}",
        per_control["8.9"]
    );
    // Cloud breadth: Terraform rules whose `select` names a resource type of the provider.
    let terraform_rules_naming = |prefixes: &[&str]| {
        set.rules
            .iter()
            .filter(|r| r.kinds.contains(&isms_lint::inputs::Kind::Terraform))
            .filter(|r| {
                r.selection()
                    .select
                    .as_ref()
                    .is_some_and(|s| prefixes.iter().any(|p| s.source.contains(&format!("'{p}"))))
            })
            .count()
    };
    let azure = terraform_rules_naming(&["azurerm_", "azapi_"]);
    assert!(azure >= 60, "Azure Terraform rules: {azure}");
    let gcp = terraform_rules_naming(&["google_"]);
    assert!(gcp >= 60, "GCP Terraform rules: {gcp}");
    for &kind in isms_lint::inputs::Kind::ALL {
        if !kind.is_generic() && kind != isms_lint::inputs::Kind::TerraformPlan {
            assert!(set.has_kind(kind), "no rule for {kind}");
        }
    }
}
