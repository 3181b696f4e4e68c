//! A scan: discover files, then parse and evaluate each one in parallel, catching panics per
//! file, and gather the results in a deterministic order.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::checks::{
    builtin_finding, parse_error_severity, DUPLICATE_KEY, NOT_EVALUATED, PARSE_ERROR,
};
use crate::discover::{self, Candidate, DiscoverOptions, Notice, NoticeLevel, Skipped};
use crate::doc::Pos;
use crate::eval::{self, RuleRunError};
use crate::finding::{self, Finding};
use crate::inputs::{self, Input, Kind, Source, Unit};
use crate::rules::RuleSet;
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
    /// Text read from standard input (`scan -`), scanned besides the paths.
    pub stdin: Option<StdinText>,
    /// Build each root kustomization found and judge its output at the source files
    /// (`--render-kustomize`); the files a rendered tree reads are not read on their own.
    pub render_kustomize: bool,
}

/// What `scan -` read from standard input.
#[derive(Clone, Debug, Default)]
pub struct StdinText {
    /// The text.
    pub text: String,
    /// The path findings are shown at (`--stdin-filename`, default `<stdin>`); its name also
    /// decides the syntax when no kind is given.
    pub display: String,
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
    /// The highest CEL cost of one run (one document), which `--max-cel-cost` limits.
    pub max_cost: u64,
    /// The path of the document of that run.
    pub max_cost_path: String,
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
    /// The counts of files not read (ignored, excluded, of no known kind…).
    pub skipped: Skipped,
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
    /// The rules evaluated, once per document, with what they judged (until summed into the
    /// scan's counts, [`FileResult::sum_evaluated`]).
    evaluated: Vec<(usize, eval::Judged)>,
    /// Rule runs already summed into the scan's counts.
    rule_runs: usize,
    gated: usize,
    profile: Vec<eval::RuleRun>,
    /// The display path of the file, for the costliest run of each rule (with `profile`).
    path: String,
    unused_suppressions: usize,
    parse: Duration,
    evaluate: Duration,
    scanned: bool,
    files: usize,
    /// Findings about the repository as a whole: fingerprint → the root's display path.
    repository_level: BTreeMap<String, String>,
    /// Whether the findings are of a rendered kustomization (repeats across overlays are
    /// merged).
    rendered: bool,
    /// The inline suppressions of a rendered kustomization's files, applied once to the
    /// merged findings of every rendered kustomization (so a directive in a base used by two
    /// overlays is counted once).
    directives: Vec<suppress::Directive>,
}

/// Why a scan could not run (a file that cannot be read or parsed is not an error: it is a
/// finding, and the scan goes on).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The scan roots or excludes are unusable.
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    /// The worker pool could not start.
    #[error("cannot start {jobs} worker threads: {source}")]
    Threads {
        /// Threads asked for.
        jobs: usize,
        /// rayon's reason.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}

/// Runs a scan with `rules`.
pub fn scan(rules: &RuleSet, opts: &ScanOptions) -> Result<ScanResult, ScanError> {
    let started = Instant::now();
    let roots = if opts.paths.is_empty() && opts.stdin.is_none() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let discover::Discovered {
        files: mut candidates,
        mut notices,
        skipped,
    } = discover::discover(&roots, &opts.discover)?;
    let discover_time = started.elapsed();
    let files_started = Instant::now();
    let mut left_out = opts.discover.excludes.clone();
    left_out.extend(opts.discover.own_output.iter().cloned());
    let excludes = discover::exclude_set(&left_out)?;
    let pool = match opts.jobs {
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|source| ScanError::Threads { jobs: n, source })?,
        ),
        None => None,
    };
    let rendered = if opts.render_kustomize {
        render_kustomizations(pool.as_ref(), &mut candidates, &mut notices)
    } else {
        Vec::new()
    };
    let mut work = plan_work(rules, candidates, &roots, opts);
    work.extend(rendered);
    // What each rule judged is summed as files finish: a file's result keeps only its count
    // of rule runs, not one record per run (1.3 million of them on the benchmark corpus).
    let judged = std::sync::Mutex::new(vec![eval::Judged::default(); rules.rules.len()]);
    let run = || -> Vec<FileResult> {
        work.par_iter()
            .map(|w| {
                let mut r = scan_unit_guarded(rules, w, opts, &excludes);
                r.sum_evaluated(&judged);
                r
            })
            .collect()
    };
    let results = match &pool {
        Some(pool) => pool.install(run),
        None => run(),
    };
    let mut out = ScanResult {
        notices,
        skipped,
        ..ScanResult::default()
    };
    out.timings.discover = discover_time;
    out.timings.files_wall = files_started.elapsed();
    out.findings
        .reserve_exact(results.iter().map(|r| r.findings.len()).sum::<usize>() + 16);
    let mut tally = Tally {
        evaluations: judged
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        profile: vec![RuleProfile::default(); rules.rules.len()],
    };
    let mut rendered_findings = Vec::new();
    let mut rendered_directives = Vec::new();
    for mut r in results {
        if r.rendered {
            rendered_findings.append(&mut r.findings);
            rendered_directives.append(&mut r.directives);
        }
        merge(&mut out, &mut tally, r);
    }
    if !rendered_findings.is_empty() || !rendered_directives.is_empty() {
        let mut rendered = FileResult {
            findings: finding::merge_rendered_repeats(rendered_findings),
            ..FileResult::default()
        };
        rendered_directives.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
        rendered_directives.dedup();
        apply_directives(&mut rendered, &rendered_directives, opts, rules);
        out.findings.append(&mut rendered.findings);
        out.unused_suppressions += rendered.unused_suppressions;
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
    finding::drop_module_repeats(&mut out.findings);
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
    out.timings.rule_runs += r.rule_runs + r.evaluated.len();
    out.timings.rule_runs_gated += r.gated;
    for (i, judged) in r.evaluated {
        tally.evaluations[i].add(&judged);
    }
    for run in r.profile {
        let p = &mut tally.profile[run.rule];
        p.runs += 1;
        p.elements += run.elements;
        p.time += run.time;
        // Ties keep the first path in sort order, whatever the order files finished in.
        if run.cost > p.max_cost || (run.cost == p.max_cost && r.path < p.max_cost_path) {
            p.max_cost = run.cost;
            p.max_cost_path.clone_from(&r.path);
        }
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
    out.repository_level.extend(r.repository_level);
    out.timings.parse += r.parse;
    out.timings.evaluate += r.evaluate;
}

impl FileResult {
    /// Adds what the rules judged to the scan's counts (by rule index) and keeps only how many
    /// rule runs there were.
    fn sum_evaluated(&mut self, counts: &std::sync::Mutex<Vec<eval::Judged>>) {
        if self.evaluated.is_empty() {
            return;
        }
        self.rule_runs += self.evaluated.len();
        let mut counts = counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, judged) in std::mem::take(&mut self.evaluated) {
            counts[i].add(&judged);
        }
    }

    /// Takes in what evaluating one document produced.
    fn absorb(&mut self, outcome: eval::Outcome) {
        self.findings.extend(outcome.findings);
        self.errors.extend(outcome.errors);
        self.evaluated.extend(outcome.evaluated);
        self.gated += outcome.gated;
        self.profile.extend(outcome.profile);
    }
}

/// One unit of parallel work: a file, or a directory an input reads as a whole (a Terraform
/// module, the repository at a scan root).
struct Work {
    /// The input that reads it.
    input: &'static dyn Input,
    /// A file, or a directory with the discovered files that belong to it.
    unit: WorkUnit,
}

enum WorkUnit {
    File(Candidate),
    Directory(PathBuf, Vec<Candidate>),
    /// Standard input.
    Stdin,
    /// A root kustomization, built, with the number of discovered files counted with it.
    Rendered(Box<inputs::kustomize::render::Built>, usize),
}

/// Builds the root kustomizations among the candidates (`--render-kustomize`), takes the files
/// of every rendered tree out of the candidates (they are judged through the output), and
/// returns one unit of work per root.
fn render_kustomizations(
    pool: Option<&rayon::ThreadPool>,
    candidates: &mut Vec<Candidate>,
    notices: &mut Vec<Notice>,
) -> Vec<Work> {
    use inputs::kustomize::{normalise, render, tree};
    let mut files: Vec<PathBuf> = candidates
        .iter()
        .filter(|c| tree::is_kustomization_file(&c.path))
        .map(|c| c.path.clone())
        .collect();
    // `Kustomization` has no YAML extension, so discovery does not list it: it is looked for
    // beside the files discovery found.
    let dirs: std::collections::BTreeSet<&std::path::Path> =
        candidates.iter().filter_map(|c| c.path.parent()).collect();
    files.extend(
        dirs.into_iter()
            .map(|d| d.join("Kustomization"))
            .filter(|p| p.is_file()),
    );
    if files.is_empty() {
        return Vec::new();
    }
    let builds = match pool {
        Some(p) => p.install(|| render::build_all(&files)),
        None => render::build_all(&files),
    };
    if let Some(message) = &builds.warning {
        notices.push(Notice {
            level: NoticeLevel::Warning,
            path: "--render-kustomize".into(),
            message: message.clone(),
        });
    }
    let rendered = builds.rendered_files();
    let mut taken: Vec<PathBuf> = Vec::new();
    candidates.retain(|c| {
        let p = normalise(&c.path);
        let keep = !rendered.contains(&p);
        if !keep {
            taken.push(p);
        }
        keep
    });
    let mut counted = std::collections::HashSet::new();
    builds
        .built
        .into_iter()
        .map(|b| {
            let n = b
                .tree
                .members
                .iter()
                .filter(|m| taken.contains(m) && counted.insert((*m).clone()))
                .count();
            Work {
                input: &inputs::kubernetes::INPUT,
                unit: WorkUnit::Rendered(Box::new(b), n),
            }
        })
        .collect()
}

/// Groups the candidates into the units their inputs read them in, in path order, then adds
/// the scan roots that an input reads as a whole (when some rule judges its kinds).
fn plan_work(
    rules: &RuleSet,
    candidates: Vec<Candidate>,
    roots: &[PathBuf],
    opts: &ScanOptions,
) -> Vec<Work> {
    let mut dirs: BTreeMap<(PathBuf, &'static str), (&'static dyn Input, Vec<Candidate>)> =
        BTreeMap::new();
    let mut work = Vec::new();
    if opts.stdin.is_some() {
        work.push(Work {
            input: &inputs::yaml_json::INPUT,
            unit: WorkUnit::Stdin,
        });
    }
    for c in candidates {
        if let Some(kind) = c.kind {
            work.push(Work {
                input: kind.input(),
                unit: WorkUnit::File(c),
            });
            continue;
        }
        match inputs::claim(&c.path) {
            Some((input, Unit::File)) => work.push(Work {
                input,
                unit: WorkUnit::File(c),
            }),
            Some((input, Unit::Directory(dir))) => dirs
                .entry((dir, input.name()))
                .or_insert_with(|| (input, Vec::new()))
                .1
                .push(c),
            None => {}
        }
    }
    work.extend(dirs.into_iter().map(|((dir, _), (input, files))| Work {
        input,
        unit: WorkUnit::Directory(dir, files),
    }));
    for root in roots.iter().filter(|r| r.is_dir()) {
        let mut claimed = inputs::root_claims(root);
        if opts.assume_repository
            && !claimed
                .iter()
                .any(|i| i.name() == inputs::repository::INPUT.name())
        {
            claimed.push(&inputs::repository::INPUT);
        }
        for input in claimed {
            if input.kinds().iter().any(|k| rules.has_kind(*k)) {
                work.push(Work {
                    input,
                    unit: WorkUnit::Directory(root.clone(), Vec::new()),
                });
            }
        }
    }
    work
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Scans one unit; a panic becomes an error notice about that unit, never an abort.
fn scan_unit_guarded(
    rules: &RuleSet,
    w: &Work,
    opts: &ScanOptions,
    excludes: &globset::GlobSet,
) -> FileResult {
    match catch_unwind(AssertUnwindSafe(|| scan_unit(rules, w, opts, excludes))) {
        Ok(r) => r,
        Err(panic) => {
            let (path, what) = match &w.unit {
                WorkUnit::File(c) => (c.display.clone(), "file"),
                WorkUnit::Stdin => (stdin_display(opts), "input"),
                WorkUnit::Directory(dir, _) => (opts.discover.display(dir), w.input.name()),
                WorkUnit::Rendered(b, _) => (opts.discover.display(&b.tree.file), "kustomization"),
            };
            FileResult {
                notices: vec![Notice {
                    level: NoticeLevel::Error,
                    path,
                    message: format!(
                        "internal error while scanning this {what}: {} (please report it)",
                        panic_text(panic.as_ref())
                    ),
                }],
                scanned: matches!(w.unit, WorkUnit::File(_) | WorkUnit::Stdin),
                ..FileResult::default()
            }
        }
    }
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

/// The text of a file, or why it is not read: unreadable (an error notice), binary (a note),
/// or not UTF-8 (a `parse-error` finding at the first bad byte).
fn file_text(c: &Candidate, r: &mut FileResult) -> Option<String> {
    let bytes = match std::fs::read(&c.path) {
        Ok(b) => b,
        Err(e) => {
            r.notices.push(Notice {
                level: NoticeLevel::Error,
                path: c.display.clone(),
                message: format!("cannot read: {e}"),
            });
            return None;
        }
    };
    if bytes[..bytes.len().min(8192)].contains(&0) {
        r.notices.push(Notice {
            level: NoticeLevel::Note,
            path: c.display.clone(),
            message: "binary file (contains NUL bytes); skipped".into(),
        });
        r.scanned = false;
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(t) => Some(t),
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
            None
        }
    }
}

/// Reads a unit with its input, evaluates its documents, and applies the inline suppressions
/// of the files it read (and of files the findings point into, for directory units).
fn scan_unit(
    rules: &RuleSet,
    w: &Work,
    opts: &ScanOptions,
    excludes: &globset::GlobSet,
) -> FileResult {
    let mut r = FileResult {
        scanned: true,
        ..FileResult::default()
    };
    let t = Instant::now();
    let shown = |p: &std::path::Path| opts.discover.display(p);
    let mut disk_path: Option<&std::path::Path> = None;
    let (read, unit_path) = match &w.unit {
        WorkUnit::File(c) => {
            let Some(text) = file_text(c, &mut r) else {
                return r;
            };
            let read = match c.kind {
                Some(kind) => inputs::read_as(kind, &c.path, &c.display, &text),
                None => w.input.read(&Source::File {
                    path: &c.path,
                    display: &c.display,
                    text: &text,
                }),
            };
            r.files = 1;
            disk_path = Some(&c.path);
            (read, c.display.clone())
        }
        WorkUnit::Stdin => {
            let display = stdin_display(opts);
            let text = opts.stdin.as_ref().map_or("", |s| s.text.as_str());
            let path = std::path::Path::new(&display);
            let read = match opts.discover.kind {
                Some(kind) => inputs::read_as(kind, path, &display, text),
                None => match inputs::claim(path) {
                    Some((input, Unit::File)) => input.read(&Source::File {
                        path,
                        display: &display,
                        text,
                    }),
                    _ => inputs::yaml_json::read_as(path, &display, text, None),
                },
            };
            r.files = 1;
            (read, display)
        }
        WorkUnit::Directory(dir, files) => {
            let read = w.input.read(&Source::Directory {
                path: dir,
                display: &shown,
                excludes,
            });
            // A directory unit of discovered files counts them; a root unit counts none.
            r.files = if files.is_empty() {
                0
            } else {
                read.sources.len().max(files.len())
            };
            r.scanned = !files.is_empty();
            (read, shown(dir))
        }
        WorkUnit::Rendered(built, files) => {
            let read = inputs::kustomize::render::read(built, &shown);
            r.files = *files;
            r.scanned = *files > 0;
            r.rendered = true;
            (read, shown(&built.tree.file))
        }
    };
    r.parse = t.elapsed();
    if rules.profile {
        r.path.clone_from(&unit_path);
    }
    for e in &read.errors {
        let mut f = builtin_finding(
            &PARSE_ERROR,
            &e.path,
            e.pos,
            e.pos,
            format!("cannot parse: {}", e.message),
            "",
        );
        f.severity = parse_error_severity(e.detected);
        r.findings.push(f);
    }
    for w in read.warnings {
        // A repeated key has no stable element path of its own; its message names the key.
        let logical = w.message.clone();
        r.findings.push(builtin_finding(
            &DUPLICATE_KEY,
            &w.path,
            w.start,
            w.end,
            w.message,
            &logical,
        ));
    }
    for n in read.not_evaluated {
        // Not a violation: what the part holds could not be judged.
        let logical = n.what;
        let mut f = builtin_finding(&NOT_EVALUATED, &n.path, n.start, n.end, n.message, &logical);
        f.unknown = true;
        f.related = n.via;
        r.findings.push(f);
    }
    let t = Instant::now();
    for d in &read.documents {
        r.kinds.push(d.kind);
        let path = d
            .files
            .first()
            .cloned()
            .unwrap_or_else(|| unit_path.clone());
        let facts = w.input.repo_facts().then(|| d.root.as_map()).flatten();
        let partial = disk_path.is_some_and(|p| d.kind.input().partial(p, &d.root).is_some());
        let mut outcome = eval::evaluate_with(rules, d, &path, facts, partial);
        if !d.via.is_empty() {
            for f in &mut outcome.findings {
                f.related.clone_from(&d.via);
            }
        }
        r.absorb(outcome);
    }
    r.evaluate = t.elapsed();
    let mut directives: Vec<suppress::Directive> = read
        .sources
        .iter()
        .filter(|s| s.comments)
        .flat_map(|s| suppress::directives(&s.path, &s.text))
        .collect();
    // Findings in files the unit did not read as text (the README, CODEOWNERS or settings a
    // repository fact points into): their suppressions are read where the finding is.
    let mut extra: Vec<&str> = r
        .findings
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| !read.sources.iter().any(|s| s.path == *p))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    for p in extra {
        if let Ok(text) = std::fs::read_to_string(p) {
            directives.extend(suppress::directives(p, &text));
        }
    }
    if r.rendered {
        r.directives = directives;
    } else {
        apply_directives(&mut r, &directives, opts, rules);
    }
    if w.input.repo_facts() {
        for d in &read.documents {
            r.repository_level
                .extend(crate::repo_scope::root_level(d, &unit_path, &r.findings));
        }
    }
    if matches!(w.unit, WorkUnit::Stdin)
        && let Some(stdin) = &opts.stdin
    {
        map_rendered(&mut r.findings, &stdin.text, &unit_path);
    }
    r
}

/// The path standard input is shown at.
fn stdin_display(opts: &ScanOptions) -> String {
    opts.stdin
        .as_ref()
        .map(|s| s.display.clone())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "<stdin>".to_string())
}

/// Moves the findings on rendered Helm output (`helm template … | isms-lint scan -`) to the
/// templates named by its `# Source:` comments: the path becomes the template's, the line the
/// line within the rendered document (1 = the line after the comment). Rendered lines do not
/// match template lines one to one, so the line is where to look in `helm template`'s output
/// for that template, not in the template itself.
fn map_rendered(findings: &mut [Finding], text: &str, shown: &str) {
    let sources = inputs::helm::rendered_sources(text);
    if sources.is_empty() {
        return;
    }
    for f in findings.iter_mut().filter(|f| f.path == shown) {
        let Some((from, to, path)) = sources
            .iter()
            .find(|(from, to, _)| f.start.line > *from && f.start.line <= *to)
        else {
            continue;
        };
        let shift = |line: u32| line.clamp(from + 1, (*to).max(from + 1)) - from;
        f.path = path.clone();
        f.start.line -= from;
        f.end.line = shift(f.end.line);
        f.element_line = shift(f.element_line);
        f.fingerprint = finding::fingerprint(&f.rule_id, &f.path, &f.logical_path);
    }
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
            kind: None,
        };
        let w = Work {
            input: &inputs::yaml_json::INPUT,
            unit: WorkUnit::File(gone),
        };
        let r = scan_unit_guarded(
            &rules,
            &w,
            &ScanOptions::default(),
            &globset::GlobSet::empty(),
        );
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
