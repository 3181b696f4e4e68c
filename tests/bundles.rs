//! Evidence bundles an auditor can trust: `verify` names every added, missing or changed file
//! and an edited manifest; signatures (minisign) bind the manifest to a key; `merge` refuses a
//! repository twice, reports expected repositories that are missing and writes a verifiable
//! manifest; the bundle keeps every finding while its SARIF keeps the most severe; a run with
//! errors never yields a clean bundle.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn isms(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isms-lint"));
    c.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("ISMS_LINT_TODAY", "2026-11-28")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("ISMS_LINT_KEY_PASSWORD");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A committed repository named by its `origin` remote.
fn repo(name: &str) -> tempfile::TempDir {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Test"]);
    git(d, &["config", "user.email", "test@example.com"]);
    git(
        d,
        &[
            "remote",
            "add",
            "origin",
            &format!("https://github.com/{name}.git"),
        ],
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "first"]);
    dir
}

/// Writes a bundle of `dir` to `out` (absolute, outside the repository); returns the output.
fn bundle(dir: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "evidence",
        ".",
        "--no-default-rules",
        "--rules",
        "rules",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    isms(dir, &args, env)
}

fn ok_bundle(dir: &Path, out: &Path) {
    let o = bundle(dir, out, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn verify(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["evidence", "verify", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    parts(&isms(dir, &args, &[]))
}

fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap() + "\n").unwrap();
}

/// What a forger who knows the format does: edit, then recompute the manifest's own digest.
fn forge_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    edit_manifest(dir, |m| {
        edit(m);
        m["manifest_digest"] = serde_json::json!("");
        let digest =
            isms_lint::evidence::sha256_hex(serde_json::to_string_pretty(m).unwrap().as_bytes());
        m["manifest_digest"] = serde_json::json!(digest);
    });
}

#[test]
fn verify_names_each_added_missing_or_changed_file_and_an_edited_manifest() {
    let r = repo("acme/payments");
    let work = tempfile::tempdir().unwrap();
    let pristine = work.path().join("pristine");
    ok_bundle(r.path(), &pristine);
    let (code, stdout, _) = verify(&pristine, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("intact: every file listed, every digest matches"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pristine.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema"], "isms-lint/evidence/v2");
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "results.sarif",
            "findings.json",
            "soa.md",
            "soa.csv",
            "soa.json",
            "oscal-assessment-results.json",
            "soa.html"
        ]
    );
    assert_eq!(manifest["manifest_digest"].as_str().unwrap().len(), 64);

    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a file added",
            Box::new(|d: &Path| std::fs::write(d.join("notes.txt"), "added").unwrap()),
            "TAMPERED notes.txt: not listed in the manifest",
        ),
        (
            "a file added in a subdirectory",
            Box::new(|d: &Path| {
                std::fs::create_dir_all(d.join("extra")).unwrap();
                std::fs::write(d.join("extra/x.json"), "{}").unwrap();
            }),
            "TAMPERED extra/x.json: not listed in the manifest",
        ),
        (
            "a file removed",
            Box::new(|d: &Path| std::fs::remove_file(d.join("findings.json")).unwrap()),
            "TAMPERED findings.json: listed in the manifest but cannot be read",
        ),
        (
            "a file changed",
            Box::new(|d: &Path| {
                let p = d.join("soa.json");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(p, text.replace("\"failing\"", "\"passing\"")).unwrap();
            }),
            "TAMPERED soa.json: sha256 is",
        ),
        (
            "the dirty flag edited",
            Box::new(|d: &Path| edit_manifest(d, |m| m["source"]["dirty"] = true.into())),
            "TAMPERED manifest.json: its content gives manifest_digest",
        ),
        (
            "the commit edited",
            Box::new(|d: &Path| {
                edit_manifest(d, |m| m["source"]["commit"] = "0".repeat(40).into());
            }),
            "TAMPERED manifest.json: its content gives manifest_digest",
        ),
        (
            "a key added to the manifest",
            Box::new(|d: &Path| edit_manifest(d, |m| m["approved_by"] = "auditor".into())),
            "TAMPERED manifest.json: its content gives manifest_digest",
        ),
        (
            "an output's digest and the bundle digest rewritten, manifest digest not",
            Box::new(|d: &Path| {
                std::fs::write(d.join("soa.md"), "# all passing\n").unwrap();
                edit_manifest(d, |m| {
                    m["outputs"][2]["sha256"] =
                        isms_lint::evidence::sha256_hex(b"# all passing\n").into();
                });
            }),
            "TAMPERED manifest.json: bundle_digest is",
        ),
    ];
    for (name, tamper, expected) in cases {
        let d = work.path().join(name.replace(' ', "-"));
        copy_dir(&pristine, &d);
        tamper(&d);
        let (code, stdout, stderr) = verify(&d, &[]);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert!(stdout.contains(expected), "{name}: {stdout}");
        assert!(!stdout.contains("intact"), "{name}: {stdout}");
    }
    // No manifest at all: an error naming it.
    let d = work.path().join("no-manifest");
    copy_dir(&pristine, &d);
    std::fs::remove_file(d.join("manifest.json")).unwrap();
    let (code, _, stderr) = verify(&d, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no-manifest/manifest.json"), "{stderr}");
    // A directory that holds other files is not written into.
    let o = bundle(r.path(), &work.path().join("a-file-added"), &[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(parts(&o)
        .2
        .contains("holds files that are not part of an evidence bundle"));
}

#[test]
fn signed_bundles_verify_with_their_key_and_no_other() {
    let r = repo("acme/payments");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let keygen = |name: &str| {
        let o = isms(
            w,
            &[
                "evidence",
                "keygen",
                "--no-password",
                "--secret-key",
                &format!("{name}.key"),
                "--public-key",
                &format!("{name}.pub"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
        parts(&o).1.trim().to_string()
    };
    let line = keygen("ours");
    assert!(line.starts_with("RW") && line.len() == 56, "{line}");
    keygen("theirs");
    let again = isms(
        w,
        &[
            "evidence",
            "keygen",
            "--no-password",
            "--secret-key",
            "ours.key",
            "--public-key",
            "x.pub",
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(parts(&again).2.contains("ours.key' exists"));

    let signed = w.join("signed");
    let key = w.join("ours.key");
    let o = bundle(r.path(), &signed, &["--sign", key.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    let sig = std::fs::read_to_string(signed.join("manifest.json.minisig")).unwrap();
    assert!(
        sig.contains("trusted comment: isms-lint evidence bundle of acme/payments at "),
        "{sig}"
    );

    let ours = w.join("ours.pub");
    let (code, stdout, _) = verify(&signed, &["--key", ours.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("manifest.json is signed by the key"),
        "{stdout}"
    );
    let (code, stdout, _) = verify(&signed, &["--key", &line]);
    assert_eq!(code, 0, "the RW… key itself: {stdout}");
    let (code, stdout, _) = verify(&signed, &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("present but not checked"), "{stdout}");
    let theirs = w.join("theirs.pub");
    let (code, stdout, _) = verify(&signed, &["--key", theirs.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("TAMPERED manifest.json.minisig: the signature does not verify"),
        "{stdout}"
    );

    // A forger who recomputes every digest passes the digests, not the signature.
    let forged = w.join("forged");
    copy_dir(&signed, &forged);
    forge_manifest(&forged, |m| m["source"]["dirty"] = true.into());
    assert_eq!(verify(&forged, &[]).0, 0);
    let (code, stdout, _) = verify(&forged, &["--key", ours.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("TAMPERED manifest.json.minisig"),
        "{stdout}"
    );

    // An unsigned bundle fails when a key is required.
    let unsigned = w.join("unsigned");
    ok_bundle(r.path(), &unsigned);
    let (code, stdout, _) = verify(&unsigned, &["--key", ours.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("TAMPERED manifest.json.minisig: missing"),
        "{stdout}"
    );
    // Writing it again unsigned removes the old signature rather than leaving it stale.
    ok_bundle(r.path(), &signed);
    assert!(!signed.join("manifest.json.minisig").exists());
}

#[test]
fn an_encrypted_key_needs_its_password() {
    let r = repo("acme/payments");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let pw = [("ISMS_LINT_KEY_PASSWORD", "correct horse")];
    let o = isms(w, &["evidence", "keygen"], &pw);
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    let key = w.join("isms-lint.key");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("\nRWRTY0Iy"),
        "an Ed25519 key in a scrypt box"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = w.join("b");
    let o = bundle(r.path(), &out, &["--sign", key.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        parts(&o)
            .2
            .contains("is encrypted: set ISMS_LINT_KEY_PASSWORD"),
        "{}",
        parts(&o).2
    );
    assert!(!out.exists(), "no bundle without its signature");
    let o = bundle(
        r.path(),
        &out,
        &["--sign", key.to_str().unwrap()],
        &[("ISMS_LINT_KEY_PASSWORD", "wrong")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        parts(&o).2.contains("cannot decrypt the secret key"),
        "{}",
        parts(&o).2
    );
    let o = bundle(r.path(), &out, &["--sign", key.to_str().unwrap()], &pw);
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    let public = w.join("isms-lint.pub");
    assert_eq!(verify(&out, &["--key", public.to_str().unwrap()]).0, 0);
}

fn merge(cwd: &Path, bundles: &[&Path], extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["evidence".into(), "merge".into()];
    args.extend(bundles.iter().map(|b| b.to_str().unwrap().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    isms(cwd, &args, &[])
}

#[test]
fn merge_refuses_a_repository_twice_reports_missing_ones_and_writes_a_manifest() {
    let a = repo("acme/a");
    let b = repo("acme/b");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (ba, ba2, bb) = (w.join("a"), w.join("a-again"), w.join("b"));
    ok_bundle(a.path(), &ba);
    ok_bundle(a.path(), &ba2);
    ok_bundle(b.path(), &bb);

    let o = merge(w, &[&ba, &bb, &ba2], &["--out", "org"]);
    let (code, _, stderr) = parts(&o);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!(
            "'{}' and '{}' are both bundles of acme/a at ",
            ba.display(),
            ba2.display()
        )),
        "{stderr}"
    );
    assert!(!w.join("org").exists());

    std::fs::write(
        w.join("expected.txt"),
        "# our repositories\nacme/b\nacme/d # new\n",
    )
    .unwrap();
    let o = merge(
        w,
        &[&ba, &bb],
        &[
            "--out",
            "org",
            "--expect",
            "acme/a,acme/c",
            "--expect-file",
            "expected.txt",
        ],
    );
    let (code, stdout, stderr) = parts(&o);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout,
        "MISSING acme/c: expected, but no bundle was given\nMISSING acme/d: expected, but no bundle was given\n"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.join("org/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["schema"], "isms-lint/evidence-merge/v1");
    assert_eq!(m["missing"], serde_json::json!(["acme/c", "acme/d"]));
    assert_eq!(
        m["expected"],
        serde_json::json!(["acme/a", "acme/b", "acme/c", "acme/d"])
    );
    let repos: Vec<&str> = m["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["acme/a", "acme/b"]);
    let soa: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.join("org/soa.json")).unwrap()).unwrap();
    assert_eq!(
        soa["meta"]["note"],
        "expected but missing (no bundle): acme/c, acme/d"
    );
    // Counted once per repository, not doubled.
    let row = soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "8.2")
        .unwrap();
    assert_eq!(row["open"], 2);

    let org = w.join("org");
    let (code, stdout, _) = verify(&org, &[]);
    assert_eq!(code, 0, "{stdout}");
    std::fs::write(org.join("soa.csv"), "id\n").unwrap();
    let (code, stdout, _) = verify(&org, &[]);
    assert_eq!(code, 1);
    assert!(stdout.contains("TAMPERED soa.csv"), "{stdout}");

    // Everything expected is there: exit 0.
    let o = merge(
        w,
        &[&ba, &bb],
        &["--out", "org2", "--expect", "acme/a,acme/b"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    // A tampered bundle is refused.
    std::fs::write(bb.join("soa.json"), "{}").unwrap();
    let o = merge(w, &[&ba, &bb], &["--out", "org3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        parts(&o)
            .2
            .contains("fails verification: soa.json: sha256 is"),
        "{}",
        parts(&o).2
    );
}

const LIMITS_RULE: &str = r#"title: Containers declare resource limits
severity: medium
kinds: [kubernetes]
controls:
  - id: "8.6"
    relation: partial
    rationale: Limits keep one workload from exhausting the node.
select: containers(doc)
assert: has(item.resources) && has(item.resources.limits)
at: name
message: "container '{{ item.name }}' has no limits"
remediation: Set resources.limits.
"#;

#[test]
fn the_bundle_keeps_every_finding_and_its_sarif_the_most_severe() {
    // 25,010 medium findings sorted first by path, then 20 high ones: more than one upload holds.
    let mut pod =
        String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n");
    for i in 0..25_010 {
        pod.push_str(&format!("    - {{name: c{i}}}\n"));
    }
    let mut high =
        String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: z}\nspec:\n  containers:\n");
    for i in 0..20 {
        high.push_str(&format!(
            "    - {{name: p{i}, resources: {{limits: {{cpu: 1}}}}, securityContext: {{privileged: true}}}}\n"
        ));
    }
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/limits.yaml", LIMITS_RULE),
        ("k8s/a-big.yaml", &pod),
        ("k8s/z-high.yaml", &high),
    ]);
    let out = tempfile::tempdir().unwrap();
    let b = out.path().join("b");
    let o = bundle(dir.path(), &b, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("findings.json")).unwrap()).unwrap();
    assert_eq!(findings["findings"].as_array().unwrap().len(), 25_030);
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("results.sarif")).unwrap()).unwrap();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    assert_eq!(results.iter().filter(|r| r["ruleId"] == "priv").count(), 20);
    assert_eq!(
        results.last().unwrap()["ruleId"],
        "priv",
        "kept results stay in path order"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let cut = notes
        .iter()
        .find(|n| {
            n["message"]["text"]
                .as_str()
                .unwrap()
                .contains("25030 results found")
        })
        .expect("a notification says what was left out");
    assert!(
        cut["message"]["text"]
            .as_str()
            .unwrap()
            .contains("30 left out: 30 medium"),
        "{cut}"
    );
    assert_eq!(cut["level"], "warning");
    assert_eq!(
        cut["properties"]["resultsLeftOutBySeverity"],
        serde_json::json!({"medium": 30})
    );
}

#[test]
fn a_run_with_errors_never_yields_a_clean_bundle() {
    let r = repo("acme/payments");
    let work = tempfile::tempdir().unwrap();
    // A config error: nothing is written.
    std::fs::write(
        r.path().join(".isms-lint.yaml"),
        "exclude: []\nwaivres: []\n",
    )
    .unwrap();
    let out = work.path().join("b");
    let o = bundle(r.path(), &out, &[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    std::fs::remove_file(r.path().join(".isms-lint.yaml")).unwrap();
    // A rule that fails at run time: the bundle is written, says so, and does not verify clean.
    std::fs::write(
        r.path().join("rules/broken.yaml"),
        PRIVILEGED_RULE.replace(
            "assert: \"!item.?securityContext.?privileged.orValue(false)\"",
            "assert: \"item.securityContext.runAsUser > 0\"",
        ),
    )
    .unwrap();
    let o = bundle(r.path(), &out, &[], &[]);
    let (code, _, stderr) = parts(&o);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the bundle records 1 error(s)"), "{stderr}");
    let (code, stdout, _) = verify(&out, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ERROR manifest.json: the run that wrote this bundle reported: rule broken failed on k8s/pod.yaml"),
        "{stdout}"
    );
    // …and merge refuses it.
    let o = merge(work.path(), &[&out], &["--out", "org"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        parts(&o).2.contains("records 1 error(s)"),
        "{}",
        parts(&o).2
    );
}
