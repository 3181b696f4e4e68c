//! The command-line conventions users expect from a linter: `--version` with the commit, `-q`,
//! `--format concise`, shell completions and a man page, NO_COLOR / FORCE_COLOR, "did you mean"
//! on every rule id the user types, config `exclude` on named files, the config file named in
//! `--verbose` and in JSON, the config search ending at the repository root, repository-level
//! findings at the root, `--also-all` with SARIF baseline states.

mod common;

use std::process::Command;

use common::*;

const PRIV: &str = "fixtures/k8s-container-privileged/fail/deployment.yaml";
const ONLY: &str = "--only=k8s-container-privileged";

/// Runs the binary in `dir` with `env` set (NO_COLOR is not set unless given).
fn run_env(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isms-lint"));
    c.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the isms-lint binary runs")
}

#[test]
fn version_names_the_commit() {
    let (code, out, _) = parts(&run(&["--version"]));
    assert_eq!(code, 0);
    let want = format!("isms-lint {} (", env!("CARGO_PKG_VERSION"));
    assert!(out.starts_with(&want), "{out}");
    let inside = out.trim().trim_start_matches(&want).trim_end_matches(')');
    assert!(
        inside == "commit unknown"
            || (inside.len() == 12 && inside.chars().all(|c| c.is_ascii_hexdigit())),
        "a 12-digit commit or 'commit unknown': {out}"
    );
    // the same commit in the JSON report
    let o = run(&["scan", PRIV, ONLY, "--format", "json"]);
    let commit = json(&o)["tool"]["commit"].as_str().unwrap().to_string();
    if inside == "commit unknown" {
        assert_eq!(commit, "");
    } else {
        assert_eq!(commit, inside);
    }
}

#[test]
fn quiet_prints_findings_only() {
    let (code, out, err) = parts(&run(&["scan", PRIV, ONLY, "-q"]));
    assert_eq!(code, 1, "the exit code does not change");
    assert!(out.contains("runs privileged"), "{out}");
    assert!(!out.contains("Scanned"), "no summary: {out}");
    assert!(!out.contains("Result:"), "no verdict line: {out}");
    assert!(err.is_empty(), "{err}");
    let (_, out, _) = parts(&run(&[
        "scan", PRIV, ONLY, "--format", "concise", "--quiet",
    ]));
    assert_eq!(out.lines().count(), 2, "two findings, nothing else: {out}");
    let o = run(&["scan", PRIV, ONLY, "-q", "-v"]);
    assert_eq!(o.status.code(), Some(2), "--quiet and --verbose conflict");
}

#[test]
fn concise_is_one_line_per_finding() {
    let (code, out, _) = parts(&run(&["scan", PRIV, ONLY, "--format", "concise"]));
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("{PRIV}:12:13: high k8s-container-privileged container 'setup' of Deployment 'web' runs privileged")
    );
    assert!(lines[1].starts_with(&format!("{PRIV}:17:13: high k8s-container-privileged ")));
    assert_eq!(
        lines[2],
        "Found 2 open findings (2 high), 0 suppressed or waived."
    );
    assert_eq!(lines[3], "Result: FAILED (fail-on: low).");
    assert_eq!(lines.len(), 4, "{out}");
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = parts(&run(&["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("isms-lint"), "{shell}");
        assert!(out.contains("fail-on"), "{shell} completes scan's options");
    }
    let (code, _, _) = parts(&run(&["completions", "tcsh"]));
    assert_eq!(code, 2, "unknown shell");

    let (code, out, _) = parts(&run(&["manpage"]));
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie \\n(.g .ds Aq") || out.contains(".TH isms-lint 1"),
        "{}",
        &out[..200.min(out.len())]
    );
    assert!(out.contains(".TH isms-lint 1"), "roff title");
    assert!(
        out.contains("isms\\-lint\\-scan(1)") || out.contains("scan"),
        "lists the commands"
    );
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man");
    let (code, _, err) = parts(&run(&["manpage", "--dir", out_dir.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    for page in [
        "isms-lint.1",
        "isms-lint-scan.1",
        "isms-lint-rules.1",
        "isms-lint-completions.1",
    ] {
        let text = std::fs::read_to_string(out_dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} written");
    }
}

#[test]
fn no_color_and_force_color() {
    let root = root();
    let esc = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).contains('\u{1b}');
    let args = ["scan", PRIV, ONLY];
    // stdout is a pipe here: plain unless forced
    assert!(!esc(&run_env(&root, &args, &[])));
    assert!(esc(&run_env(&root, &args, &[("FORCE_COLOR", "1")])));
    assert!(
        !esc(&run_env(&root, &args, &[("FORCE_COLOR", "")])),
        "empty = unset"
    );
    assert!(
        !esc(&run_env(
            &root,
            &args,
            &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
        )),
        "NO_COLOR wins"
    );
    assert!(
        esc(&run_env(
            &root,
            &args,
            &[("FORCE_COLOR", "1"), ("NO_COLOR", "")]
        )),
        "an empty NO_COLOR does not count"
    );
    assert!(!esc(&run_env(
        &root,
        &["scan", PRIV, ONLY, "--color", "never"],
        &[("FORCE_COLOR", "1")]
    )));
    assert!(esc(&run_env(
        &root,
        &["scan", PRIV, ONLY, "--color", "always"],
        &[("NO_COLOR", "1")]
    )));
    // no progress spinner when stderr is not a terminal, however long the scan
    let o = run_env(
        &root,
        &["scan", "fixtures/", "--format", "json", "--fail-on", "none"],
        &[],
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn did_you_mean_on_every_rule_id() {
    // the text report carries config and usage errors on stdout
    let (code, out, _) = parts(&run(&["scan", PRIV, "--only", "k8s-container-privilegd"]));
    assert_eq!(code, 2);
    assert!(
        out.contains("did you mean 'k8s-container-privileged'?"),
        "--only: {out}"
    );
    let (code, _, err) = parts(&run(&[
        "scan",
        PRIV,
        "--skip",
        "k8s-host-pdi",
        "--format",
        "json",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean 'k8s-host-pid'?"),
        "--skip: {err}"
    );
    let (code, _, err) = parts(&run(&["rules", "show", "k8s-container-privilegd"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean 'k8s-container-privileged'?"),
        "rules show: {err}"
    );
    let (code, _, err) = parts(&run(&["test", "--only", "k8s-container-privilegd"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean 'k8s-container-privileged'?"),
        "test --only: {err}"
    );

    // config switches and waivers
    let d = tree(&[
        (".isms-lint.yaml", "disable: [k8s-host-pdi]\nwaivers:\n  - rule: k8s-container-privilegd\n    reason: legacy\n"),
        ("deploy/app.yaml", &std::fs::read_to_string(root().join(PRIV)).unwrap()),
    ]);
    let (code, _, err) = parts(&run_in(d.path(), &["scan", "deploy", ONLY]));
    assert_eq!(code, 2, "{err}");
    // each config error is a diagnostic at the id, its help the closest known id
    let disable = err
        .find("'k8s-host-pdi' is neither a loaded rule nor an Annex A control")
        .expect(&err);
    let waiver = err
        .find("the waiver names rule 'k8s-container-privilegd', which is not a loaded rule")
        .expect(&err);
    assert!(
        err[disable..waiver].contains("help: did you mean 'k8s-host-pid'?"),
        "{err}"
    );
    assert!(
        err[waiver..].contains("help: did you mean 'k8s-container-privileged'?"),
        "{err}"
    );

    // inline suppressions: not honoured, reported with the closest id
    let manifest = std::fs::read_to_string(root().join(PRIV)).unwrap().replace(
        "privileged: true # expect: k8s-container-privileged",
        "privileged: true # isms-lint: ignore[k8s-container-privilegd] reason=\"CNI\"",
    );
    let d = tree(&[("app.yaml", &manifest)]);
    let o = run_in(d.path(), &["scan", "app.yaml", ONLY, "--format", "json"]);
    let j = json(&o);
    let findings = j["findings"].as_array().unwrap();
    let invalid = findings
        .iter()
        .find(|f| f["rule_id"] == "invalid-suppression")
        .expect("the misspelt suppression is reported");
    assert!(
        invalid["message"].as_str().unwrap().contains("no loaded rule is named 'k8s-container-privilegd'; did you mean 'k8s-container-privileged'?"),
        "{invalid}"
    );
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["rule_id"] == "k8s-container-privileged")
            .count(),
        2,
        "both findings stay open"
    );
    // a suppression of a rule left out by --only is not a typo
    let manifest = manifest.replace("k8s-container-privilegd", "k8s-host-pid");
    let d = tree(&[("app.yaml", &manifest)]);
    let j = json(&run_in(
        d.path(),
        &["scan", "app.yaml", ONLY, "--format", "json"],
    ));
    assert!(
        !j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "invalid-suppression"),
        "{j}"
    );
}

#[test]
fn config_exclude_applies_to_named_files() {
    let manifest = std::fs::read_to_string(root().join(PRIV)).unwrap();
    let d = tree(&[
        (".isms-lint.yaml", "exclude: [\"vendor/**\", legacy.yaml]\n"),
        ("vendor/chart.yaml", &manifest),
        ("legacy.yaml", &manifest),
        ("app.yaml", &manifest),
    ]);
    // what pre-commit does: every file by name
    let o = run_in(
        d.path(),
        &[
            "scan",
            "vendor/chart.yaml",
            "legacy.yaml",
            "app.yaml",
            ONLY,
            "--format",
            "json",
        ],
    );
    let j = json(&o);
    let paths: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["app.yaml", "app.yaml"], "{j}");
    assert_eq!(j["summary"]["files_scanned"], 1);
    let notes: Vec<&str> = j["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        ["legacy.yaml", "vendor/chart.yaml"],
        "said, not silent: {j}"
    );
    // --exclude on the command line too
    let (code, out, _) = parts(&run_in(
        d.path(),
        &[
            "scan",
            "app.yaml",
            ONLY,
            "--exclude",
            "app.yaml",
            "--no-config",
        ],
    ));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_config_used_is_named() {
    let manifest = std::fs::read_to_string(root().join(PRIV)).unwrap();
    let d = tree(&[
        (".isms-lint.yaml", "exclude: []\n"),
        ("k8s/app.yaml", &manifest),
    ]);
    let (_, _, err) = parts(&run_in(d.path(), &["scan", "k8s", ONLY, "--verbose"]));
    assert!(err.contains("isms-lint: config: .isms-lint.yaml"), "{err}");
    let j = json(&run_in(
        d.path(),
        &["scan", "k8s", ONLY, "--format", "json"],
    ));
    assert_eq!(j["config"], ".isms-lint.yaml");
    let j = json(&run_in(
        d.path(),
        &["scan", "k8s", ONLY, "--format", "json", "--no-config"],
    ));
    assert!(j["config"].is_null());
    let (_, _, err) = parts(&run_in(
        d.path(),
        &["scan", "k8s", ONLY, "-v", "--no-config"],
    ));
    assert!(err.contains("isms-lint: config: none"), "{err}");

    // a config above the repository root is not used
    let d = tree(&[
        (".isms-lint.yaml", "exclude: [\"**\"]\n"),
        ("repo/.git/HEAD", "ref: refs/heads/main\n"),
        ("repo/k8s/app.yaml", &manifest),
    ]);
    let repo = d.path().join("repo");
    let j = json(&run_in(&repo, &["scan", "k8s", ONLY, "--format", "json"]));
    assert!(j["config"].is_null(), "{j}");
    assert_eq!(
        j["summary"]["open_findings"], 2,
        "the outer exclude did not apply"
    );
}

#[test]
fn repository_findings_are_at_the_root() {
    let fixture = "fixtures/repo-codeowners-missing/fail";
    let only = "--only=repo-codeowners-missing";
    let o = run(&["scan", fixture, only, "--format", "sarif"]);
    let sarif = json(&o);
    let loc = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        format!("{fixture}/"),
        "{loc}"
    );
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");

    let (_, out, _) = parts(&run(&["scan", fixture, only, "--format", "github"]));
    assert!(
        out.starts_with("::notice title=repo-codeowners-missing [medium] (A.8.4 A.5.3 A.8.32)::no CODEOWNERS file"),
        "a file-less notice: {out}"
    );
    assert!(!out.contains("file="), "{out}");

    let (_, out, _) = parts(&run(&["scan", fixture, only]));
    assert!(
        out.contains(&format!("help: repository: {fixture}\n")),
        "{out}"
    );
    assert!(!out.contains("README.md"), "no README snippet: {out}");
    let (_, out, _) = parts(&run(&["scan", fixture, only, "--format", "concise", "-q"]));
    assert_eq!(out.trim(), format!("{fixture}: medium repo-codeowners-missing no CODEOWNERS file (looked in ./, .github/, docs/)"));
    let j = json(&run(&["scan", fixture, only, "--format", "json"]));
    assert_eq!(j["findings"][0]["repository_root"], fixture);
    assert_eq!(
        j["findings"][0]["path"],
        format!("{fixture}/README.md"),
        "the anchor stays for tools and suppressions"
    );

    // without README, the anchor is the first file (a workflow): still the root, while a finding
    // about that workflow stays on it
    let workflow = "name: build\non:\n  push:\njobs:\n  b:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: make\n";
    let d = tree(&[
        (".github/workflows/build.yml", workflow),
        ("requirements.txt", "flask==3.0.0\n"),
        (".gitignore", ""),
    ]);
    std::fs::remove_file(d.path().join(".gitignore")).unwrap();
    std::fs::create_dir_all(d.path().join(".git")).unwrap();
    let j = json(&run_in(
        d.path(),
        &[
            "scan",
            ".",
            "--only=repo-codeowners-missing,repo-workflows-no-pull-request",
            "--format",
            "json",
        ],
    ));
    let by_rule = |id: &str| {
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    let owners = by_rule("repo-codeowners-missing");
    assert_eq!(owners["repository_root"], ".", "{j}");
    let wf = by_rule("repo-workflows-no-pull-request");
    assert_eq!(wf["path"], ".github/workflows/build.yml", "{j}");
    assert!(
        wf.get("repository_root").is_none(),
        "about the workflow itself: {wf}"
    );
    let sarif = json(&run_in(
        d.path(),
        &[
            "scan",
            ".",
            "--only=repo-codeowners-missing",
            "--format",
            "sarif",
        ],
    ));
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "./"
    );
}

#[test]
fn also_all_keeps_known_findings_with_baseline_states() {
    let manifest = std::fs::read_to_string(root().join(PRIV)).unwrap();
    let d = tree(&[("old.yaml", &manifest), ("new.yaml", &manifest)]);
    let dir = d.path();
    let (code, _, err) = parts(&run_in(
        dir,
        &["baseline", "old.yaml", ONLY, "-o", "base.json"],
    ));
    assert_eq!(code, 0, "{err}");
    let o = run_in(
        dir,
        &[
            "scan",
            "old.yaml",
            "new.yaml",
            ONLY,
            "--baseline",
            "base.json",
            "--format",
            "sarif",
            "--also-all",
            "sarif=all.sarif",
            "--also",
            "json=new.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let new_only = json(&o);
    let results = new_only["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r["baselineState"] == "new"),
        "{results:?}"
    );
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("all.sarif")).unwrap()).unwrap();
    let results = all["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "every finding in --also-all");
    let state = |uri: &str| -> Vec<&str> {
        results
            .iter()
            .filter(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .map(|r| r["baselineState"].as_str().unwrap())
            .collect()
    };
    assert_eq!(state("new.yaml"), ["new", "new"]);
    assert_eq!(state("old.yaml"), ["unchanged", "unchanged"]);
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("new.json")).unwrap()).unwrap();
    assert_eq!(
        j["summary"]["open_findings"], 2,
        "--also follows the new-only view"
    );
    // without a baseline there is no baselineState
    let sarif = json(&run_in(
        dir,
        &["scan", "new.yaml", ONLY, "--format", "sarif"],
    ));
    assert!(sarif["runs"][0]["results"][0]
        .get("baselineState")
        .is_none());
}
