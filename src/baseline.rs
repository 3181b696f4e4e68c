//! Baselines and "new findings only": a file of fingerprints to ignore, or the findings of the
//! merge-base of a git ref, scanned from git objects (never by checking out over the work tree).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::git::{self, Repo};

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

/// A checkout of the merge-base of a ref, extracted from git objects into a temporary directory.
pub struct BaseTree {
    /// The extracted tree (the repository's top level at the merge-base); removed when dropped.
    pub dir: tempfile::TempDir,
    /// The merge-base commit.
    pub commit: String,
}

/// Extracts the merge-base of `reference` and `HEAD` of `repo` (the repository that holds the
/// scan roots, wherever the working directory is) into a temporary directory.
pub fn base_tree(repo: &Repo, reference: &str) -> Result<BaseTree, String> {
    let top = &repo.top;
    let shown = crate::paths::display(top);
    if git::run(
        top,
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
            "--new-since: '{reference}' is not a commit in the repository at '{shown}'. In CI, fetch it first: \
             `git fetch origin {reference}` (or actions/checkout with `fetch-depth: 0`)."
        ));
    }
    let commit = git::run(top, &["merge-base", reference, "HEAD"]).map_err(|e| {
        let shallow =
            git::run(top, &["rev-parse", "--is-shallow-repository"]).unwrap_or_default() == "true";
        if shallow {
            format!(
                "--new-since: no merge-base of '{reference}' and HEAD in the shallow clone at '{shown}'. \
                 Fetch more history: `git fetch --deepen=100 origin {reference}` or `git fetch --unshallow` \
                 (actions/checkout: `fetch-depth: 0`)."
            )
        } else {
            format!("--new-since: no merge-base of '{reference}' and HEAD in '{shown}': {e}")
        }
    })?;
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let archive = git::run_bytes(top, &["archive", "--format=tar", &commit])
        .map_err(|e| format!("git archive {commit} failed: {e}"))?;
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
            .write_all(&archive)
            .map_err(|e| format!("cannot extract the base tree: {e}"))?;
    }
    let status = tar.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("tar could not extract the base tree".into());
    }
    Ok(BaseTree { dir, commit })
}
