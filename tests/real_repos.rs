//! What real repositories need (issue 14): nothing skipped silently, kinds under the user's
//! control, Helm charts recognised and their rendered output mapped back, and files the
//! ecosystem's own tools accept parsed. Each case asserts exact paths, lines, counts and exit
//! codes.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::*;

/// A pod whose `hostPID: true` is on line 5.
const HOST_PID_POD: &str =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: true\n  containers: []\n";

/// `(rule, path, line)` of every finding.
fn findings(v: &serde_json::Value) -> Vec<(String, String, u64)> {
    v["findings"]
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
        .collect()
}

fn hits(rule: &str, path: &str, line: u64) -> (String, String, u64) {
    (rule.to_string(), path.to_string(), line)
}

/// Runs `isms-lint ARGS` in `dir` with `input` on standard input.
fn run_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn files_a_parent_gitignore_leaves_out_are_counted_and_named() {
    let dir = tree(&[
        (".gitignore", "corpus/*/\n"),
        ("corpus/x/k8s/pod.yaml", HOST_PID_POD),
        ("corpus/x/notes.md", "x\n"),
    ]);
    let corpus = dir.path().join("corpus");
    let o = run_in(
        &corpus,
        &["scan", ".", "--no-config", "--only", "k8s-host-pid"],
    );
    let (code, out, _) = parts(&o);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Scanned 0 files (0 documents) with 1 rule.\n"),
        "{out}"
    );
    assert!(
        out.contains("Not read: 1 file ignored by ../.gitignore.\n"),
        "{out}"
    );
    // The same in JSON, and as a SARIF tool execution notification.
    let v = json(&run_in(
        &corpus,
        &["scan", ".", "--no-config", "--format", "json"],
    ));
    assert_eq!(
        v["summary"]["skipped"]["ignored"],
        serde_json::json!({"../.gitignore": 1})
    );
    let sarif = json(&run_in(
        &corpus,
        &["scan", ".", "--no-config", "--format", "sarif"],
    ));
    let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(
        notes[0]["message"]["text"],
        "../.gitignore: 1 file of a kind isms-lint reads ignored by this file; not scanned (--no-ignore scans them)"
    );
    // --no-ignore reads it.
    let o = run_in(
        &corpus,
        &[
            "scan",
            ".",
            "--no-config",
            "--no-ignore",
            "--only",
            "k8s-host-pid",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(findings(&v), [hits("k8s-host-pid", "x/k8s/pod.yaml", 5)]);
    assert_eq!(v["summary"]["skipped"]["unknown_kind"], 1, "notes.md");
}

#[test]
fn excluded_and_unknown_files_are_counted_in_the_summary() {
    let dir = tree(&[
        ("k8s/pod.yaml", HOST_PID_POD),
        ("vendor/v.yaml", HOST_PID_POD),
        ("README.md", "x\n"),
        ("main.rs", "fn main() {}\n"),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--exclude",
            "vendor",
            "--only",
            "k8s-host-pid",
        ],
    );
    let (code, out, _) = parts(&o);
    assert_eq!(code, 1);
    assert!(
        out.contains("Not read: 1 file excluded, 2 of no known kind.\n"),
        "{out}"
    );
}

#[test]
fn a_helm_chart_is_one_info_notice_and_its_templates_are_not_parsed() {
    let dir = tree(&[
        (
            "charts/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ),
        ("charts/web/values.yaml", "image: nginx\n"),
        (
            "charts/web/templates/deploy.yaml",
            "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n",
        ),
        (
            "charts/web/templates/_helpers.tpl",
            "{{ define \"x\" }}{{ end }}\n",
        ),
    ]);
    let o = run_in(
        dir.path(),
        &["scan", ".", "--no-config", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "an info notice does not fail");
    let v = json(&o);
    assert_eq!(
        findings(&v),
        [hits("not-evaluated", "charts/web/Chart.yaml", 1)]
    );
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        "not evaluated: Helm chart 'charts/web', render it and pipe it in (`helm template charts/web | isms-lint scan --kind kubernetes -`)"
    );
    assert_eq!(v["summary"]["files_scanned"], 4);
}

#[test]
fn rendered_helm_output_maps_back_to_its_templates() {
    let rendered = "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\n# Source: web/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers: []\n";
    let dir = tree(&[]);
    let o = run_stdin(
        dir.path(),
        &[
            "scan",
            "--kind",
            "kubernetes",
            "-",
            "--no-config",
            "--only",
            "k8s-host-pid",
            "--format",
            "json",
        ],
        rendered,
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    // `hostPID` is line 14 of the stream, line 6 after `# Source: web/templates/pod.yaml`.
    assert_eq!(
        findings(&v),
        [hits("k8s-host-pid", "web/templates/pod.yaml", 6)]
    );
    assert_eq!(v["summary"]["files_scanned"], 1);
    // Without `# Source:` comments, findings are at `--stdin-filename`'s path and line.
    let o = run_stdin(
        dir.path(),
        &[
            "scan",
            "-",
            "--stdin-filename",
            "deploy/pod.yaml",
            "--no-config",
            "--only",
            "k8s-host-pid",
            "--format",
            "json",
        ],
        HOST_PID_POD,
    );
    assert_eq!(
        findings(&json(&o)),
        [hits("k8s-host-pid", "deploy/pod.yaml", 5)]
    );
}

#[test]
fn kind_flag_and_config_kinds_read_odd_names() {
    let dir = tree(&[
        ("odd/build.df", "FROM alpine:3.20\nUSER root\n"),
        ("odd/pod.yaml.txt", HOST_PID_POD),
    ]);
    let only = "docker-final-user-root,k8s-host-pid";
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "odd/build.df",
            "--kind",
            "dockerfile",
            "--no-config",
            "--only",
            only,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        findings(&json(&o)),
        [hits("docker-final-user-root", "odd/build.df", 2)]
    );
    std::fs::write(
        dir.path().join(".isms-lint.yaml"),
        "kinds:\n  \"odd/*.df\": dockerfile\n  \"odd/*.yaml.txt\": kubernetes\n",
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &["scan", "odd", "--only", only, "--format", "json"],
    );
    assert_eq!(
        findings(&json(&o)),
        [
            hits("docker-final-user-root", "odd/build.df", 2),
            hits("k8s-host-pid", "odd/pod.yaml.txt", 5)
        ]
    );
    // An unknown kind stops the run, with a suggestion.
    std::fs::write(
        dir.path().join(".isms-lint.yaml"),
        "kinds:\n  \"odd/*.df\": dokerfile\n",
    )
    .unwrap();
    let (code, out, err) = parts(&run_in(dir.path(), &["scan", "odd"]));
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("unknown kind 'dokerfile' for 'odd/*.df'"),
        "{err}"
    );
    assert!(err.contains("did you mean 'dockerfile'?"), "{err}");
    let (code, _, err) = parts(&run_in(
        dir.path(),
        &["scan", "odd", "--kind", "helm-chart", "--no-config"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("unknown kind 'helm-chart'"), "{err}");
}

#[test]
fn yaml_that_libyaml_accepts_parses() {
    // A quoted scalar continued at the key's indentation, and a flow sequence continued at the
    // parent key's column: PyYAML, go-yaml and kubectl read both.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    note: \"first\n    second\"\nspec:\n  hostPID: true\n  containers: [{name: c,\n  image: nginx}]\n";
    let dir = tree(&[("k8s/pod.yaml", pod)]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "k8s",
            "--no-config",
            "--only",
            "k8s-host-pid",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        findings(&json(&o)),
        [hits("k8s-host-pid", "k8s/pod.yaml", 9)]
    );
}

#[test]
fn json_with_comments_empty_files_and_json_streams_parse() {
    let dir = tree(&[
        ("tsconfig.json", "{\n  // strict mode\n  \"compilerOptions\": {\"strict\": true,},\n}\n"),
        (".vscode/settings.json", "{ /* editor */ \"a\": 1 }\n"),
        ("empty.json", ""),
        ("empty.yaml", ""),
        (
            "list.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n \"spec\": {\"hostPID\": true, \"containers\": []}}\n",
        ),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--only",
            "k8s-host-pid",
            "--format",
            "json",
        ],
    );
    let v = json(&o);
    assert_eq!(findings(&v), [hits("k8s-host-pid", "list.json", 3)]);
    assert_eq!(v["summary"]["documents_by_kind"]["kubernetes"], 2);
}

#[test]
fn parse_errors_are_high_only_for_detected_kinds_and_can_be_skipped() {
    let dir = tree(&[
        ("k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n"),
        ("data/x.yaml", "a: 1\nb: [\n"),
    ]);
    let v = json(&run_in(
        dir.path(),
        &["scan", ".", "--no-config", "--format", "json"],
    ));
    let sev: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sev,
        [
            ("data/x.yaml".to_string(), "low".to_string()),
            ("k8s/pod.yaml".to_string(), "high".to_string())
        ]
    );
    let o = run_in(
        dir.path(),
        &["scan", "data", "--no-config", "--fail-on", "high"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "a low parse error passes --fail-on high"
    );
    let o = run_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--skip",
            "parse-error",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(findings(&json(&o)), []);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--only",
            "parse-error,duplicate-key",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(findings(&json(&o)).len(), 2);
}

#[test]
fn rain_modules_keep_the_template_cloudformation() {
    let dir = tree(&[(
        "cfn/t.yaml",
        "Resources:\n  Mod:\n    Type: !Rain::Module ./bucket.yml\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: logs\n",
    )]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "cfn",
            "--no-config",
            "--only",
            "cfn-s3-versioning",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        findings(&json(&o)),
        [hits("cfn-s3-versioning", "cfn/t.yaml", 6)]
    );
}

#[test]
fn a_repeated_terraform_object_key_keeps_the_last_and_the_module() {
    let dir = tree(&[(
        "tf/main.tf",
        "locals {\n  m = {\n    a = 1\n    a = 2\n  }\n}\nterraform {\n  required_version = \">= 1.5\"\n}\n",
    )]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "tf",
            "--no-config",
            "--only",
            "parse-error,duplicate-key",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        findings(&json(&o)),
        [hits("duplicate-key", "tf/main.tf", 4)]
    );
}

#[test]
fn the_soa_says_helm_charts_were_not_evaluated() {
    let dir = tree(&[
        ("charts/web/Chart.yaml", "apiVersion: v2\nname: web\n"),
        ("charts/web/templates/d.yaml", "{{ if .Values.x }}\n"),
    ]);
    let v = json(&run_in(
        dir.path(),
        &["soa", ".", "--no-config", "--format", "json"],
    ));
    let row = v["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "8.2")
        .unwrap();
    assert_eq!(row["status"], "not evaluated");
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.contains(" kubernetes, ") && reason.contains(" documents scanned; "),
        "{row}"
    );
    assert!(
        reason.ends_with("; 1 Helm chart not evaluated (render and pipe in)"),
        "{row}"
    );
}
