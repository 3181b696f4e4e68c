//! The CEL cost budget (`--max-cel-cost`, the `cel::cost` counter of vendor/cel): what the
//! counter charges, that an evaluation past the budget stops promptly and cannot be hidden, and
//! that every built-in rule stays far below the default on every fixture.

mod common;

use common::*;
use isms_lint::eval::DEFAULT_MAX_CEL_COST;
use isms_lint::rules::env::{env, root_context};
use isms_lint::rules::{builtin_sources, RuleSet, RuleSourceFile};
use isms_lint::scan::{scan, ScanOptions};

/// Evaluates `expr` under a budget of `limit`; the result (as text) and the cost charged.
fn cost_of(expr: &str, limit: u64) -> (Result<cel::Value, cel::ExecutionError>, u64) {
    let program = env().compile(expr).unwrap();
    let ctx = root_context();
    cel::cost::start(limit);
    let result = program.execute(&ctx);
    let spent = cel::cost::spent();
    cel::cost::stop();
    (result, spent)
}

fn cost(expr: &str) -> u64 {
    let (result, spent) = cost_of(expr, u64::MAX);
    result.unwrap_or_else(|e| panic!("{expr}: {e}"));
    spent
}

#[test]
fn each_comprehension_iteration_costs_one() {
    assert_eq!(cost("[1, 2, 3].all(x, x > 0)"), 3);
    assert_eq!(cost("[1, 2, 3, 4, 5, 6].all(x, x > 0)"), 6);
    // map/filter (appending in place) count too: 3 outer + 3 × 3 inner iterations, and one
    // unit for each of the three size() calls.
    assert_eq!(
        cost("[1, 2, 3].map(a, [1, 2, 3].filter(b, b == a).size())"),
        3 + 9 + 3
    );
}

#[test]
fn strings_weigh_their_length() {
    // A call: one unit, plus a unit per started 10 bytes of its string arguments and result.
    let (s100, s20) = ("x".repeat(100), "x".repeat(20));
    assert_eq!(cost(&format!("'{s100}'.startsWith('{s20}')")), 1 + 10 + 2);
    assert_eq!(cost(&format!("'{s100}'.upperAscii()")), 1 + 10 + 10);
    assert_eq!(cost("'abc'.upperAscii()"), 1 + 1 + 1);
    // `+` builds a value as long as its result.
    assert_eq!(cost(&format!("'{s100}' + '{s20}'")), 1 + 12);
    let long = "x".repeat(1000);
    assert_eq!(cost(&format!("'{long}'.size() > 0")), 1 + 100);
    // Lists built by `+` and scanned by `in` weigh their length.
    assert_eq!(cost("[1, 2] + [3]"), 1 + 3);
    assert_eq!(cost("3 in [1, 2, 3, 4]"), 1 + 4);
}

#[test]
fn past_the_budget_the_evaluation_stops_promptly() {
    let items = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let nested = format!("[{items}].all(a, [{items}].all(b, a >= 0))");
    assert_eq!(cost(&nested), 100 + 100 * 100);
    let (result, spent) = cost_of(&nested, 50);
    assert_eq!(result, Err(cel::ExecutionError::CostBudgetExceeded(50)));
    // Stopped at the first iterations past the limit, not after the 10,100 of the whole run.
    assert!((51..60).contains(&spent), "{spent}");
}

#[test]
fn an_error_that_or_absorbs_still_leaves_the_budget_exceeded() {
    let items = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let expr = format!("[{items}].all(a, a >= 0) || true");
    let program = env().compile(&expr).unwrap();
    let ctx = root_context();
    cel::cost::start(10);
    let result = program.execute(&ctx);
    let exceeded = cel::cost::exceeded();
    cel::cost::stop();
    // CEL's `error || true` is true: the result alone cannot tell; `exceeded()` does.
    assert_eq!(result, Ok(cel::Value::Bool(true)));
    assert!(exceeded, "the budget must show as exceeded");
    assert!(!cel::cost::exceeded(), "stop() lifts the limit");
}

/// A CloudFormation template with a bucket and `n` resources of another type.
fn template(n: usize) -> String {
    let mut t = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    );
    for i in 0..n {
        t.push_str(&format!("  Topic{i}:\n    Type: AWS::SNS::Topic\n"));
    }
    t
}

#[test]
fn helpers_charge_what_they_walk() {
    // `resources(doc, T)` walks every resource to return the few of type T: it charges each.
    let rule = r#"title: Buckets
severity: low
kinds: [cloudformation]
controls: [{id: "8.9", relation: partial, rationale: test}]
select: resources(doc, 'AWS::S3::Bucket')
assert: "true"
message: "bucket"
remediation: none
"#;
    let mut rules = RuleSet::load(vec![RuleSourceFile {
        path: "t/buckets.yaml".into(),
        text: rule.into(),
        builtin: false,
    }]);
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    rules.profile = true;
    let run_cost = |n: usize| {
        let dir = tree(&[("t.yaml", &template(n))]);
        let opts = ScanOptions {
            paths: vec![dir.path().to_path_buf()],
            ..ScanOptions::default()
        };
        let result = scan(&rules, &opts).unwrap();
        assert!(result.rule_errors.is_empty(), "{:?}", result.rule_errors);
        result.rule_profile[0].max_cost
    };
    assert_eq!(run_cost(20) - run_cost(10), 10);
}

#[test]
fn built_in_rules_stay_below_a_hundredth_of_the_default_on_every_fixture() {
    let mut rules = RuleSet::load(builtin_sources());
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    rules.profile = true;
    let opts = ScanOptions {
        paths: vec![root().join("fixtures")],
        jobs: Some(2),
        ..ScanOptions::default()
    };
    let result = scan(&rules, &opts).unwrap();
    assert!(
        result.rule_profile.len() > 250,
        "only {} rules ran",
        result.rule_profile.len()
    );
    let costliest = result
        .rule_profile
        .iter()
        .max_by_key(|p| p.max_cost)
        .unwrap();
    // The counter counted: some rule loops over a fixture's items.
    assert!(costliest.max_cost > 100, "{costliest:?}");
    let over: Vec<_> = result
        .rule_profile
        .iter()
        .filter(|p| p.max_cost >= DEFAULT_MAX_CEL_COST / 100)
        .map(|p| (&p.rule_id, p.max_cost, &p.max_cost_path))
        .collect();
    assert!(
        over.is_empty(),
        "rules at or above a hundredth of the default budget: {over:?}"
    );
    assert!(
        !result
            .rule_errors
            .iter()
            .any(|e| e.message.contains("CEL cost budget")),
        "{:?}",
        result.rule_errors
    );
}

/// A Kubernetes object whose `data.items` holds `n` items.
fn big_document(n: usize) -> String {
    let mut t =
        String::from("apiVersion: v1\nkind: Thing\nmetadata:\n  name: big\ndata:\n  items:\n");
    for i in 0..n {
        t.push_str(&format!("    - v: {i}\n"));
    }
    t
}

/// A user rule comparing every item with every other: 3,000 × 3,000 iterations.
const NESTED_RULE: &str = r#"title: Items are unique
severity: low
kinds: [kubernetes]
controls: [{id: "8.9", relation: partial, rationale: test}]
when: has(item.data)
assert: "item.data.items.all(a, item.data.items.filter(b, b.v == a.v).size() == 1)"
message: "duplicate items"
remediation: Remove the duplicates.
"#;

#[test]
fn a_rule_past_the_budget_stops_with_a_rule_error_and_the_scan_goes_on() {
    let dir = tree(&[
        ("rules/nested.yaml", NESTED_RULE),
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/big.yaml", &big_document(3000)),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let scan_with = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run_in(dir.path(), &args)
    };
    let o = scan_with(&["--max-cel-cost", "100000"]);
    // A rule error: exit 2, as for any rule that fails at run time.
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    let errors = v["rule_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["rule_id"], "nested");
    assert_eq!(errors[0]["path"], "k8s/big.yaml");
    assert_eq!(errors[0]["line"], 1);
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("rule 'nested' exceeded the CEL cost budget on this document (cost 1000")
            && message.contains(" > 100000; --max-cel-cost)"),
        "{message}"
    );
    // The other rule's finding, on the other document, is still reported.
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["rule_id"], "priv");
    assert_eq!(findings[0]["path"], "k8s/pod.yaml");

    // The config's `max-cel-cost:` sets the budget (here one too small for either rule)…
    std::fs::write(dir.path().join(".isms-lint.yaml"), "max-cel-cost: 1\n").unwrap();
    let o = scan_with(&[]);
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    let ids: Vec<&str> = v["rule_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["nested", "priv"]);
    assert!(v["findings"].as_array().unwrap().is_empty());
    // …and `--max-cel-cost` replaces it.
    let o = scan_with(&["--max-cel-cost", "100000"]);
    let v = json(&o);
    assert_eq!(v["rule_errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["findings"][0]["rule_id"], "priv");
}

#[test]
fn the_help_and_the_schema_state_the_default() {
    let (_, help, _) = parts(&run(&["scan", "--help"]));
    assert!(help.contains("--max-cel-cost <N>"), "{help}");
    assert!(help.contains(&format!("{DEFAULT_MAX_CEL_COST}]")), "{help}");
    let schema = std::fs::read_to_string(root().join("schemas/config.schema.json")).unwrap();
    assert!(
        schema.contains(&format!("default {DEFAULT_MAX_CEL_COST}.")),
        "schemas/config.schema.json"
    );
}

#[test]
fn a_zero_budget_is_refused() {
    let (code, _, err) = parts(&run(&["scan", "fixtures", "--max-cel-cost", "0"]));
    assert_eq!(code, 2);
    assert!(err.contains("--max-cel-cost"), "{err}");
    let dir = tree(&[
        (".isms-lint.yaml", "max-cel-cost: 0\n"),
        ("pod.yaml", PRIVILEGED_POD),
    ]);
    let (code, _, err) = parts(&run_in(dir.path(), &["scan", "."]));
    assert_eq!(code, 2);
    assert!(err.contains("max-cel-cost must be at least 1"), "{err}");
}
