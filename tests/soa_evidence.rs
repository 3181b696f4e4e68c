//! Statement of Applicability, the evidence bundle, its verification and the organisation merge.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const RESOURCES_RULE: &str = r#"title: Containers declare resource limits
severity: medium
kinds: [kubernetes]
controls:
  - id: "8.6"
    relation: partial
    rationale: Limits keep one workload from exhausting the node.
select: containers(doc)
assert: has(item.resources) && has(item.resources.limits)
at: resources.limits
message: "container '{{ item.name }}' has no limits"
remediation: Set resources.limits.
"#;

const COMPOSE_RULE: &str = r#"title: Compose services do not use host networking
severity: high
kinds: [compose]
controls:
  - id: "8.20"
    relation: partial
    rationale: Host networking removes network isolation.
select: services(doc)
assert: "item.?network_mode.orValue('') != 'host'"
at: network_mode
message: "service '{{ key }}' uses host networking"
remediation: Remove network_mode host.
"#;

const POD_WITH_LIMITS: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      resources:
        limits: {cpu: 100m}
      securityContext:
        privileged: true
";

const CONFIG: &str = r#"controls:
  "7.1": {applicable: false, justification: "Fully remote company, no offices", owner: facilities}
  "7.2": {applicable: false, justification: "No offices"}
  "8.2": {applicable: false, justification: "We think we have no privileged access"}
  "8.6": {applicable: true, owner: platform, evidence: ["https://wiki.example/capacity"]}
  "5.1": {applicable: true, justification: "Policy approved 2026-01", owner: ciso}
"#;

fn repo() -> tempfile::TempDir {
    tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/limits.yaml", RESOURCES_RULE),
        ("rules/compose-host.yaml", COMPOSE_RULE),
        ("k8s/pod.yaml", POD_WITH_LIMITS),
        (".isms-lint.yaml", CONFIG),
    ])
}

fn isms(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(args)
        .current_dir(dir)
        .env("ISMS_LINT_TODAY", "2026-11-28")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .expect("binary runs")
}

fn row<'a>(soa: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn soa_has_93_rows_with_each_status_and_the_contradiction() {
    let dir = repo();
    let o = isms(
        dir.path(),
        &[
            "soa",
            ".",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let soa = json(&o);
    assert_eq!(soa["controls"].as_array().unwrap().len(), 93);
    // passing: its rule ran on a document and found nothing.
    let r = row(&soa, "8.6");
    assert_eq!(
        (r["status"].as_str(), r["open"].as_u64()),
        (Some("passing"), Some(0))
    );
    assert_eq!(r["rules_evaluated"], 1);
    assert_eq!(r["evidence"][0], "https://wiki.example/capacity");
    // What it judged: one container, compliant.
    assert_eq!(
        (&r["judged"], &r["passed"], &r["failed"], &r["unknown"]),
        (&1.into(), &1.into(), &0.into(), &0.into())
    );
    assert_eq!(r["rules"][0]["documents"], 1);
    // not evaluated: a rule exists but no compose file was found, and it says so.
    let r = row(&soa, "8.20");
    assert_eq!(r["status"], "not evaluated");
    assert_eq!(r["reason"], "no compose documents scanned");
    assert_eq!(r["judged"], 0);
    // manual: no automated rule, declared applicable; undecided: no rule and no decision.
    let r = row(&soa, "5.1");
    assert_eq!(r["status"], "manual");
    assert_eq!(r["owner"], "ciso");
    assert_eq!(row(&soa, "5.2")["status"], "undecided");
    // not applicable, without and with a contradiction.
    let r = row(&soa, "7.1");
    assert_eq!(
        (r["status"].as_str(), r["applicability"].as_str()),
        (Some("not applicable"), Some("not applicable"))
    );
    assert!(r["conflict"].is_null());
    let r = row(&soa, "8.2");
    assert_eq!(r["status"], "not applicable");
    assert_eq!(r["open"], 1);
    assert!(r["conflict"].as_str().unwrap().contains("disagree"));
    // undecided where the config is silent.
    assert_eq!(row(&soa, "8.24")["applicability"], "undecided");

    // failing: with 8.2 applicable, the privileged container fails it.
    std::fs::write(
        dir.path().join(".isms-lint.yaml"),
        CONFIG.replace("\"8.2\": {applicable: false", "\"8.2\": {applicable: true"),
    )
    .unwrap();
    let o = isms(
        dir.path(),
        &[
            "soa",
            ".",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    let soa = json(&o);
    assert_eq!(row(&soa, "8.2")["status"], "failing");

    let md = isms(
        dir.path(),
        &["soa", ".", "--no-default-rules", "--rules", "rules"],
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("## A.7 Physical controls"), "{md}");
    assert!(
        md.contains(
            "| A.8.2 Privileged access rights | applicable | failing | `priv` (partial: 1 failed) | 1 | 0 | 1 | 0 | 1 |"
        ),
        "{md}"
    );
    let csv = isms(
        dir.path(),
        &[
            "soa",
            ".",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "csv",
        ],
    );
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert_eq!(csv.lines().count(), 94);
    assert!(csv.starts_with("id,title,theme,new_in_2022,applicability,justification,owner,status,"));
    assert!(csv.contains("A.7.1,Physical security perimeters,physical,false,not applicable,\"Fully remote company, no offices\",facilities,not applicable,"), "{csv}");
}

fn bundle(dir: &Path, out: &str) {
    let o = isms(
        dir,
        &[
            "evidence",
            ".",
            "--no-default-rules",
            "--rules",
            "rules",
            "--out",
            out,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn evidence_is_reproducible_and_verifiable() {
    let dir = repo();
    // Twice into the same directory, as a nightly job does: the second run neither scans the
    // first bundle nor differs from it.
    let first = tempfile::tempdir().unwrap();
    bundle(dir.path(), "b1");
    for name in evidence_files() {
        std::fs::copy(dir.path().join("b1").join(name), first.path().join(name)).unwrap();
    }
    bundle(dir.path(), "b1");
    for name in evidence_files() {
        if name == "manifest.json" {
            continue;
        }
        let a = std::fs::read(first.path().join(name)).unwrap();
        let b = std::fs::read(dir.path().join("b1").join(name)).unwrap();
        assert_eq!(a, b, "{name} differs between two runs");
    }
    let m1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.path().join("manifest.json")).unwrap())
            .unwrap();
    let m2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b1/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m1["bundle_digest"], m2["bundle_digest"]);
    assert_eq!(m1["rule_pack_digest"], m2["rule_pack_digest"]);
    assert_eq!(m1["files_scanned"], m2["files_scanned"]);
    assert_eq!(m1["outputs"].as_array().unwrap().len(), 7);
    assert_eq!(m1["documents_by_kind"]["kubernetes"], 1);
    assert!(m1["config_digest"].is_string());

    let ok = isms(dir.path(), &["evidence", "verify", "b1"]);
    assert_eq!(ok.status.code(), Some(0));
    let csv = dir.path().join("b1/soa.csv");
    let mut bytes = std::fs::read(&csv).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&csv, bytes).unwrap();
    let bad = isms(dir.path(), &["evidence", "verify", "b1"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("TAMPERED soa.csv: sha256 is"));
}

/// Every file of an unsigned bundle.
fn evidence_files() -> [&'static str; 8] {
    [
        "results.sarif",
        "findings.json",
        "soa.md",
        "soa.csv",
        "soa.json",
        "oscal-assessment-results.json",
        "soa.html",
        "manifest.json",
    ]
}

#[test]
fn merge_rolls_statuses_up_across_repositories() {
    // Repository A: privileged pod (8.2 failing), limits set (8.6 passing).
    let a = repo();
    std::fs::write(a.path().join(".isms-lint.yaml"), "controls: {}\n").unwrap();
    bundle(a.path(), "bundle");
    // Repository B: compliant pod without limits (8.6 failing), compose host network (8.20 failing).
    let b = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/limits.yaml", RESOURCES_RULE),
        ("rules/compose-host.yaml", COMPOSE_RULE),
        (
            "k8s/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n    - name: b\n      image: nginx:1.27\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  web:\n    image: nginx\n    network_mode: host\n",
        ),
    ]);
    bundle(b.path(), "bundle");
    let out = tempfile::tempdir().unwrap();
    let o = isms(
        out.path(),
        &[
            "evidence",
            "merge",
            a.path().join("bundle").to_str().unwrap(),
            b.path().join("bundle").to_str().unwrap(),
            "--out",
            "org",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let soa: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("org/soa.json")).unwrap()).unwrap();
    let name_a = a.path().file_name().unwrap().to_string_lossy().into_owned();
    let name_b = b.path().file_name().unwrap().to_string_lossy().into_owned();
    let r = row(&soa, "8.2");
    assert_eq!(r["status"], "failing");
    assert_eq!(r["failing_in"], serde_json::json!([name_a]));
    let r = row(&soa, "8.6");
    assert_eq!(r["status"], "failing");
    assert_eq!(r["failing_in"], serde_json::json!([name_b]));
    assert_eq!(row(&soa, "8.20")["status"], "failing");
    assert_eq!(row(&soa, "8.20")["open"], 1);
    // Neither repository decided 5.1 and no rule evidences it.
    assert_eq!(row(&soa, "5.1")["status"], "undecided");
    assert!(soa["meta"]["repository"]
        .as_str()
        .unwrap()
        .contains("2 repositories"));
}
