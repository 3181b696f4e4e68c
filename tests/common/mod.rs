//! Helpers shared by the integration tests: run the real binary and read what it wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project root (tests run the binary from there, like a user in a checkout would).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `isms-lint ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the isms-lint binary runs")
}

/// Runs `isms-lint ARGS` in the project root.
pub fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

/// Exit code, stdout and stderr.
pub fn parts(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Parses stdout as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Writes files (path, content) under a fresh temporary directory.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (p, text) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// A small privileged-container rule for tests that must not depend on the built-in library.
pub const PRIVILEGED_RULE: &str = r#"title: Containers must not run privileged
severity: high
kinds: [kubernetes]
controls:
  - id: "8.2"
    relation: partial
    rationale: Root on the node is privileged access.
select: containers(doc)
assert: "!item.?securityContext.?privileged.orValue(false)"
at: securityContext.privileged
message: "container '{{ item.name }}' runs privileged"
remediation: Set privileged to false.
"#;

/// A pod with one privileged container (line 9 holds `privileged: true`).
pub const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      securityContext:
        privileged: true
";
