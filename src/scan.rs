//! A scan: discover files, then parse and evaluate each one in parallel, catching panics per
//! file, and gather the results in a deterministic order.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::discover::{self, Candidate, DiscoverOptions, Notice, NoticeLevel};
use crate::doc::{self, Kind, Pos};
use crate::eval::{self, RuleRunError};
use crate::finding::{self, fingerprint, Finding};
use crate::rules::{BuiltinCheck, RuleSet, DUPLICATE_KEY, PARSE_ERROR};
use crate::suppress;

/// What to scan and how.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Files and directories; empty means `.`.
    pub paths: Vec<PathBuf>,
    /// Discovery settings.
    pub discover: DiscoverOptions,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    /// The date suppressions' `until` is compared with.
    pub today: Option<chrono::NaiveDate>,
    /// Report valid suppressions that match nothing as findings.
    pub report_unused_suppressions: bool,
    /// Judge every directory root as a repository (the merge-base tree of `--new-since`, which
    /// has no `.git` of its own, stands for a repository the current scan judged).
    pub assume_repository: bool,
}

/// Time spent in each phase.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// Walking the file system.
    pub discover: Duration,
    /// Reading and parsing, summed over threads.
    pub parse: Duration,
    /// Evaluating rules, summed over threads.
    pub evaluate: Duration,
    /// Wall time of the parallel phase.
    pub files_wall: Duration,
    /// Rule runs (rule × document).
    pub rule_runs: usize,
    /// Rule runs settled by the rule's gate without running CEL.
    pub rule_runs_gated: usize,
}

/// One rule's share of the evaluation (with `RuleSet::profile`).
#[derive(Clone, Debug, Default)]
pub struct RuleProfile {
    /// The rule.
    pub rule_id: String,
    /// Documents it ran on (gated runs excluded).
    pub runs: usize,
    /// Elements it judged.
    pub elements: usize,
    /// Time spent, summed over threads.
    pub time: Duration,
}

/// Everything a scan found.
#[derive(Debug, Default)]
pub struct ScanResult {
    /// Findings, sorted by path, line, column and rule.
    pub findings: Vec<Finding>,
    /// Rules that failed at run time.
    pub rule_errors: Vec<RuleRunError>,
    /// Files skipped or not handled.
    pub notices: Vec<Notice>,
    /// Files read.
    pub files_scanned: usize,
    /// Documents judged, by kind.
    pub documents_by_kind: BTreeMap<Kind, usize>,
    /// What each rule judged, summed over documents (rules with no document of their kinds
    /// are absent).
    pub rule_stats: BTreeMap<String, eval::Judged>,
    /// Valid inline suppressions that matched no finding.
    pub unused_suppressions: usize,
    /// Phase timings.
    pub timings: Timings,
    /// Per rule time, slowest first (only when the rule set is profiled).
    pub rule_profile: Vec<RuleProfile>,
    /// Findings about a repository as a whole (no CODEOWNERS…), by fingerprint, with the display
    /// path of the repository root: reports place them there (see `repo_scope`).
    pub repository_level: BTreeMap<String, String>,
}

impl ScanResult {
    /// The repository root a finding is about, when it is about a repository as a whole.
    pub fn repository_root(&self, f: &Finding) -> Option<&str> {
        self.repository_level
            .get(&f.fingerprint)
            .map(String::as_str)
    }
}

#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    errors: Vec<RuleRunError>,
    notices: Vec<Notice>,
    kinds: Vec<Kind>,
    /// The rules evaluated, once per document, with what they judged.
    evaluated: Vec<(usize, eval::Judged)>,
    gated: usize,
    profile: Vec<(usize, Duration, usize)>,
    unused_suppressions: usize,
    parse: Duration,
    evaluate: Duration,
    scanned: bool,
    files: usize,
}

/// Runs a scan with `rules`.
pub fn scan(rules: &RuleSet, opts: &ScanOptions) -> Result<ScanResult, String> {
    let started = Instant::now();
    let roots = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let (candidates, notices) = discover::discover(&roots, &opts.discover)?;
    let discover_time = started.elapsed();
    let files_started = Instant::now();
    let work = plan_work(candidates);
    let run = || -> Vec<FileResult> {
        work.par_iter()
            .map(|w| match w {
                Work::File(c) => scan_file_guarded(rules, c, opts),
                Work::Module(dir, files) => scan_module_guarded(rules, dir, files, opts),
            })
            .collect()
    };
    let results = match opts.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| format!("cannot start {n} worker threads: {e}"))?
            .install(run),
        None => run(),
    };
    let mut out = ScanResult {
        notices,
        ..ScanResult::default()
    };
    out.timings.discover = discover_time;
    out.timings.files_wall = files_started.elapsed();
    out.findings
        .reserve_exact(results.iter().map(|r| r.findings.len()).sum::<usize>() + 16);
    let mut tally = Tally {
        evaluations: vec![eval::Judged::default(); rules.rules.len()],
        profile: vec![RuleProfile::default(); rules.rules.len()],
    };
    for r in results {
        merge(&mut out, &mut tally, r);
    }
    if rules.has_kind(Kind::Repository) {
        let excludes = discover::exclude_set(&opts.discover.excludes)?;
        for root in roots.iter().filter(|r| {
            doc::repository::is_repository_root(r) || (opts.assume_repository && r.is_dir())
        }) {
            let shown = |rel: &str| opts.discover.display(&root.join(rel));
            if let Some(repo) = doc::repository::document(root, &excludes, &shown) {
                let facts = repo.root.as_map().cloned();
                let anchor = repo.files.first().cloned().unwrap_or_default();
                let outcome = eval::evaluate(rules, &repo, &anchor, facts.as_ref());
                let mut r = FileResult {
                    kinds: vec![Kind::Repository],
                    ..FileResult::default()
                };
                r.absorb(outcome);
                // Suppressions in the files the facts point into (README, CODEOWNERS, settings…).
                let directives: Vec<suppress::Directive> = repo
                    .files
                    .iter()
                    .filter(|f| r.findings.iter().any(|x| &x.path == *f))
                    .filter_map(|f| std::fs::read_to_string(f).ok().map(|t| (f, t)))
                    .flat_map(|(f, t)| suppress::directives(f, &t))
                    .collect();
                apply_directives(&mut r, &directives, opts, rules);
                let root_display = opts.discover.display(root);
                out.repository_level.extend(crate::repo_scope::root_level(
                    &repo,
                    &root_display,
                    &r.findings,
                ));
                merge(&mut out, &mut tally, r);
            }
        }
    }
    let Tally {
        evaluations,
        mut profile,
    } = tally;
    if rules.profile {
        for (p, r) in profile.iter_mut().zip(&rules.rules) {
            p.rule_id = r.id.clone();
        }
        profile.retain(|p| p.runs > 0);
        profile.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.rule_id.cmp(&b.rule_id)));
        out.rule_profile = profile;
    }
    out.rule_stats = rules
        .rules
        .iter()
        .zip(evaluations)
        .filter(|(_, n)| n.documents > 0)
        .map(|(r, n)| (r.id.clone(), n))
        .collect();
    finding::finalize(&mut out.findings);
    out.rule_errors.sort_by(|a, b| {
        (&a.path, a.line, &a.rule_id, &a.message).cmp(&(&b.path, b.line, &b.rule_id, &b.message))
    });
    out.notices.sort();
    Ok(out)
}

/// Per-rule counts gathered from every file.
struct Tally {
    /// What each rule judged, by rule index.
    evaluations: Vec<eval::Judged>,
    /// Time and elements, by rule index (with `RuleSet::profile`).
    profile: Vec<RuleProfile>,
}

/// Adds one file's (or module's, or repository's) results to the scan.
fn merge(out: &mut ScanResult, tally: &mut Tally, r: FileResult) {
    out.timings.rule_runs += r.evaluated.len();
    out.timings.rule_runs_gated += r.gated;
    for (i, judged) in r.evaluated {
        tally.evaluations[i].add(&judged);
    }
    for (i, time, elements) in r.profile {
        let p = &mut tally.profile[i];
        p.runs += 1;
        p.elements += elements;
        p.time += time;
    }
    out.findings.extend(r.findings);
    out.rule_errors.extend(r.errors);
    out.notices.extend(r.notices);
    out.files_scanned += if r.files > 0 {
        r.files
    } else {
        usize::from(r.scanned)
    };
    for k in r.kinds {
        *out.documents_by_kind.entry(k).or_default() += 1;
    }
    out.unused_suppressions += r.unused_suppressions;
    out.timings.parse += r.parse;
    out.timings.evaluate += r.evaluate;
}

impl FileResult {
    /// Takes in what evaluating one document produced.
    fn absorb(&mut self, outcome: eval::Outcome) {
        self.findings.extend(outcome.findings);
        self.errors.extend(outcome.errors);
        self.evaluated.extend(outcome.evaluated);
        self.gated += outcome.gated;
        self.profile.extend(outcome.profile);
    }
}

/// One unit of parallel work: a file, or a Terraform module (a directory of `.tf` files).
enum Work {
    File(Candidate),
    Module(PathBuf, Vec<Candidate>),
}

/// Groups `.tf` candidates by directory (one module each); everything else is a file.
fn plan_work(candidates: Vec<Candidate>) -> Vec<Work> {
    let mut modules: BTreeMap<PathBuf, Vec<Candidate>> = BTreeMap::new();
    let mut work = Vec::new();
    for c in candidates {
        if doc::kind::format_of(&c.path) == Some(doc::Format::Hcl) {
            let dir = c
                .path
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            modules.entry(dir).or_default().push(c);
        } else {
            work.push(Work::File(c));
        }
    }
    work.extend(
        modules
            .into_iter()
            .map(|(dir, files)| Work::Module(dir, files)),
    );
    work
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn scan_module_guarded(
    rules: &RuleSet,
    dir: &std::path::Path,
    files: &[Candidate],
    opts: &ScanOptions,
) -> FileResult {
    match catch_unwind(AssertUnwindSafe(|| scan_module(rules, dir, files, opts))) {
        Ok(r) => r,
        Err(panic) => FileResult {
            notices: vec![Notice {
                level: NoticeLevel::Error,
                path: opts.discover.display(dir),
                message: format!(
                    "internal error while scanning this Terraform module: {} (please report it)",
                    panic_text(panic.as_ref())
                ),
            }],
            ..FileResult::default()
        },
    }
}

fn scan_module(
    rules: &RuleSet,
    dir: &std::path::Path,
    files: &[Candidate],
    opts: &ScanOptions,
) -> FileResult {
    let mut r = FileResult::default();
    let t = Instant::now();
    let shown = |p: &std::path::Path| opts.discover.display(p);
    let (document, texts, error) = doc::parse_terraform_module(dir, &shown);
    r.parse = t.elapsed();
    r.scanned = true;
    r.files = texts.len().max(files.len());
    if let Some(e) = error {
        r.findings.push(builtin_finding(
            &PARSE_ERROR,
            &e.path,
            e.pos,
            e.pos,
            format!("cannot parse: {}", e.message),
            "",
        ));
    }
    if let Some(d) = document {
        let t = Instant::now();
        r.kinds.push(d.kind);
        let path = d.files.first().cloned().unwrap_or_else(|| shown(dir));
        r.absorb(eval::evaluate(rules, &d, &path, None));
        r.evaluate = t.elapsed();
    }
    let directives: Vec<suppress::Directive> = texts
        .iter()
        .flat_map(|(path, text)| suppress::directives(path, text))
        .collect();
    apply_directives(&mut r, &directives, opts, rules);
    r
}

fn apply_directives(
    r: &mut FileResult,
    directives: &[suppress::Directive],
    opts: &ScanOptions,
    rules: &RuleSet,
) {
    if directives.is_empty() {
        return;
    }
    let today = opts.today.unwrap_or_else(crate::config::today);
    let applied = suppress::apply_inline(
        &mut r.findings,
        directives,
        today,
        opts.report_unused_suppressions,
        rules,
    );
    r.findings.extend(applied.findings);
    r.unused_suppressions += applied.unused;
}

fn scan_file_guarded(rules: &RuleSet, c: &Candidate, opts: &ScanOptions) -> FileResult {
    match catch_unwind(AssertUnwindSafe(|| scan_file(rules, c, opts))) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic_text(panic.as_ref());
            FileResult {
                notices: vec![Notice {
                    level: NoticeLevel::Error,
                    path: c.display.clone(),
                    message: format!(
                        "internal error while scanning this file: {what} (please report it)"
                    ),
                }],
                scanned: true,
                ..FileResult::default()
            }
        }
    }
}

/// A finding of one of isms-lint's own checks.
pub fn builtin_finding(
    check: &BuiltinCheck,
    path: &str,
    start: Pos,
    end: Pos,
    message: String,
    logical: &str,
) -> Finding {
    Finding {
        rule_id: check.id.to_string(),
        severity: check.severity,
        controls: check.controls.iter().map(|c| c.0.to_string()).collect(),
        message,
        path: path.to_string(),
        start,
        end,
        logical_path: logical.to_string(),
        fingerprint: fingerprint(check.id, path, logical),
        element_line: start.line,
        unknown: false,
        suppression: None,
    }
}

fn scan_file(rules: &RuleSet, c: &Candidate, opts: &ScanOptions) -> FileResult {
    let mut r = FileResult {
        scanned: true,
        ..FileResult::default()
    };
    let t = Instant::now();
    let bytes = match std::fs::read(&c.path) {
        Ok(b) => b,
        Err(e) => {
            r.notices.push(Notice {
                level: NoticeLevel::Error,
                path: c.display.clone(),
                message: format!("cannot read: {e}"),
            });
            return r;
        }
    };
    if bytes[..bytes.len().min(8192)].contains(&0) {
        r.notices.push(Notice {
            level: NoticeLevel::Note,
            path: c.display.clone(),
            message: "binary file (contains NUL bytes); skipped".into(),
        });
        r.scanned = false;
        return r;
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
            let (line, col) = crate::diagnostic::line_col(&prefix, prefix.len());
            let at = Pos::new(line, col);
            r.findings.push(builtin_finding(
                &PARSE_ERROR,
                &c.display,
                at,
                at,
                format!("file is not valid UTF-8 (invalid byte at offset {valid})"),
                "",
            ));
            return r;
        }
    };
    let parsed = doc::parse_file(&c.path, &c.display, &text);
    r.parse = t.elapsed();
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            r.findings.push(builtin_finding(
                &PARSE_ERROR,
                &c.display,
                e.pos,
                e.pos,
                format!("cannot parse: {}", e.message),
                "",
            ));
            return r;
        }
    };
    for w in parsed.warnings {
        // A repeated key has no stable element path of its own; its message names the key.
        let logical = w.message.clone();
        r.findings.push(builtin_finding(
            &DUPLICATE_KEY,
            &w.path,
            w.span.start,
            w.span.end,
            w.message,
            &logical,
        ));
    }
    let t = Instant::now();
    for d in &parsed.documents {
        r.kinds.push(d.kind);
        r.absorb(eval::evaluate(rules, d, &c.display, None));
    }
    r.evaluate = t.elapsed();
    if !c.display.ends_with(".json") {
        let directives = suppress::directives(&c.display, &text);
        apply_directives(&mut r, &directives, opts, rules);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_read_is_an_error_notice_not_an_abort() {
        // The read fails after discovery (the file vanished, or permissions forbid it): the
        // same path a root-owned CI cannot reproduce with chmod.
        let rules = RuleSet::default();
        let gone = Candidate {
            path: PathBuf::from("/nonexistent/isms-lint/vanished.yaml"),
            display: "vanished.yaml".into(),
        };
        let r = scan_file_guarded(&rules, &gone, &ScanOptions::default());
        assert_eq!(r.notices.len(), 1);
        assert_eq!(r.notices[0].level, NoticeLevel::Error);
        assert_eq!(r.notices[0].path, "vanished.yaml");
        assert!(
            r.notices[0].message.starts_with("cannot read:"),
            "{:?}",
            r.notices
        );
        assert!(r.findings.is_empty());
    }
}
