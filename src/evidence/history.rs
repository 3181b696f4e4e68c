//! Earlier bundles for trends (`evidence --history DIR`, a folder of them as a nightly job keeps
//! them): each verified with [`super::verify`] before anything is read from it. A bundle that
//! fails, records errors, belongs to another repository or is an organisation merge is listed
//! with the reason and never plotted.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Manifest, MANIFEST, SCHEMA};
use crate::report::html::history::{open_by_theme, History, Point, Rejected};
use crate::report::html::FindingRecord;
use crate::soa::Soa;

#[derive(Deserialize)]
struct FindingsFile {
    findings: Vec<FindingRecord>,
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The bundle in a history entry: the entry itself, or the one folder below it that holds a
/// manifest (a downloaded workflow artifact keeps the bundle's folder).
fn bundle_in(entry: &Path) -> Result<PathBuf, String> {
    if entry.join(MANIFEST).is_file() {
        return Ok(entry.to_path_buf());
    }
    let mut inner: Vec<PathBuf> = std::fs::read_dir(entry)
        .map_err(|e| format!("cannot list it: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join(MANIFEST).is_file())
        .collect();
    inner.sort();
    match inner.len() {
        1 => Ok(inner.remove(0)),
        0 => Err(format!(
            "no {MANIFEST} in it or in a folder just below it: not an evidence bundle"
        )),
        n => Err(format!("{n} bundles in it; keep one bundle per folder")),
    }
}

/// Verifies and reads one bundle of `repository`.
fn read_point(name: &str, dir: &Path, repository: &str) -> Result<Point, String> {
    let v = super::verify(dir, None).map_err(|e| e.to_string())?;
    if v.schema != SCHEMA {
        return Err("an organisation merge, not a repository bundle".to_string());
    }
    if !v.problems.is_empty() {
        let list: Vec<String> = v
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.file, p.what))
            .collect();
        return Err(format!("fails verification: {}", list.join("; ")));
    }
    if !v.run_errors.is_empty() {
        return Err(format!(
            "records {} error(s) of the run that wrote it: incomplete evidence",
            v.run_errors.len()
        ));
    }
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"))
    };
    let manifest: Manifest = serde_json::from_str(&read(MANIFEST)?)
        .map_err(|e| format!("{MANIFEST} does not read: {e}"))?;
    if manifest.source.repository != repository {
        return Err(format!(
            "a bundle of '{}', not of '{repository}'",
            manifest.source.repository
        ));
    }
    let soa: Soa = serde_json::from_str(&read("soa.json")?)
        .map_err(|e| format!("soa.json is not a statement this isms-lint reads: {e}"))?;
    let findings: FindingsFile = serde_json::from_str(&read("findings.json")?)
        .map_err(|e| format!("findings.json does not read: {e}"))?;
    Ok(Point {
        name: name.to_string(),
        date: manifest.source.date.clone(),
        commit: manifest.source.commit.clone(),
        dirty: manifest.source.dirty,
        bundle_digest: Some(manifest.bundle_digest.clone()),
        started_at: manifest.started_at.clone(),
        open_by_theme: open_by_theme(&findings.findings),
        statuses: soa
            .controls
            .iter()
            .map(|r| (r.id.clone(), r.status))
            .collect(),
        current: false,
    })
}

/// Loads the history folder `dir`: each folder in it is one earlier bundle of `repository`,
/// verified before use. `skip` (the bundle being written) is left out if it lies inside.
/// `Err` only when `dir` itself cannot be listed.
pub fn load(
    dir: &Path,
    repository: &str,
    skip: Option<&Path>,
) -> Result<History, super::EvidenceError> {
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(super::io_error("read the history folder", dir))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    entries.sort();
    let mut h = History::default();
    for (name, path) in entries {
        if skip.is_some_and(|s| same_dir(&path, s)) {
            continue;
        }
        let outcome = bundle_in(&path).and_then(|b| {
            if skip.is_some_and(|s| same_dir(&b, s)) {
                Ok(None)
            } else {
                read_point(&name, &b, repository).map(Some)
            }
        });
        match outcome {
            Ok(Some(p)) => h.points.push(p),
            Ok(None) => {}
            Err(why) => h.rejected.push(Rejected { name, why }),
        }
    }
    h.points
        .sort_by(|a, b| (&a.date, &a.started_at, &a.name).cmp(&(&b.date, &b.started_at, &b.name)));
    Ok(h)
}
