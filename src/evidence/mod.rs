//! The nightly evidence bundle: SARIF, every finding as JSON, the SoA (Markdown, CSV, JSON,
//! OSCAL) and a manifest that lists every file and carries a digest of itself, optionally
//! signed; its verification; and the merge of many repositories' bundles into one
//! organisation SoA with a manifest of its own.

pub mod history;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog;
use crate::git::Source;
use crate::pipeline::Run;
use crate::report::html::{self as html_report, org, History};
use crate::report::{self, ReportInput};

use crate::signing;
use crate::soa::{self, Applicability, EvidenceMeta, Row, Soa, Status};

/// Schema id of a repository bundle's manifest.
pub const SCHEMA: &str = "isms-lint/evidence/v2";
/// Schema id of an organisation merge's manifest.
pub const MERGE_SCHEMA: &str = "isms-lint/evidence-merge/v1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's minisign signature, when the bundle is signed.
pub const SIGNATURE: &str = "manifest.json.minisig";

/// The files of a bundle besides the manifest, in the order they are written. `soa.html` is
/// the page for people: it shows the bundle digest, so it is listed (with its sha256, covered by
/// the manifest's digest and signature) but not part of `bundle_digest`.
pub const OUTPUTS: [&str; 7] = [
    "results.sarif",
    "findings.json",
    "soa.md",
    "soa.csv",
    "soa.json",
    "oscal-assessment-results.json",
    "soa.html",
];

/// The files of an organisation merge besides the manifest.
pub const MERGE_OUTPUTS: [&str; 3] = ["soa.md", "soa.csv", "soa.json"];

/// One written file and its digest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Output {
    /// File name inside the bundle.
    pub name: String,
    /// Hex sha256 of its bytes.
    pub sha256: String,
}

/// `manifest.json` of a repository bundle.
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
    /// Errors of the run (rule files that did not load, rules that failed at run time, files
    /// that could not be handled): a bundle with errors is incomplete evidence, and `verify`
    /// says so.
    pub errors: Vec<String>,
    /// Every file of the bundle besides the manifest (and its signature), with its sha256.
    pub outputs: Vec<Output>,
    /// sha256 over the lines `<sha256>  <name>\n` of the outputs, in order: identical for two
    /// runs on the same commit, since no output holds a timestamp.
    pub bundle_digest: String,
    /// sha256 of this manifest written with `manifest_digest` empty: any edit of the manifest
    /// (a commit, the dirty flag, a digest) shows.
    pub manifest_digest: String,
}

/// One repository bundle taken into an organisation merge.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MergedBundle {
    /// Repository name.
    pub repository: String,
    /// Its commit, when it was in git.
    pub commit: Option<String>,
    /// Whether its work tree had uncommitted changes.
    pub dirty: bool,
    /// Its evidence date.
    pub date: String,
    /// Its `bundle_digest`.
    pub bundle_digest: String,
    /// Its `manifest_digest`.
    pub manifest_digest: String,
}

/// `manifest.json` of an organisation merge.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MergeManifest {
    /// Always [`MERGE_SCHEMA`].
    pub schema: String,
    /// isms-lint version.
    pub tool_version: String,
    /// When the merge was written (RFC 3339, UTC).
    pub merged_at: String,
    /// The bundles merged, by repository.
    pub bundles: Vec<MergedBundle>,
    /// The repositories expected (`--expect`), sorted.
    pub expected: Vec<String>,
    /// Expected repositories without a bundle.
    pub missing: Vec<String>,
    /// Every file besides the manifest, with its sha256.
    pub outputs: Vec<Output>,
    /// sha256 over the lines `<sha256>  <name>\n` of the outputs.
    pub bundle_digest: String,
    /// sha256 of this manifest written with `manifest_digest` empty.
    pub manifest_digest: String,
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
pub use crate::rules::pack_digest as rule_pack_digest;

/// sha256 over the lines `<sha256>  <name>\n` of the outputs, in order, leaving out the HTML
/// pages: they show this digest, so they cannot be part of it (their own sha256 is in the
/// manifest, which `manifest_digest` and the signature cover).
fn bundle_digest(outputs: &[Output]) -> String {
    let lines: String = outputs
        .iter()
        .filter(|o| !o.name.ends_with(".html"))
        .map(|o| format!("{}  {}\n", o.sha256, o.name))
        .collect();
    sha256_hex(lines.as_bytes())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The current time, for `started_at`.
pub fn start_time() -> String {
    now_rfc3339()
}

/// The pretty JSON of a manifest with `manifest_digest` filled in: the digest is the sha256 of
/// the same text with `manifest_digest` empty.
fn seal(manifest: &impl Serialize) -> String {
    let mut value = serde_json::to_value(manifest).expect("manifests serialize");
    let digest = content_digest(&mut value);
    value["manifest_digest"] = serde_json::Value::String(digest);
    serde_json::to_string_pretty(&value).expect("manifests serialize") + "\n"
}

/// sha256 of `value` printed with `manifest_digest` set to `""` (left so on return).
fn content_digest(value: &mut serde_json::Value) -> String {
    value["manifest_digest"] = serde_json::Value::String(String::new());
    sha256_hex(
        serde_json::to_string_pretty(value)
            .expect("JSON values print")
            .as_bytes(),
    )
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<Output, EvidenceError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(io_error("write", &path))?;
    Ok(Output {
        name: name.to_string(),
        sha256: sha256_hex(bytes),
    })
}

/// Creates `dir`, refusing one that holds anything but an earlier bundle's files (a bundle
/// must list every file it holds; `pages`: an organisation merge's HTML pages are its own). A
/// signature left from an earlier run is removed, and so are earlier organisation pages.
fn prepare_dir(dir: &Path, ours: &[&str], pages: bool) -> Result<(), EvidenceError> {
    std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    let files = files_in(dir)?;
    let foreign: Vec<String> = files
        .iter()
        .filter(|f| {
            *f != MANIFEST
                && *f != SIGNATURE
                && !ours.contains(&f.as_str())
                && !(pages && org::is_org_page(f))
        })
        .cloned()
        .collect();
    if !foreign.is_empty() {
        return Err(EvidenceError::Refused(format!(
            "'{}' holds files that are not part of an evidence bundle ({}): write the bundle into an empty directory",
            dir.display(),
            foreign.join(", ")
        )));
    }
    let stale = files
        .iter()
        .filter(|f| *f == SIGNATURE || (pages && org::is_org_page(f)));
    for f in stale {
        let path = dir.join(f);
        std::fs::remove_file(&path).map_err(io_error("remove", &path))?;
    }
    Ok(())
}

/// How to sign a bundle: the minisign secret key file and its password (if it has one).
pub struct SignWith<'a> {
    /// The secret key file.
    pub key: &'a Path,
    /// Its password; `None` for a key without one (or to be asked on the terminal).
    pub password: Option<String>,
}

/// Writes the bundle for `run` into `dir`, signs the manifest when asked; returns the manifest.
/// `history`: earlier bundles, already verified, for the trends of `soa.html`.
pub fn write_bundle(
    run: &Run,
    source: &Source,
    dir: &Path,
    started_at: String,
    sign: Option<SignWith<'_>>,
    history: Option<&History>,
) -> Result<Manifest, EvidenceError> {
    // Load the key before writing anything: a wrong key or password leaves no bundle behind.
    let secret = match &sign {
        Some(s) => Some(signing::load_secret_key(s.key, s.password.clone())?),
        None => None,
    };
    prepare_dir(dir, &OUTPUTS, false)?;
    let input = ReportInput {
        scan: &run.result,
        rules: &run.rules,
        config_errors: &run.errors,
        show_suppressed: true,
        fail_on: None,
        source_root: Some(&source.root),
    };
    let meta = source.meta.clone();
    let soa = soa::build(run, meta.clone());
    let contents = [
        report::sarif::render(&input),
        report::json::render(&input),
        soa::markdown(&soa),
        soa::csv(&soa),
        soa::json(&soa),
        crate::oscal::assessment_results(&soa),
    ];
    let mut outputs = Vec::new();
    for (name, text) in OUTPUTS.iter().zip(contents) {
        outputs.push(write_file(dir, name, text.as_bytes())?);
    }
    // The page shows the digest of the data written above (it is not part of it).
    let page = html_report::render_run(run, &soa, Some(bundle_digest(&outputs)), history);
    outputs.push(write_file(dir, "soa.html", page.as_bytes())?);
    let mut errors: Vec<String> = run.errors.iter().map(|e| e.short()).collect();
    errors.extend(run.result.rule_errors.iter().map(|e| {
        format!(
            "rule {} failed on {}:{}: {}",
            e.rule_id, e.path, e.line, e.message
        )
    }));
    errors.extend(
        run.result
            .notices
            .iter()
            .filter(|n| n.level == crate::discover::NoticeLevel::Error)
            .map(|n| format!("{}: {}", n.path, n.message)),
    );
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
        errors,
        bundle_digest: bundle_digest(&outputs),
        outputs,
        manifest_digest: String::new(),
    };
    let text = seal(&manifest);
    write_file(dir, MANIFEST, text.as_bytes())?;
    if let Some(sk) = secret {
        let comment = format!(
            "isms-lint evidence bundle of {} at {}{}: bundle_digest {}",
            manifest.source.repository,
            manifest.source.commit.as_deref().unwrap_or("no commit"),
            if manifest.source.dirty {
                " (dirty)"
            } else {
                ""
            },
            manifest.bundle_digest
        );
        let sig = signing::sign(&sk, text.as_bytes(), &comment)?;
        write_file(dir, SIGNATURE, sig.as_bytes())?;
    }
    serde_json::from_str(&text)
        .map_err(|e| EvidenceError::Refused(format!("the manifest does not read back: {e}")))
}

/// Every file under `dir`, as `/`-separated relative names, sorted.
fn files_in(dir: &Path) -> Result<Vec<String>, EvidenceError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), EvidenceError> {
        let entries = std::fs::read_dir(dir).map_err(io_error("list", dir))?;
        for entry in entries {
            let entry = entry.map_err(io_error("list", dir))?;
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// What a manifest of either kind lists.
#[derive(Deserialize)]
struct Listing {
    outputs: Vec<Output>,
    bundle_digest: String,
    manifest_digest: String,
    #[serde(default)]
    errors: Vec<String>,
}

/// One thing wrong with a bundle, on the file it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the bundle (`manifest.json` for the manifest itself).
    pub file: String,
    /// What is wrong.
    pub what: String,
}

/// The state of a bundle's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureState {
    /// No `manifest.json.minisig`.
    Unsigned,
    /// Signed, but no key was given to check it.
    NotChecked,
    /// The signature verifies with the key; its trusted comment.
    Valid(String),
    /// The signature does not verify with the key (the reason is among the problems).
    Invalid,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// `isms-lint/evidence/v2` or `isms-lint/evidence-merge/v1`.
    pub schema: String,
    /// Changed, missing and extra files, an edited manifest, a bad signature.
    pub problems: Vec<Problem>,
    /// Errors of the run that wrote the bundle, as its manifest records them.
    pub run_errors: Vec<String>,
    /// The signature.
    pub signature: SignatureState,
}

impl Verification {
    /// Intact, complete and (when a key was given) signed by it.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.run_errors.is_empty()
    }
}

/// Checks a bundle (or an organisation merge): every listed file is there with its digest,
/// no other file is, the manifest matches its own digest and the bundle digest, and, with
/// `key`, the manifest's signature verifies. `Err` when there is no readable manifest at all.
pub fn verify(dir: &Path, key: Option<&str>) -> Result<Verification, EvidenceError> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(io_error("read", &path))?;
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(malformed("JSON", &path))?;
    let schema = value["schema"].as_str().unwrap_or_default().to_string();
    if schema != SCHEMA && schema != MERGE_SCHEMA {
        return Err(EvidenceError::Refused(format!(
            "'{}' has schema '{schema}'; this isms-lint verifies '{SCHEMA}' and '{MERGE_SCHEMA}' \
             (a bundle from an older isms-lint has no digest of its manifest: write it again)",
            path.display()
        )));
    }
    let listing: Listing =
        serde_json::from_value(value.clone()).map_err(malformed("a manifest", &path))?;
    let mut problems = Vec::new();
    let problem = |file: &str, what: String| Problem {
        file: file.to_string(),
        what,
    };
    let actual = content_digest(&mut value);
    if actual != listing.manifest_digest {
        problems.push(problem(
            MANIFEST,
            format!(
                "its content gives manifest_digest {actual}, the manifest says {}: the manifest was edited",
                listing.manifest_digest
            ),
        ));
    }
    let expected = bundle_digest(&listing.outputs);
    if expected != listing.bundle_digest {
        problems.push(problem(
            MANIFEST,
            format!(
                "bundle_digest is {}, but the listed outputs give {expected}: the manifest was edited",
                listing.bundle_digest
            ),
        ));
    }
    for o in &listing.outputs {
        match std::fs::read(dir.join(&o.name)) {
            Ok(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual != o.sha256 {
                    problems.push(problem(
                        &o.name,
                        format!(
                            "sha256 is {actual}, the manifest says {}: the file was changed",
                            o.sha256
                        ),
                    ));
                }
            }
            Err(e) => problems.push(problem(
                &o.name,
                format!("listed in the manifest but cannot be read: {e}"),
            )),
        }
    }
    let listed: BTreeSet<&str> = listing.outputs.iter().map(|o| o.name.as_str()).collect();
    for f in files_in(dir)? {
        if f != MANIFEST && f != SIGNATURE && !listed.contains(f.as_str()) {
            problems.push(problem(
                &f,
                "not listed in the manifest: added after the bundle was written".to_string(),
            ));
        }
    }
    let sig_path = dir.join(SIGNATURE);
    let signature = match (sig_path.exists(), key) {
        (false, None) => SignatureState::Unsigned,
        (true, None) => SignatureState::NotChecked,
        (false, Some(_)) => {
            problems.push(problem(
                SIGNATURE,
                "missing: a key was given but the bundle is not signed".to_string(),
            ));
            SignatureState::Unsigned
        }
        (true, Some(key)) => {
            let sig = std::fs::read_to_string(&sig_path).map_err(io_error("read", &sig_path))?;
            let public = signing::load_public_key(key)?;
            match signing::verify(&public, &bytes, &sig) {
                Ok(comment) => SignatureState::Valid(comment),
                Err(e) => {
                    problems.push(problem(SIGNATURE, e.to_string()));
                    SignatureState::Invalid
                }
            }
        }
    };
    Ok(Verification {
        schema,
        problems,
        run_errors: listing.errors,
        signature,
    })
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
            note: None,
        },
        controls: rows,
    }
}

/// What a merge found besides the SoA.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    /// The organisation SoA.
    pub soa: Soa,
    /// Its manifest.
    pub manifest: MergeManifest,
    /// Repositories merged that were not in the expected list (when one was given).
    pub unexpected: Vec<String>,
}

/// Verifies each bundle (and its signature with `key`), refuses one repository and commit
/// given twice, merges their SoAs and writes the organisation SoA with its own manifest into
/// `out`. `expect` lists the repositories that should be there; those missing are named in
/// the manifest and the SoA.
pub fn merge_dirs(
    bundles: &[PathBuf],
    out: &Path,
    expect: &[String],
    key: Option<&str>,
    html: bool,
) -> Result<MergeOutcome, EvidenceError> {
    let mut soas = Vec::new();
    let mut pages: Vec<(org::OrgRepo, String)> = Vec::new();
    let mut rules = BTreeMap::new();
    let mut merged_bundles = Vec::new();
    let mut seen: BTreeMap<(String, Option<String>), &PathBuf> = BTreeMap::new();
    for b in bundles {
        let v = verify(b, key)?;
        if v.schema != SCHEMA {
            return Err(EvidenceError::Refused(format!(
                "'{}' is an organisation merge, not a repository bundle",
                b.display()
            )));
        }
        if !v.problems.is_empty() {
            let list: Vec<String> = v
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.file, p.what))
                .collect();
            return Err(EvidenceError::Refused(format!(
                "bundle '{}' fails verification: {}",
                b.display(),
                list.join("; ")
            )));
        }
        if !v.run_errors.is_empty() {
            return Err(EvidenceError::Refused(format!(
                "bundle '{}' records {} error(s) of the run that wrote it (incomplete evidence): {}",
                b.display(),
                v.run_errors.len(),
                v.run_errors.join("; ")
            )));
        }
        let text = std::fs::read_to_string(b.join(MANIFEST))
            .map_err(io_error("read", &b.join(MANIFEST)))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(malformed("a manifest", &b.join(MANIFEST)))?;
        let id = (
            manifest.source.repository.clone(),
            manifest.source.commit.clone(),
        );
        if let Some(first) = seen.get(&id) {
            return Err(EvidenceError::Refused(format!(
                "'{}' and '{}' are both bundles of {} at {}: each repository and commit is merged once",
                first.display(),
                b.display(),
                id.0,
                id.1.as_deref().unwrap_or("no commit")
            )));
        }
        seen.insert(id, b);
        let path = b.join("soa.json");
        let text = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
        let soa: Soa = serde_json::from_str(&text).map_err(malformed("an isms-lint SoA", &path))?;
        if html {
            let repo = org::OrgRepo {
                repository: manifest.source.repository.clone(),
                commit: manifest.source.commit.clone(),
                dirty: manifest.source.dirty,
                date: manifest.source.date.clone(),
                bundle_digest: manifest.bundle_digest.clone(),
                page: org::page_name(
                    &manifest.source.repository,
                    manifest.source.commit.as_deref(),
                ),
                statuses: soa
                    .controls
                    .iter()
                    .map(|r| (r.id.clone(), r.status))
                    .collect(),
            };
            pages.push((
                repo,
                org::repository_page(b, &soa).map_err(EvidenceError::Refused)?,
            ));
            for (id, info) in org::rule_infos(b) {
                rules.entry(id).or_insert(info);
            }
        }
        merged_bundles.push(MergedBundle {
            repository: manifest.source.repository.clone(),
            commit: manifest.source.commit.clone(),
            dirty: manifest.source.dirty,
            date: manifest.source.date.clone(),
            bundle_digest: manifest.bundle_digest.clone(),
            manifest_digest: manifest.manifest_digest.clone(),
        });
        soas.push(soa);
    }
    soas.sort_by(|a, b| {
        (&a.meta.repository, &a.meta.commit).cmp(&(&b.meta.repository, &b.meta.commit))
    });
    merged_bundles.sort_by(|a, b| (&a.repository, &a.commit).cmp(&(&b.repository, &b.commit)));
    let present: BTreeSet<&str> = merged_bundles
        .iter()
        .map(|b| b.repository.as_str())
        .collect();
    let expected: BTreeSet<String> = expect
        .iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    let missing: Vec<String> = expected
        .iter()
        .filter(|e| !present.contains(e.as_str()))
        .cloned()
        .collect();
    let unexpected: Vec<String> = if expected.is_empty() {
        Vec::new()
    } else {
        present
            .iter()
            .filter(|p| !expected.contains(**p))
            .map(|p| p.to_string())
            .collect()
    };
    let mut merged = merge(&soas);
    if !missing.is_empty() {
        merged.meta.note = Some(format!(
            "expected but missing (no bundle): {}",
            missing.join(", ")
        ));
    }
    prepare_dir(out, &MERGE_OUTPUTS, true)?;
    let contents = [
        soa::markdown(&merged),
        soa::csv(&merged),
        soa::json(&merged),
    ];
    let mut outputs = Vec::new();
    for (name, text) in MERGE_OUTPUTS.iter().zip(contents) {
        outputs.push(write_file(out, name, text.as_bytes())?);
    }
    if html {
        pages.sort_by(|a, b| a.0.page.cmp(&b.0.page));
        let repos: Vec<org::OrgRepo> = pages.iter().map(|(r, _)| r.clone()).collect();
        let page = org::render_org(&merged, &repos, &rules, &bundle_digest(&outputs));
        outputs.push(write_file(out, "soa.html", page.as_bytes())?);
        for (r, text) in &pages {
            outputs.push(write_file(out, &r.page, text.as_bytes())?);
        }
    }
    let manifest = MergeManifest {
        schema: MERGE_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        merged_at: now_rfc3339(),
        bundles: merged_bundles,
        expected: expected.into_iter().collect(),
        missing,
        bundle_digest: bundle_digest(&outputs),
        outputs,
        manifest_digest: String::new(),
    };
    let text = seal(&manifest);
    write_file(out, MANIFEST, text.as_bytes())?;
    let manifest: MergeManifest = serde_json::from_str(&text)
        .map_err(|e| EvidenceError::Refused(format!("the manifest does not read back: {e}")))?;
    Ok(MergeOutcome {
        soa: merged,
        manifest,
        unexpected,
    })
}

/// What stopped a bundle from being written, verified or merged. (What a verification finds
/// wrong inside a readable bundle is not an error: it is a problem listed in [`Verification`].)
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A file or folder cannot be read, written, listed or removed.
    #[error("cannot {action} '{}': {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what the bundle says it is.
    #[error("'{}' is not {what}: {reason}", .path.display())]
    Malformed {
        /// What it should have been (`JSON`, `a manifest`…).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// Signing or checking a signature failed.
    #[error(transparent)]
    Signing(#[from] signing::SigningError),
    /// The bundle, its folder or the set of bundles to merge is refused (the message says why).
    #[error("{0}")]
    Refused(String),
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError {
    let path = path.to_path_buf();
    move |source| EvidenceError::Io {
        action,
        path,
        source,
    }
}

fn malformed<E: std::fmt::Display>(
    what: &'static str,
    path: &Path,
) -> impl FnOnce(E) -> EvidenceError {
    let path = path.to_path_buf();
    move |e| EvidenceError::Malformed {
        what,
        path,
        reason: e.to_string(),
    }
}

/// Reads a list of expected repositories: one `owner/name` a line, `#` starts a comment.
pub fn read_expect_file(path: &Path) -> Result<Vec<String>, EvidenceError> {
    let text = std::fs::read_to_string(path).map_err(io_error("read", path))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}
