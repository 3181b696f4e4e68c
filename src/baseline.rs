//! Baselines and "new findings only": a file of fingerprints to ignore, or the findings of the
//! merge-base of a git ref, scanned from git objects (never by checking out over the work tree).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Schema id of baseline files.
pub const SCHEMA: &str = "isms-lint/baseline/v1";

/// A baseline file.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Baseline {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The known findings.
    pub findings: Vec<BaselineEntry>,
}

/// One known finding.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaselineEntry {
    /// Its fingerprint (rule + file + logical path).
    pub fingerprint: String,
    /// Rule, for people reading the file.
    pub rule_id: String,
    /// File, for people reading the file.
    pub path: String,
}

/// The baseline of the open findings of a scan.
pub fn of(findings: &[Finding]) -> Baseline {
    let mut entries: Vec<BaselineEntry> = findings
        .iter()
        .filter(|f| f.is_open())
        .map(|f| BaselineEntry {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
        })
        .collect();
    entries.sort();
    Baseline {
        schema: SCHEMA.to_string(),
        findings: entries,
    }
}

/// Writes a baseline as pretty JSON.
pub fn write(path: &Path, findings: &[Finding]) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&of(findings)).expect("baseline serializes") + "\n";
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write baseline '{}': {e}", path.display()))
}

/// Reads the fingerprints of a baseline file.
pub fn read(path: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline '{}': {e}", path.display()))?;
    let b: Baseline = serde_json::from_str(&text)
        .map_err(|e| format!("'{}' is not an isms-lint baseline: {e}", path.display()))?;
    if b.schema != SCHEMA {
        return Err(format!(
            "'{}' has schema '{}', expected '{SCHEMA}'",
            path.display(),
            b.schema
        ));
    }
    Ok(b.findings.into_iter().map(|e| e.fingerprint).collect())
}

/// Removes findings whose fingerprint is known and returns them (in their order).
pub fn subtract(findings: &mut Vec<Finding>, known: &BTreeSet<String>) -> Vec<Finding> {
    let (removed, kept) = std::mem::take(findings)
        .into_iter()
        .partition(|f| known.contains(&f.fingerprint));
    *findings = kept;
    removed
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A checkout of the merge-base of a ref, extracted from git objects into a temporary directory.
pub struct BaseTree {
    /// The extracted tree; removed when dropped.
    pub dir: tempfile::TempDir,
    /// The working directory's place inside the repository (`""` at the top).
    pub prefix: PathBuf,
    /// The merge-base commit.
    pub commit: String,
}

impl BaseTree {
    /// The directory that stands for the current working directory inside the base tree.
    pub fn cwd(&self) -> PathBuf {
        self.dir.path().join(&self.prefix)
    }
}

/// Extracts the merge-base of `reference` and `HEAD` (run from `cwd`) into a temporary directory.
pub fn base_tree(cwd: &Path, reference: &str) -> Result<BaseTree, String> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("--new-since needs a git repository: {e}"))?;
    let prefix = git(cwd, &["rev-parse", "--show-prefix"]).unwrap_or_default();
    if git(
        cwd,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .is_err()
    {
        return Err(format!(
            "--new-since: '{reference}' is not a commit in this clone. In CI, fetch it first: \
             `git fetch origin {reference}` (or actions/checkout with `fetch-depth: 0`)."
        ));
    }
    let commit = git(cwd, &["merge-base", reference, "HEAD"]).map_err(|e| {
        let shallow = git(cwd, &["rev-parse", "--is-shallow-repository"]).unwrap_or_default() == "true";
        if shallow {
            format!(
                "--new-since: no merge-base of '{reference}' and HEAD in this shallow clone. \
                 Fetch more history: `git fetch --deepen=100 origin {reference}` or `git fetch --unshallow` \
                 (actions/checkout: `fetch-depth: 0`)."
            )
        } else {
            format!("--new-since: no merge-base of '{reference}' and HEAD: {e}")
        }
    })?;
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let archive = Command::new("git")
        .args(["archive", "--format=tar", &commit])
        .current_dir(&top)
        .output()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    if !archive.status.success() {
        return Err(format!(
            "git archive {commit} failed: {}",
            String::from_utf8_lossy(&archive.stderr).trim()
        ));
    }
    let mut tar = Command::new("tar")
        .args(["-x", "-f", "-", "-C"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    {
        use std::io::Write;
        let stdin = tar.stdin.as_mut().ok_or("cannot write to tar")?;
        stdin
            .write_all(&archive.stdout)
            .map_err(|e| format!("cannot extract the base tree: {e}"))?;
    }
    let status = tar.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("tar could not extract the base tree".into());
    }
    Ok(BaseTree {
        dir,
        prefix: PathBuf::from(prefix),
        commit,
    })
}
