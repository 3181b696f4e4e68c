//! The nightly evidence bundle: SARIF, SoA (Markdown, CSV, JSON) and a manifest of digests an
//! auditor can verify; and the merge of many repositories' bundles into one organisation SoA.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog;
use crate::pipeline::Run;
use crate::report::{self, ReportInput};
use crate::rules::{RuleSet, TemplatePart};
use crate::soa::{self, Applicability, EvidenceMeta, Row, Soa, Status};

/// Schema id of manifests.
pub const SCHEMA: &str = "isms-lint/evidence/v1";

/// The files of a bundle besides the manifest, in the order they are written.
pub const OUTPUTS: [&str; 5] = [
    "results.sarif",
    "soa.md",
    "soa.csv",
    "soa.json",
    "oscal-assessment-results.json",
];

/// One written file and its digest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Output {
    /// File name inside the bundle.
    pub name: String,
    /// Hex sha256 of its bytes.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// isms-lint version.
    pub tool_version: String,
    /// Repository, commit, branch, dirty flag, evidence date.
    pub source: EvidenceMeta,
    /// Digest of the rules actually used (built-in and user, after config overrides).
    pub rule_pack_digest: String,
    /// Number of rules used.
    pub rules: usize,
    /// Digest of the config file's bytes, when one was used.
    pub config_digest: Option<String>,
    /// When the scan started (RFC 3339, UTC).
    pub started_at: String,
    /// When the bundle was finished (RFC 3339, UTC).
    pub finished_at: String,
    /// Files read.
    pub files_scanned: usize,
    /// Documents judged, by kind.
    pub documents_by_kind: BTreeMap<String, usize>,
    /// Every output with its sha256.
    pub outputs: Vec<Output>,
    /// sha256 over the lines `<sha256>  <name>\n` of the outputs, in order: identical for two
    /// runs on the same commit, since no output holds a timestamp.
    pub bundle_digest: String,
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A digest of the compiled rules: every field that decides a finding, rule by rule in id order.
pub fn rule_pack_digest(rules: &RuleSet) -> String {
    let mut h = Sha256::new();
    for r in &rules.rules {
        let mut canon = format!("{}\n{}\n{}\n{:?}\n", r.id, r.title, r.severity, r.kinds);
        for c in &r.controls {
            canon.push_str(&format!(
                "{} {} {}\n",
                c.id,
                c.relation.as_str(),
                c.rationale
            ));
        }
        let (selection, verdict) = (r.selection(), r.verdict());
        for e in [&selection.select, &selection.when].into_iter().flatten() {
            canon.push_str(&e.source);
            canon.push('\n');
        }
        canon.push_str(&verdict.assert.source);
        canon.push('\n');
        if let Some(at) = &r.at {
            canon.push_str(&at.text);
        }
        for p in &verdict.message {
            match p {
                TemplatePart::Text(t) => canon.push_str(t),
                TemplatePart::Expr(e) => canon.push_str(&format!("{{{{{}}}}}", e.source)),
            }
        }
        if let Some((globs, _)) = &r.files {
            canon.push_str(&globs.join(","));
        }
        h.update((canon.len() as u64).to_le_bytes());
        h.update(canon.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn bundle_digest(outputs: &[Output]) -> String {
    let lines: String = outputs
        .iter()
        .map(|o| format!("{}  {}\n", o.sha256, o.name))
        .collect();
    sha256_hex(lines.as_bytes())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes the bundle for `run` into `dir`; returns the manifest.
pub fn write_bundle(
    run: &Run,
    meta: EvidenceMeta,
    dir: &Path,
    started_at: String,
) -> Result<Manifest, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    let input = ReportInput {
        scan: &run.result,
        rules: &run.rules,
        config_errors: &run.errors,
        show_suppressed: true,
        fail_on: None,
        known: None,
        config: None,
        quiet: false,
    };
    let soa = soa::build(run, meta.clone());
    let contents = [
        report::sarif::render(&input),
        soa::markdown(&soa),
        soa::csv(&soa),
        soa::json(&soa),
        crate::oscal::assessment_results(&soa),
    ];
    let mut outputs = Vec::new();
    for (name, text) in OUTPUTS.iter().zip(contents) {
        std::fs::write(dir.join(name), &text)
            .map_err(|e| format!("cannot write '{}': {e}", dir.join(name).display()))?;
        outputs.push(Output {
            name: name.to_string(),
            sha256: sha256_hex(text.as_bytes()),
        });
    }
    let manifest = Manifest {
        schema: SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source: meta,
        rule_pack_digest: rule_pack_digest(&run.rules),
        rules: run.rules.rules.len(),
        config_digest: run
            .config
            .path
            .as_ref()
            .map(|_| sha256_hex(run.config.text.as_bytes())),
        started_at,
        finished_at: now_rfc3339(),
        files_scanned: run.result.files_scanned,
        documents_by_kind: run
            .result
            .documents_by_kind
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect(),
        bundle_digest: bundle_digest(&outputs),
        outputs,
    };
    let text = serde_json::to_string_pretty(&manifest).expect("manifest serializes") + "\n";
    std::fs::write(dir.join("manifest.json"), text)
        .map_err(|e| format!("cannot write manifest: {e}"))?;
    Ok(manifest)
}

/// The current time, for `started_at`.
pub fn start_time() -> String {
    now_rfc3339()
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("'{}' is not a manifest: {e}", path.display()))
}

/// Recomputes every digest of a bundle; returns the problems found (empty when intact).
pub fn verify(dir: &Path) -> Result<Vec<String>, String> {
    let manifest = read_manifest(dir)?;
    let mut problems = Vec::new();
    for o in &manifest.outputs {
        match std::fs::read(dir.join(&o.name)) {
            Ok(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual != o.sha256 {
                    problems.push(format!(
                        "{}: sha256 is {actual}, the manifest says {}: the file was changed",
                        o.name, o.sha256
                    ));
                }
            }
            Err(e) => problems.push(format!("{}: cannot read: {e}", o.name)),
        }
    }
    let expected = bundle_digest(&manifest.outputs);
    if expected != manifest.bundle_digest {
        problems.push(format!(
            "bundle_digest is {}, but the listed outputs give {expected}: the manifest was changed",
            manifest.bundle_digest
        ));
    }
    Ok(problems)
}

/// How an organisation status is chosen from the repositories' statuses: the highest wins.
fn rank(status: Status) -> u8 {
    match status {
        Status::Failing => 7,
        Status::Passing => 6,
        Status::Unknown => 5,
        Status::NotEvaluated => 4,
        Status::Manual => 3,
        Status::Undecided => 2,
        Status::NotApplicable => 1,
    }
}

/// Rolls several repositories' SoAs up into one organisation SoA.
pub fn merge(bundles: &[Soa]) -> Soa {
    let mut rows: Vec<Row> = Vec::new();
    for c in catalog::controls() {
        let mine: Vec<(&EvidenceMeta, &Row)> = bundles
            .iter()
            .filter_map(|s| {
                s.controls
                    .iter()
                    .find(|r| r.id == c.id)
                    .map(|r| (&s.meta, r))
            })
            .collect();
        let status = mine
            .iter()
            .map(|(_, r)| r.status)
            .max_by_key(|s| rank(*s))
            .unwrap_or(Status::Undecided);
        let failing_in: Vec<String> = mine
            .iter()
            .filter(|(_, r)| r.status == Status::Failing)
            .map(|(m, _)| m.repository.clone())
            .collect();
        let applicability = if mine
            .iter()
            .any(|(_, r)| r.applicability == Applicability::Applicable)
        {
            Applicability::Applicable
        } else if !mine.is_empty()
            && mine
                .iter()
                .all(|(_, r)| r.applicability == Applicability::NotApplicable)
        {
            Applicability::NotApplicable
        } else {
            Applicability::Undecided
        };
        let mut rules: BTreeMap<String, soa::RuleRef> = BTreeMap::new();
        let mut counts = soa::Counts::default();
        for (_, r) in &mine {
            counts.judged += r.counts.judged;
            counts.passed += r.counts.passed;
            counts.failed += r.counts.failed;
            counts.unknown += r.counts.unknown;
            for x in &r.rules {
                rules
                    .entry(x.id.clone())
                    .and_modify(|e| {
                        e.documents += x.documents;
                        e.counts.judged += x.counts.judged;
                        e.counts.passed += x.counts.passed;
                        e.counts.failed += x.counts.failed;
                        e.counts.unknown += x.counts.unknown;
                    })
                    .or_insert_with(|| x.clone());
            }
        }
        let rules: Vec<soa::RuleRef> = rules.into_values().collect();
        let first = mine.first().map(|(_, r)| *r);
        let conflicts: Vec<String> = mine
            .iter()
            .filter_map(|(m, r)| {
                r.conflict
                    .as_ref()
                    .map(|c| format!("{}: {c}", m.repository))
            })
            .collect();
        let reasons: Vec<String> = mine
            .iter()
            .filter(|(_, r)| r.status == status)
            .filter_map(|(m, r)| r.reason.as_ref().map(|x| format!("{}: {x}", m.repository)))
            .collect();
        let mut evidence: Vec<String> = mine.iter().flat_map(|(_, r)| r.evidence.clone()).collect();
        evidence.sort();
        evidence.dedup();
        rows.push(Row {
            id: c.id.clone(),
            title: c.title.clone(),
            theme: c.theme.as_str().to_string(),
            new_in_2022: c.new_in_2022,
            applicability,
            justification: first.map(|r| r.justification.clone()).unwrap_or_default(),
            owner: first.map(|r| r.owner.clone()).unwrap_or_default(),
            rules_evaluated: rules.iter().filter(|r| r.counts.judged > 0).count(),
            rules,
            status,
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            counts,
            open: mine.iter().map(|(_, r)| r.open).sum(),
            suppressed: mine.iter().map(|(_, r)| r.suppressed).sum(),
            waived: mine.iter().map(|(_, r)| r.waived).sum(),
            evidence,
            conflict: (!conflicts.is_empty()).then(|| conflicts.join("; ")),
            failing_in,
        });
    }
    let repos: Vec<String> = bundles
        .iter()
        .map(|s| match &s.meta.commit {
            Some(c) => format!("{}@{}", s.meta.repository, &c[..c.len().min(12)]),
            None => s.meta.repository.clone(),
        })
        .collect();
    let date = bundles
        .iter()
        .map(|s| s.meta.date.clone())
        .max()
        .unwrap_or_default();
    Soa {
        schema: soa::SCHEMA.to_string(),
        meta: EvidenceMeta {
            date,
            commit: None,
            branch: None,
            dirty: bundles.iter().any(|s| s.meta.dirty),
            repository: format!(
                "organisation ({} repositories: {})",
                bundles.len(),
                repos.join(", ")
            ),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        controls: rows,
    }
}

/// Reads `soa.json` of each bundle, merges them and writes the organisation SoA into `out`.
pub fn merge_dirs(bundles: &[std::path::PathBuf], out: &Path) -> Result<Soa, String> {
    let mut soas = Vec::new();
    for b in bundles {
        let problems = verify(b)?;
        if !problems.is_empty() {
            return Err(format!(
                "bundle '{}' fails verification: {}",
                b.display(),
                problems.join("; ")
            ));
        }
        let path = b.join("soa.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let soa: Soa = serde_json::from_str(&text)
            .map_err(|e| format!("'{}' is not an isms-lint SoA: {e}", path.display()))?;
        soas.push(soa);
    }
    soas.sort_by(|a, b| a.meta.repository.cmp(&b.meta.repository));
    let merged = merge(&soas);
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create '{}': {e}", out.display()))?;
    let files = [
        ("soa.md", soa::markdown(&merged)),
        ("soa.csv", soa::csv(&merged)),
        ("soa.json", soa::json(&merged)),
    ];
    for (name, text) in files {
        std::fs::write(out.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    Ok(merged)
}
