//! Git facts come from the repository holding the scan root, never from the working directory:
//! the SoA's repository, commit, branch and dirty flag, `--new-since`, roots in two
//! repositories, trees outside git, and SARIF URIs when scanning from another directory.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2026-05-04T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-05-04T10:00:00Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A git repository with `files` committed on branch `main`, and `origin` when given.
fn repo(files: &[(&str, &str)], origin: Option<&str>) -> tempfile::TempDir {
    let dir = tree(files);
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Test"]);
    git(d, &["config", "user.email", "test@example.com"]);
    if let Some(url) = origin {
        git(d, &["remote", "add", "origin", url]);
    }
    commit_all(d, "first");
    dir
}

fn commit_all(d: &Path, message: &str) -> String {
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", message]);
    git(d, &["rev-parse", "HEAD"])
}

fn isms(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isms-lint"));
    c.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("ISMS_LINT_TODAY", "2026-11-28")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_WORKSPACE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn soa_meta(cwd: &Path, root: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    let o = isms(
        cwd,
        &[
            "soa",
            root.to_str().unwrap(),
            "--no-default-rules",
            "--rules",
            root.join("rules").to_str().unwrap(),
            "--format",
            "json",
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    json(&o)["meta"].clone()
}

const FILES: [(&str, &str); 2] = [
    ("rules/priv.yaml", PRIVILEGED_RULE),
    ("k8s/pod.yaml", PRIVILEGED_POD),
];

#[test]
fn the_soa_records_the_scanned_repository_not_the_working_directory() {
    let scanned = repo(
        &FILES,
        Some("https://ci:s3cret@github.com/acme/payments.git"),
    );
    let head = git(scanned.path(), &["rev-parse", "HEAD"]);
    let cwd = repo(
        &[("README.md", "other\n")],
        Some("git@github.com:acme/elsewhere.git"),
    );
    git(cwd.path(), &["checkout", "-q", "-b", "feature"]);
    let meta = soa_meta(cwd.path(), scanned.path(), &[]);
    assert_eq!(meta["commit"], head.as_str());
    assert_ne!(
        meta["commit"],
        git(cwd.path(), &["rev-parse", "HEAD"]).as_str()
    );
    assert_eq!(meta["repository"], "acme/payments");
    assert_eq!(meta["branch"], "main");
    assert_eq!(meta["dirty"], false);
    assert_eq!(meta["date"], "2026-05-04");
    assert!(meta.get("note").is_none(), "{meta}");

    // GITHUB_REPOSITORY names the workspace's repository, which is not the one scanned here.
    let env = [
        ("GITHUB_REPOSITORY", "acme/ci-runner"),
        ("GITHUB_WORKSPACE", cwd.path().to_str().unwrap()),
    ];
    assert_eq!(
        soa_meta(cwd.path(), scanned.path(), &env)["repository"],
        "acme/payments"
    );
    // …and it does when the scanned repository is the workspace.
    let env = [
        ("GITHUB_REPOSITORY", "acme/payments-mirror"),
        ("GITHUB_WORKSPACE", scanned.path().to_str().unwrap()),
    ];
    assert_eq!(
        soa_meta(cwd.path(), scanned.path(), &env)["repository"],
        "acme/payments-mirror"
    );

    // Without a remote: the top-level directory's name, also when a subdirectory is scanned.
    let plain = repo(&FILES, None);
    let name = plain.path().file_name().unwrap().to_str().unwrap();
    let o = isms(
        cwd.path(),
        &[
            "soa",
            plain.path().join("k8s").to_str().unwrap(),
            "--no-default-rules",
            "--rules",
            plain.path().join("rules").to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(json(&o)["meta"]["repository"], name);
}

#[test]
fn untracked_files_make_the_tree_dirty_but_the_bundle_being_written_does_not() {
    let scanned = repo(&FILES, None);
    let d = scanned.path();
    let bundle = |out: &str| {
        let o = isms(
            d,
            &[
                "evidence",
                ".",
                "--no-default-rules",
                "--rules",
                "rules",
                "--out",
                out,
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join(out).join("manifest.json")).unwrap())
                .unwrap();
        m["source"]["dirty"].clone()
    };
    assert_eq!(bundle("evidence"), false);
    // The first bundle is untracked now; writing it again is still a clean tree.
    assert_eq!(bundle("evidence"), false);
    std::fs::write(d.join("k8s/new.yaml"), PRIVILEGED_POD).unwrap();
    assert_eq!(bundle("evidence"), true);
    std::fs::remove_file(d.join("k8s/new.yaml")).unwrap();
    std::fs::write(d.join("k8s/pod.yaml"), "# changed\n").unwrap();
    assert_eq!(bundle("evidence"), true);
}

#[test]
fn new_since_compares_against_the_scanned_repository() {
    // The scanned repository: a compliant pod, then a commit that makes it privileged.
    let scanned = repo(
        &[
            ("rules/priv.yaml", PRIVILEGED_RULE),
            (
                "k8s/pod.yaml",
                &PRIVILEGED_POD.replace("privileged: true", "privileged: false"),
            ),
        ],
        None,
    );
    std::fs::write(scanned.path().join("k8s/pod.yaml"), PRIVILEGED_POD).unwrap();
    commit_all(scanned.path(), "privileged");
    // The working directory: another repository whose last commit is the same pod, so comparing
    // against it (the old behaviour) reports nothing new.
    let cwd = repo(&[("k8s/pod.yaml", "# empty\n")], None);
    std::fs::write(cwd.path().join("k8s/pod.yaml"), PRIVILEGED_POD).unwrap();
    commit_all(cwd.path(), "same pod");
    let outside = tempfile::tempdir().unwrap();
    for from in [cwd.path(), outside.path()] {
        let scan = |since: &str| {
            isms(
                from,
                &[
                    "scan",
                    scanned.path().join("k8s").to_str().unwrap(),
                    "--no-default-rules",
                    "--rules",
                    scanned.path().join("rules").to_str().unwrap(),
                    "--new-since",
                    since,
                    "--format",
                    "json",
                ],
                &[],
            )
        };
        let o = scan("HEAD~1");
        assert_eq!(o.status.code(), Some(1), "{}", parts(&o).2);
        let v = json(&o);
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{v}");
        assert_eq!(findings[0]["rule_id"], "priv");
        assert_eq!(findings[0]["start"]["line"], 9);
        // At HEAD the finding already exists: it is recognised under the same path.
        let o = scan("HEAD");
        assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
        assert!(json(&o)["findings"].as_array().unwrap().is_empty());
        assert!(
            parts(&o).2.contains("1 already present at"),
            "{}",
            parts(&o).2
        );
    }
}

#[test]
fn outside_git_the_soa_says_so_and_new_since_is_an_error() {
    let plain = tree(&FILES);
    let d = plain.path();
    let o = isms(
        d,
        &[
            "soa",
            ".",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
        &[],
    );
    let meta = json(&o)["meta"].clone();
    assert!(meta["commit"].is_null());
    assert_eq!(meta["date"], "2026-11-28");
    let note = meta["note"].as_str().unwrap();
    assert!(note.contains("is not inside a git repository"), "{note}");
    let md = isms(
        d,
        &["soa", ".", "--no-default-rules", "--rules", "rules"],
        &[],
    );
    assert!(parts(&md).1.contains("> **Note:** "), "{}", parts(&md).1);

    let o = isms(
        d,
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--new-since",
            "HEAD~1",
        ],
        &[],
    );
    let (code, stdout, stderr) = parts(&o);
    assert_eq!(code, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(
            "--new-since needs a git repository, but 'k8s' is not inside a git repository"
        ),
        "{stderr}"
    );
}

#[test]
fn roots_in_two_repositories_are_an_error_for_soa_and_evidence() {
    let a = repo(&FILES, None);
    let b = repo(&FILES, None);
    let (pa, pb) = (a.path().join("k8s"), b.path().join("k8s"));
    let out = tempfile::tempdir().unwrap();
    for cmd in [
        vec!["soa", "--no-default-rules", "--rules"],
        vec![
            "evidence",
            "--out",
            "bundle",
            "--no-default-rules",
            "--rules",
        ],
    ] {
        let mut args = cmd.clone();
        let rules = a.path().join("rules");
        args.push(rules.to_str().unwrap());
        args.push(pa.to_str().unwrap());
        args.push(pb.to_str().unwrap());
        let o = isms(out.path(), &args, &[]);
        let (code, _, stderr) = parts(&o);
        assert_eq!(code, 2, "{cmd:?}: {stderr}");
        assert!(
            stderr.contains("the scan roots lie in different repositories")
                && stderr.contains(pa.to_str().unwrap())
                && stderr.contains(pb.to_str().unwrap()),
            "{stderr}"
        );
    }
    assert!(!out.path().join("bundle").exists());
    // Two roots in one repository are fine.
    let o = isms(
        out.path(),
        &[
            "soa",
            "--no-default-rules",
            "--rules",
            a.path().join("rules").to_str().unwrap(),
            pa.to_str().unwrap(),
            a.path().join("rules").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
}

#[test]
fn sarif_from_another_directory_is_relative_to_the_repository_root() {
    let scanned = repo(&FILES, None);
    let top = std::fs::canonicalize(scanned.path()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let rules = scanned.path().join("rules");
    let target = scanned.path().join("k8s");
    for (cwd, path) in [
        (elsewhere.path(), target.to_str().unwrap()),
        (scanned.path(), "k8s"),
        (target.as_path(), "."),
    ] {
        let o = isms(
            cwd,
            &[
                "scan",
                path,
                "--no-default-rules",
                "--rules",
                rules.to_str().unwrap(),
                "--format",
                "sarif",
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(1), "{}", parts(&o).2);
        let sarif = json(&o);
        let run = &sarif["runs"][0];
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"],
            serde_json::json!({"uri": "k8s/pod.yaml", "uriBaseId": "%SRCROOT%"}),
            "from {}",
            cwd.display()
        );
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            format!("file://{}/", top.display())
        );
    }
}
