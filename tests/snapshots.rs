//! What users see, reviewed on purpose: the text report, SARIF and the SoA of a fixed input are
//! snapshot-tested (insta). A change shows as a diff; accept it with `INSTA_UPDATE=always cargo test`.

mod common;

use std::process::Command;

use common::*;

fn run_fixed(args: &[&str]) -> String {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let o = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("ISMS_LINT_TODAY", "2026-11-28")
        .env("GITHUB_REPOSITORY", "acme/payments")
        .env("GITHUB_WORKSPACE", dir.path())
        .output()
        .expect("binary runs");
    String::from_utf8(o.stdout).expect("utf-8 output")
}

const BASE: [&str; 5] = [
    "k8s",
    "--no-default-rules",
    "--rules",
    "rules",
    "--no-config",
];

fn with(cmd: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec![cmd.to_string()];
    v.extend(BASE.iter().map(|s| s.to_string()));
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn text_report() {
    let a = with("scan", &["--format", "text"]);
    insta::assert_snapshot!(run_fixed(&args(&a)));
}

#[test]
fn sarif_report() {
    let a = with("scan", &["--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&run_fixed(&args(&a))).unwrap();
    // The 93-taxon taxonomy is checked elsewhere; keep the snapshot readable.
    let mut run = sarif["runs"][0].clone();
    // The scan root (a temporary directory) is where URIs start: keep its shape, not its name.
    let base = &mut run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    let uri = base.as_str().unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/k8s/"),
        "{uri}"
    );
    *base = serde_json::json!("file:///TMP/k8s/");
    run["taxonomies"][0]["taxa"] = serde_json::json!(format!(
        "{} taxa",
        run["taxonomies"][0]["taxa"].as_array().unwrap().len()
    ));
    insta::assert_json_snapshot!(run);
}

#[test]
fn soa_markdown() {
    let a = with("soa", &["--format", "markdown"]);
    insta::assert_snapshot!(run_fixed(&args(&a)));
}
