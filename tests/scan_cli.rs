//! End-to-end behaviour of `isms-lint scan`: exit codes, exact lines, parse errors, rule errors,
//! determinism across thread counts, SARIF contract.

mod common;

use common::*;

#[test]
fn scanning_the_fixtures_reports_findings_and_exits_1() {
    let o = run(&["scan", "fixtures/"]);
    let (code, out, _) = parts(&o);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("k8s-container-privileged"), "{out}");
    assert!(
        out.contains("fixtures/k8s-container-privileged/fail/deployment.yaml:12:13"),
        "{out}"
    );
    assert!(out.contains("A.8.2 Privileged access rights"), "{out}");
}

#[test]
fn every_pass_folder_scans_clean() {
    // In-process, with the rules loaded once: the same scan `isms-lint scan fixtures/<id>/pass`
    // runs, judged the way the default `--fail-on low` judges it.
    use isms_lint::rules::{builtin_sources, RuleSet, Severity};
    use isms_lint::scan::{scan, ScanOptions};
    let rules = RuleSet::load(builtin_sources());
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    let mut dirty = Vec::new();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for dir in entries {
        let pass = dir.join("pass");
        if !pass.is_dir() {
            continue;
        }
        let opts = ScanOptions {
            paths: vec![pass.clone()],
            jobs: Some(1),
            ..ScanOptions::default()
        };
        let result = scan(&rules, &opts).unwrap();
        let open: Vec<String> = result
            .findings
            .iter()
            .filter(|f| f.is_open() && f.severity >= Severity::Low)
            .map(|f| format!("{} {}:{}", f.rule_id, f.path, f.start.line))
            .collect();
        if !open.is_empty() || !result.rule_errors.is_empty() {
            dirty.push(format!(
                "{}: {open:?} {:?}",
                pass.display(),
                result.rule_errors
            ));
        }
        checked += 1;
    }
    assert!(checked > 300, "only {checked} pass folders");
    assert!(
        dirty.is_empty(),
        "{} pass folders are not clean:\n{}",
        dirty.len(),
        dirty.join("\n")
    );
}

#[test]
fn fail_on_threshold_and_none() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let base = ["scan", "k8s", "--no-default-rules", "--rules", "rules"];
    let code = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        run_in(dir.path(), &args).status.code()
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--fail-on", "high"]), Some(1));
    assert_eq!(code(&["--fail-on", "critical"]), Some(0));
    assert_eq!(code(&["--fail-on", "none"]), Some(0));
}

#[test]
fn json_output_has_exact_location_and_controls() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    let v = json(&o);
    let f = &v["findings"][0];
    assert_eq!(f["rule_id"], "priv");
    assert_eq!(f["path"], "k8s/pod.yaml");
    assert_eq!(f["start"]["line"], 9);
    assert_eq!(f["start"]["col"], 9);
    assert_eq!(f["controls"], serde_json::json!(["8.2"]));
    assert_eq!(f["severity"], "high");
    assert_eq!(v["summary"]["failed"], true);
}

#[test]
fn truncated_yaml_is_a_parse_error_and_other_files_are_still_scanned() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/a-pod.yaml", PRIVILEGED_POD),
        (
            "k8s/b-broken.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n    {name: x,\n",
        ),
        ("k8s/c-pod.yaml", PRIVILEGED_POD),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let got: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("priv".to_string(), "k8s/a-pod.yaml".to_string(), 9),
            (
                "parse-error".to_string(),
                "k8s/b-broken.yaml".to_string(),
                6
            ),
            ("priv".to_string(), "k8s/c-pod.yaml".to_string(), 9),
        ]
    );
}

#[test]
fn broken_rule_file_gives_three_located_diagnostics_and_exit_2() {
    let broken = PRIVILEGED_RULE
        .replace("\"8.2\"", "\"8.99\"")
        .replace("orValue(false)\"", "orValue(false) &&\"")
        .replace("remediation:", "remedy: x\nremediation:");
    let dir = tree(&[
        ("rules/priv.yaml", &broken),
        ("rules/good.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    let errs: Vec<(String, u64, String)> = v["config_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs.iter().all(|e| e.0 == "rules/priv.yaml"));
    let lines: Vec<u64> = errs.iter().map(|e| e.1).collect();
    assert_eq!(lines, [5, 9, 12], "{errs:?}");
    // The good rule still ran.
    assert_eq!(v["findings"][0]["rule_id"], "good");
    // Text output shows the rule file's line with a caret.
    let text = run_in(
        dir.path(),
        &["scan", "k8s", "--no-default-rules", "--rules", "rules"],
    );
    let (_, out, _) = parts(&text);
    assert!(out.contains("rules/priv.yaml:5:"), "{out}");
    assert!(out.contains("unknown Annex A control '8.99'"), "{out}");
}

#[test]
fn runtime_rule_error_exits_2_and_names_rule_and_file() {
    let rule = PRIVILEGED_RULE.replace(
        "!item.?securityContext.?privileged.orValue(false)",
        "!item.securityContext.privileged",
    );
    let pod = format!("{PRIVILEGED_POD}    - name: plain\n      image: x\n");
    let dir = tree(&[("rules/priv.yaml", &rule), ("k8s/pod.yaml", &pod)]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    assert_eq!(v["rule_errors"][0]["rule_id"], "priv");
    assert_eq!(v["rule_errors"][0]["path"], "k8s/pod.yaml");
    assert_eq!(v["rule_errors"][0]["line"], 10);
}

#[test]
fn output_is_byte_identical_for_any_jobs_count() {
    for format in ["text", "json", "sarif", "github", "markdown"] {
        let outs: Vec<Vec<u8>> = ["1", "2", "8"]
            .iter()
            .map(|j| run(&["scan", "fixtures/", "--format", format, "--jobs", j]).stdout)
            .collect();
        assert!(!outs[0].is_empty(), "{format}");
        assert_eq!(outs[0], outs[1], "{format}: --jobs 1 vs 2");
        assert_eq!(outs[0], outs[2], "{format}: --jobs 1 vs 8");
    }
}

#[test]
fn sarif_carries_taxonomy_rules_and_stable_fingerprints() {
    let o = run(&["scan", "fixtures/", "--format", "sarif"]);
    let v = json(&o);
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
    let taxa = run0["taxonomies"][0]["taxa"].as_array().unwrap();
    assert_eq!(taxa.len(), 93);
    assert_eq!(run0["taxonomies"][1]["taxa"].as_array().unwrap().len(), 4);
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> =
        rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len(), "rule ids are unique");
    let priv_rule = rules
        .iter()
        .find(|r| r["id"] == "k8s-container-privileged")
        .unwrap();
    let tags: Vec<&str> = priv_rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"iso27001:2022/A.8.2"));
    assert_eq!(priv_rule["properties"]["security-severity"], "8.0");
    assert_eq!(priv_rule["relationships"][0]["target"]["id"], "A.8.2");
    let result = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "k8s-container-privileged")
        .unwrap();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 12);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "%SRCROOT%"
    );
}

#[test]
fn fingerprints_do_not_change_when_blank_lines_are_inserted() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let args = [
        "scan",
        "k8s",
        "--no-default-rules",
        "--rules",
        "rules",
        "--format",
        "sarif",
    ];
    let fp = |o: &std::process::Output| {
        let v = json(o);
        let r = &v["runs"][0]["results"][0];
        (
            r["partialFingerprints"]["isms-lint/v1"]
                .as_str()
                .unwrap()
                .to_string(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
        )
    };
    let before = fp(&run_in(dir.path(), &args));
    let shifted = PRIVILEGED_POD.replace("spec:\n", "\n\n\nspec:\n");
    std::fs::write(dir.path().join("k8s/pod.yaml"), shifted).unwrap();
    let after = fp(&run_in(dir.path(), &args));
    assert_eq!(before.1 + 3, after.1);
    assert_eq!(before.0, after.0);
}

#[test]
fn github_format_emits_annotations() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "github",
        ],
    );
    let (code, out, _) = parts(&o);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("::error file=k8s/pod.yaml,line=9,col=9,endLine=9,title=priv [high] (A.8.2)::container 'app' runs privileged"),
        "{out}"
    );
}

#[test]
fn only_and_skip_select_by_rule_or_control() {
    let o = run(&["scan", "fixtures/", "--only", "8.2", "--format", "json"]);
    let v = json(&o);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(
            |f| f["controls"].as_array().unwrap().iter().any(|c| c == "8.2")
                || f["rule_id"] == "parse-error"
        ));
    let o = run(&[
        "scan",
        "fixtures/",
        "--skip",
        "k8s-container-privileged",
        "--format",
        "json",
    ]);
    let v = json(&o);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule_id"] != "k8s-container-privileged"));
    let o = run(&["scan", "fixtures/", "--only", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn timings_report_gated_runs_and_the_work_of_each_rule() {
    // A Deployment with two privileged containers: the container rule judges both; the HPA
    // rule's gate (`doc.kind == 'HorizontalPodAutoscaler'`) settles it without running CEL.
    let o = run(&[
        "scan",
        "fixtures/k8s-container-privileged/fail/deployment.yaml",
        "--no-config",
        "--only",
        "k8s-container-privileged,k8s-hpa-min-replicas",
        "--format",
        "json",
        "--timings",
    ]);
    let (code, _, err) = parts(&o);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("timings: discover "), "{err}");
    assert!(lines[0].ends_with(", 1 files"), "{err}");
    assert_eq!(
        lines[1],
        "rules: 2 runs (rule x document), 1 settled by their gate without running CEL"
    );
    assert_eq!(
        lines.len(),
        4,
        "one profiled rule, then the highest cost: {err}"
    );
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    let path = "fixtures/k8s-container-privileged/fail/deployment.yaml";
    let shown = format!("({path})");
    assert_eq!(
        row[1..],
        [
            "ms",
            "k8s-container-privileged",
            "1",
            "runs,",
            "2",
            "elements,",
            "CEL",
            "cost",
            "up",
            "to",
            "9",
            &shown
        ]
    );
    // The cost is deterministic: the same counts whatever the machine or `--jobs`.
    assert_eq!(
        lines[3],
        format!(
            "highest CEL cost of one rule on one document: 9 (k8s-container-privileged on {path}; --max-cel-cost 20000000)"
        )
    );
    assert_eq!(json(&o)["findings"].as_array().unwrap().len(), 2);
}
