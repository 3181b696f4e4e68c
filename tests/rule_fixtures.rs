//! Every built-in rule proves itself on its fixtures (the same check `isms-lint test` runs), and
//! the fixture runner catches a rule that is Missing, Noisy or on the Wrong line.

mod common;

use common::*;
use isms_lint::rules::{builtin_sources, RuleSet};
use isms_lint::ruletest::{self, Problem};

#[test]
fn every_builtin_rule_passes_its_fixtures() {
    let set = RuleSet::load(builtin_sources());
    assert!(
        set.errors.is_empty(),
        "built-in rules must load cleanly: {:#?}",
        set.errors
    );
    let results = ruletest::run(&set, &root().join("fixtures"), None);
    let failures: Vec<String> = results
        .iter()
        .filter(|t| !t.problems.is_empty())
        .map(|t| {
            let problems: Vec<String> = t.problems.iter().map(|p| format!("  {p}")).collect();
            format!("{}\n{}", t.rule_id, problems.join("\n"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "rule fixtures failed:\n{}",
        failures.join("\n")
    );
    assert_eq!(results.len(), set.rules.len());
}

fn user_rule_dir(fail: &str, pass: &str) -> tempfile::TempDir {
    tree(&[
        ("my-rules/priv.yaml", PRIVILEGED_RULE),
        ("my-rules/fixtures/priv/fail/pod.yaml", fail),
        ("my-rules/fixtures/priv/pass/pod.yaml", pass),
    ])
}

const CLEAN_POD: &str =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  containers:\n    - name: app\n";

#[test]
fn user_rules_pass_through_the_same_mechanism() {
    let marked = PRIVILEGED_POD.replace("privileged: true", "privileged: true # expect: priv");
    let dir = user_rule_dir(&marked, CLEAN_POD);
    let o = run_in(dir.path(), &["test", "my-rules"]);
    let (code, out, err) = parts(&o);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok     priv (1 marked line(s))"), "{out}");
}

#[test]
fn broken_fixtures_are_reported_as_missing_noisy_or_wrong_line() {
    // Marked on the wrong line: reported as Wrong-line.
    let wrong = PRIVILEGED_POD.replace("- name: app", "- name: app # expect: priv");
    let dir = user_rule_dir(&wrong, CLEAN_POD);
    let (code, out, _) = parts(&run_in(dir.path(), &["test", "my-rules"]));
    assert_eq!(code, 1);
    assert!(out.contains("FAILED priv"), "{out}");
    assert!(
        out.contains(
            "Wrong-line: my-rules/fixtures/priv/fail/pod.yaml: expected line 7, reported line 9"
        ),
        "{out}"
    );

    // A violation in pass/: Noisy. No marker in fail/: also reported.
    let dir = user_rule_dir(PRIVILEGED_POD, PRIVILEGED_POD);
    let (code, out, _) = parts(&run_in(dir.path(), &["test", "my-rules"]));
    assert_eq!(code, 1);
    assert!(
        out.contains("Noisy: my-rules/fixtures/priv/pass/pod.yaml:9"),
        "{out}"
    );

    // Marked but compliant: Missing.
    let missing = CLEAN_POD.replace("- name: app", "- name: app # expect: priv");
    let dir = user_rule_dir(&missing, CLEAN_POD);
    let set = RuleSet::load(vec![isms_lint::rules::RuleSourceFile {
        path: "priv.yaml".into(),
        text: PRIVILEGED_RULE.into(),
        builtin: false,
    }]);
    let results = ruletest::run(&set, &dir.path().join("my-rules/fixtures"), None);
    assert!(
        results[0]
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Missing { line: 6, .. })),
        "{:?}",
        results[0].problems
    );
}

/// A rule on literal secrets in a container's `env`, pointing at `AT`.
const ENV_RULE: &str = r#"
title: No literal secrets in env
severity: high
kinds: [kubernetes]
controls: [{id: "5.17", relation: partial, rationale: secrets belong in a Secret}]
select: containers(doc)
when: "type(item.?env.orValue(null)) == list"
assert: "!item.env.exists(e, type(e) == map && e.?name.orValue('') == 'DB_PASSWORD' && 'value' in e)"
at: AT
message: "container '{{ item.name }}' has a literal password"
remediation: Use a Secret.
"#;

const ENV_POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      env:
        - name: MODE
          value: prod
        - name: DB_PASSWORD
          value: hunter2
      image: registry.example/web:1.0
";

fn env_rule_problems(at: &str, marked_line: usize) -> Vec<Problem> {
    let fail: String = ENV_POD
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == marked_line {
                format!("{l} # expect: env\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = tree(&[
        ("r/fixtures/env/fail/pod.yaml", fail.as_str()),
        ("r/fixtures/env/pass/pod.yaml", CLEAN_POD),
    ]);
    let set = RuleSet::load(vec![isms_lint::rules::RuleSourceFile {
        path: "env.yaml".into(),
        text: ENV_RULE.replace("AT", at),
        builtin: false,
    }]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let results = ruletest::run(&set, &dir.path().join("r/fixtures"), None);
    results[0].problems.clone()
}

#[test]
fn a_finding_at_a_parent_is_reported_and_a_star_step_finds_the_member() {
    // `at: env` points at the list while one item decides: At-parent, naming the item's line.
    let problems = env_rule_problems("env", 7);
    assert!(
        matches!(&problems[..], [Problem::AtParent { path, line: 7, closer: 10 }]
            if path.ends_with("r/fixtures/env/fail/pod.yaml")),
        "{problems:?}"
    );
    // `env.*` points at the item that decides the verdict; the test passes.
    assert_eq!(env_rule_problems("env.*", 10), []);
    // A missing setting is not blamed on a member: `resources` is absent, the container header
    // is the right place, whatever the container holds.
    let missing = ENV_RULE
        .replace(
            "!item.env.exists(e, type(e) == map && e.?name.orValue('') == 'DB_PASSWORD' && 'value' in e)",
            "has(item.resources)",
        )
        .replace("AT", "resources.limits");
    let dir = tree(&[
        (
            "r/fixtures/env/fail/pod.yaml",
            &ENV_POD.replace("- name: app", "- name: app # expect: env"),
        ),
        ("r/fixtures/env/pass/pod.yaml", CLEAN_POD),
    ]);
    let set = RuleSet::load(vec![isms_lint::rules::RuleSourceFile {
        path: "env.yaml".into(),
        text: missing,
        builtin: false,
    }]);
    let results = ruletest::run(&set, &dir.path().join("r/fixtures"), None);
    assert_eq!(results[0].problems, []);
}
