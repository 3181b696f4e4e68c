//! Suppressions, waivers, baselines and `--new-since`, end to end through the binary.

mod common;

use std::process::Command;

use common::*;

fn scan_json(dir: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
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
    let o = run_in(dir, &args);
    (o.status.code().unwrap_or(-1), json(&o))
}

fn rule_ids(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

fn pod_with(comment_line: &str) -> String {
    PRIVILEGED_POD.replace(
        "        privileged: true\n",
        &format!("        {comment_line}\n        privileged: true\n"),
    )
}

#[test]
fn reasoned_suppression_hides_from_exit_code_and_appears_in_sarif() {
    let pod = pod_with(
        "# isms-lint: ignore[priv] reason=\"node agent needs it; SEC-12\" until=2099-01-01",
    );
    let dir = tree(&[("rules/priv.yaml", PRIVILEGED_RULE), ("k8s/pod.yaml", &pod)]);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["suppressed_findings"], 1);
    assert_eq!(v["summary"]["open_findings"], 0);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let s = json(&o);
    let sup = &s["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(sup["kind"], "inSource");
    assert_eq!(sup["justification"], "node agent needs it; SEC-12");
    assert_eq!(sup["properties"]["expires"], "2099-01-01");
}

#[test]
fn suppression_without_reason_does_not_hide() {
    let pod = pod_with("# isms-lint: ignore[priv]");
    let dir = tree(&[("rules/priv.yaml", PRIVILEGED_RULE), ("k8s/pod.yaml", &pod)]);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rule_ids(&v), ["invalid-suppression", "priv"]);
    assert_eq!(v["findings"][0]["start"]["line"], 9);
    assert_eq!(v["findings"][1]["start"]["line"], 10);
}

#[test]
fn expired_suppression_does_not_hide_and_says_so() {
    let pod = pod_with("# isms-lint: ignore[priv] reason=\"temporary\" until=2020-01-31");
    let dir = tree(&[("rules/priv.yaml", PRIVILEGED_RULE), ("k8s/pod.yaml", &pod)]);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rule_ids(&v), ["expired-suppression", "priv"]);
    assert!(v["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expired on 2020-01-31"));
}

#[test]
fn unused_suppression_is_reported() {
    let pod = PRIVILEGED_POD.replace("privileged: true", "privileged: false")
        + "# isms-lint: ignore[priv] reason=\"old exception\"\n";
    let dir = tree(&[("rules/priv.yaml", PRIVILEGED_RULE), ("k8s/pod.yaml", &pod)]);
    let (code, v) = scan_json(dir.path(), &["--report-unused-suppressions"]);
    assert_eq!(
        code, 0,
        "unused-suppression is info: it does not fail the default gate"
    );
    assert_eq!(rule_ids(&v), ["unused-suppression"]);
    assert_eq!(v["findings"][0]["start"]["line"], 10);
}

#[test]
fn suppression_at_the_top_of_the_element_covers_it() {
    let pod = PRIVILEGED_POD.replace(
        "    - name: app\n",
        "    # isms-lint: ignore[priv] reason=\"debug pod, deleted after incident\"\n    - name: app\n",
    );
    let dir = tree(&[("rules/priv.yaml", PRIVILEGED_RULE), ("k8s/pod.yaml", &pod)]);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["suppressed_findings"], 1);
}

const WAIVER_CONFIG: &str = "waivers:\n  - rule: priv\n    paths: [\"k8s/**\"]\n    reason: \"accepted by CISO, RISK-7\"\n    owner: platform\n    expires: EXPIRES\n";

#[test]
fn config_waiver_behaves_the_same() {
    let cfg = WAIVER_CONFIG.replace("EXPIRES", "2099-12-31");
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
        (".isms-lint.yaml", &cfg),
    ]);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["suppressed_findings"], 1);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "sarif",
        ],
    );
    let s = json(&o);
    let sup = &s["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(sup["kind"], "external");
    assert_eq!(sup["properties"]["owner"], "platform");

    let expired = WAIVER_CONFIG.replace("EXPIRES", "2021-01-01");
    std::fs::write(dir.path().join(".isms-lint.yaml"), expired).unwrap();
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rule_ids(&v), ["expired-suppression", "priv"]);
    assert_eq!(v["findings"][0]["path"], ".isms-lint.yaml");
    assert_eq!(v["findings"][0]["start"]["line"], 2);

    let unused = WAIVER_CONFIG
        .replace("EXPIRES", "2099-01-01")
        .replace("k8s/**", "other/**");
    std::fs::write(dir.path().join(".isms-lint.yaml"), unused).unwrap();
    let (code, v) = scan_json(dir.path(), &["--report-unused-suppressions"]);
    assert_eq!(code, 1);
    assert_eq!(rule_ids(&v), ["unused-suppression", "priv"]);
}

#[test]
fn waiver_without_reason_is_a_config_error() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
        (".isms-lint.yaml", "waivers:\n  - rule: priv\n"),
    ]);
    // A config error stops the scan: nothing on stdout, the file and line on stderr.
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
    let (code, stdout, stderr) = parts(&o);
    assert_eq!(code, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("has no reason"), "{stderr}");
    assert!(stderr.contains("[.isms-lint.yaml:2:"), "{stderr}");
}

#[test]
fn baseline_then_inserted_lines_report_nothing_new() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "baseline",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "-o",
            "base.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", parts(&o));
    let shifted = format!(
        "# a comment\n\n{}",
        PRIVILEGED_POD.replace("spec:\n", "spec:\n\n\n")
    );
    std::fs::write(dir.path().join("k8s/pod.yaml"), shifted).unwrap();
    let (code, v) = scan_json(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 0, "{v}");
    assert!(v["findings"].as_array().unwrap().is_empty());
    // A new violation in another file is not absorbed by the baseline.
    std::fs::write(dir.path().join("k8s/other.yaml"), PRIVILEGED_POD).unwrap();
    let (code, v) = scan_json(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 1);
    assert_eq!(v["findings"][0]["path"], "k8s/other.yaml");
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn new_since_reports_only_what_the_second_commit_introduced() {
    let two_pods = format!(
        "{PRIVILEGED_POD}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  containers:\n    - name: api\n"
    );
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", &two_pods),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "first"]);
    // Second commit: unrelated lines above the old finding, and a new privileged container.
    let changed = format!("# header\n\n{two_pods}").replace(
        "    - name: api\n",
        "    - name: api\n      securityContext:\n        privileged: true\n",
    );
    std::fs::write(dir.path().join("k8s/pod.yaml"), changed).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "second"]);
    let (code, v) = scan_json(dir.path(), &["--new-since", "HEAD~1"]);
    assert_eq!(code, 1, "{v}");
    let found: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["message"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("container 'api' runs privileged".to_string(), 21)]);
}

#[test]
fn new_since_in_a_shallow_clone_says_how_to_fetch() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let origin = dir.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    for i in 0..3 {
        std::fs::write(origin.join(format!("f{i}.txt")), "x").unwrap();
        git(&origin, &["add", "."]);
        git(&origin, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    let url = format!("file://{}", origin.display());
    git(dir.path(), &["clone", "-q", "--depth", "1", &url, "clone"]);
    let clone = dir.path().join("clone");
    let o = run_in(&clone, &["scan", ".", "--new-since", "HEAD~2"]);
    let (code, _, err) = parts(&o);
    assert_eq!(code, 2);
    assert!(err.contains("fetch"), "{err}");
}
