//! Rule gates skip rules that cannot report on a document. Skipping must change nothing: the
//! fixtures of every built-in rule scan to exactly the same findings, rule errors and
//! evaluation counts with every gate forced open.

mod common;

use common::*;
use isms_lint::rules::gate::Gate;
use isms_lint::rules::{builtin_sources, RuleSet};
use isms_lint::scan::{scan, ScanOptions, ScanResult};

fn scan_fixtures(rules: &RuleSet) -> ScanResult {
    let opts = ScanOptions {
        paths: vec![root().join("fixtures")],
        jobs: Some(2),
        ..ScanOptions::default()
    };
    scan(rules, &opts).unwrap()
}

#[test]
fn gates_change_no_finding_error_or_count() {
    let gated = RuleSet::load(builtin_sources());
    assert!(gated.errors.is_empty(), "{:?}", gated.errors);
    let mut open = RuleSet::load(builtin_sources());
    for r in &mut open.rules {
        r.selection_mut().gate = Gate::Open;
    }
    let with = scan_fixtures(&gated);
    let without = scan_fixtures(&open);

    // The gates did work: a good share of rule runs were settled without CEL.
    assert_eq!(with.timings.rule_runs, without.timings.rule_runs);
    assert_eq!(without.timings.rule_runs_gated, 0);
    assert!(
        with.timings.rule_runs_gated * 3 > with.timings.rule_runs,
        "only {} of {} runs gated",
        with.timings.rule_runs_gated,
        with.timings.rule_runs
    );
    // …and changed nothing.
    assert!(with.findings.len() > 500, "{}", with.findings.len());
    assert_eq!(with.findings, without.findings);
    assert_eq!(with.rule_errors, without.rule_errors);
    assert_eq!(with.rule_stats, without.rule_stats);
    assert_eq!(with.documents_by_kind, without.documents_by_kind);
}

#[test]
fn built_in_rules_get_the_gates_their_select_implies() {
    let rules = RuleSet::load(builtin_sources());
    let gate = |id: &str| rules.get(id).unwrap().selection().gate.clone();
    assert_eq!(
        gate("cfn-alb-access-logs"),
        Gate::Resource("AWS::ElasticLoadBalancingV2::LoadBalancer".into())
    );
    assert_eq!(
        gate("k8s-hpa-min-replicas"),
        Gate::KindIn(vec!["HorizontalPodAutoscaler".into()])
    );
    assert_eq!(gate("k8s-container-privileged"), Gate::PodSpec);
    let gated = rules
        .rules
        .iter()
        .filter(|r| r.selection().gate != Gate::Open)
        .count();
    assert!(
        gated >= 200,
        "only {gated} of {} rules have a gate",
        rules.rules.len()
    );
}
