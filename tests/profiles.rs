//! Rule profiles (issue 14): a scan runs `default` rules; `--profile` and the config's
//! `profiles:` add `strict` and `org`; `--only <rule>` runs a rule whatever its profile; the
//! Statement of Applicability shows rules left out as not evaluated, never passing.

mod common;

use common::*;

const FIXTURE: &str = "fixtures/k8s-owner-labels-missing/fail";

fn lines_of(report: &serde_json::Value, rule: &str) -> Vec<u64> {
    let mut lines: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| f["start"]["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_rule_outside_default_says_why() {
    let set = isms_lint::rules::RuleSet::load(isms_lint::rules::builtin_sources());
    let problems = isms_lint::docs::profile_problems(&set);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let org: Vec<&str> = set
        .rules
        .iter()
        .filter(|r| r.profile == isms_lint::rules::Profile::Org)
        .map(|r| r.id.as_str())
        .collect();
    assert!(org.contains(&"k8s-owner-labels-missing"), "{org:?}");
    assert!(org.contains(&"docker-owner-label-missing"), "{org:?}");
    let strict = set.get("docker-healthcheck-missing").unwrap();
    assert_eq!(strict.profile, isms_lint::rules::Profile::Strict);
}

#[test]
fn the_default_scan_leaves_org_rules_out_and_profile_adds_them() {
    let base = ["scan", FIXTURE, "--no-config", "--format", "json"];
    let o = run(&base);
    let report = json(&o);
    assert!(
        lines_of(&report, "k8s-owner-labels-missing").is_empty(),
        "{report}"
    );
    for extra in [
        &["--profile", "org"][..],
        &["--profile", "all"],
        &["--only", "k8s-owner-labels-missing"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let report = json(&run(&args));
        assert_eq!(
            lines_of(&report, "k8s-owner-labels-missing"),
            [5, 24],
            "{extra:?}"
        );
    }
    let o = run(&["scan", FIXTURE, "--no-config", "--profile", "loud"]);
    let (code, _, err) = parts(&o);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown profile 'loud'"), "{err}");
}

#[test]
fn the_config_selects_profiles() {
    let dir = tree(&[
        (".isms-lint.yaml", "profiles: [org]\n"),
        (
            "k8s/workloads.yaml",
            &std::fs::read_to_string(root().join(FIXTURE).join("workloads.yaml")).unwrap(),
        ),
    ]);
    let report = json(&run_in(dir.path(), &["scan", ".", "--format", "json"]));
    assert_eq!(lines_of(&report, "k8s-owner-labels-missing"), [5, 24]);
    // `--profile` replaces the config's list.
    let report = json(&run_in(
        dir.path(),
        &["scan", ".", "--format", "json", "--profile", "strict"],
    ));
    assert!(lines_of(&report, "k8s-owner-labels-missing").is_empty());
    let dir = tree(&[(".isms-lint.yaml", "profile: noisy\n")]);
    let (code, _, err) = parts(&run_in(dir.path(), &["scan", "."]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown profile 'noisy'"), "{err}");
}

#[test]
fn the_soa_shows_rules_left_out_as_not_evaluated() {
    let row = |extra: &[&str]| {
        let mut args = vec!["soa", FIXTURE, "--no-config", "--format", "json"];
        args.extend(extra);
        let soa = json(&run(&args));
        soa["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "5.9")
            .cloned()
            .unwrap()
    };
    // A.5.9 is evidenced only by owner-label and owner-tag rules, all in `org`.
    let r = row(&[]);
    assert_eq!(r["status"], "not evaluated", "{r}");
    assert!(
        r["reason"].as_str().unwrap().contains("not in profile"),
        "{r}"
    );
    let rule = r["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "k8s-owner-labels-missing")
        .unwrap();
    assert_eq!(rule["not_run"], "not in profile 'org'", "{r}");
    assert_eq!(rule["judged"], 0, "{r}");
    // Selected, it judges both workloads (its findings are `info`, so they do not fail 5.9).
    let r = row(&["--profile", "org"]);
    assert_ne!(r["status"], "not evaluated", "{r}");
    let rule = r["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "k8s-owner-labels-missing")
        .unwrap();
    assert_eq!(
        (rule["judged"].as_u64(), rule["failed"].as_u64()),
        (Some(2), Some(2)),
        "{r}"
    );
    assert!(rule.get("not_run").is_none(), "{r}");
}
