//! A scan as the commands mean it: config found and applied, rules loaded, files scanned,
//! waivers applied, then the baseline or the merge-base's findings taken away.

use std::path::{Path, PathBuf};

use crate::baseline;
use crate::catalog;
use crate::config::{self, LoadedConfig};
use crate::diagnostic::FileDiagnostic;
use crate::discover::DiscoverOptions;
use crate::git;
use crate::rules::RuleSet;
use crate::scan::{self, ScanOptions, ScanResult};
use crate::suppress;

/// Everything that shapes a scan.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Files and directories (default `.`).
    pub paths: Vec<PathBuf>,
    /// Rules to load.
    pub selection: crate::rules::RuleSources,
    /// Config file; found upwards from the first path when `None`.
    pub config: Option<PathBuf>,
    /// Do not look for a config file.
    pub no_config: bool,
    /// Extra excludes.
    pub excludes: Vec<String>,
    /// Largest file read.
    pub max_file_size: u64,
    /// The CEL cost budget of one rule on one document (`--max-cel-cost`); `None` takes the
    /// config's `max-cel-cost`, else [`crate::eval::DEFAULT_MAX_CEL_COST`].
    pub max_cel_cost: Option<u64>,
    /// Which evaluator runs the rules' CEL (the compiled programs, unless testing them
    /// against the interpreter).
    pub cel_engine: crate::rules::Engine,
    /// Worker threads.
    pub jobs: Option<usize>,
    /// Report only findings not in this baseline file.
    pub baseline: Option<PathBuf>,
    /// Report only findings absent at the merge-base of this ref.
    pub new_since: Option<String>,
    /// Report valid suppressions and waivers that match nothing.
    pub report_unused_suppressions: bool,
    /// Measure each rule's evaluation time (`--timings`).
    pub profile_rules: bool,
    /// Read files the ignore files leave out (`--no-ignore`).
    pub no_ignore: bool,
    /// Read every file (and standard input) as this kind (`--kind`).
    pub kind: Option<crate::inputs::Kind>,
    /// Standard input's text and display path (`scan -`).
    pub stdin: Option<scan::StdinText>,
    /// Globs of isms-lint's own output, never scanned nor counted as skipped.
    pub own_output: Vec<String>,
    /// Rule profiles to run besides `default` (`--profile`); `None` takes the config's.
    pub profiles: Option<Vec<String>>,
    /// Build kustomizations and judge their output at the source files (`--render-kustomize`).
    pub render_kustomize: bool,
}

/// The outcome.
pub struct Run {
    /// The rules that ran.
    pub rules: RuleSet,
    /// Rule, config and usage errors (exit 2).
    pub errors: Vec<FileDiagnostic>,
    /// The scan, with waivers applied and known findings removed.
    pub result: ScanResult,
    /// The configuration used.
    pub config: LoadedConfig,
    /// Findings removed because the baseline knew them.
    pub baseline_known: usize,
    /// The findings `--baseline` and `--new-since` removed, for reports of every finding
    /// (`--also-all`).
    pub known: Vec<crate::finding::Finding>,
    /// Findings removed because the merge-base already had them.
    pub preexisting: usize,
    /// The merge-base commit, with `--new-since`.
    pub base_commit: Option<String>,
}

fn usage_error(what: &str, message: String) -> FileDiagnostic {
    FileDiagnostic::at_offset(what, "", 0, 0, message)
}

/// Why a run stopped before it scanned anything.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The config file has errors (unknown keys, bad values, unknown rule or control ids):
    /// nothing was scanned, since a config half-applied would give wrong evidence.
    #[error("{}", config_summary(.0))]
    Config(Vec<FileDiagnostic>),
    /// The scan could not start: unreadable roots, bad excludes, threads.
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    /// `--new-since` could not find or scan the base commit.
    #[error("{0}")]
    NewSince(String),
}

fn config_summary(errors: &[FileDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.short())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads the config (explicit, found, or none); its errors stop the run.
pub fn load_config(opts: &RunOptions) -> Result<LoadedConfig, Vec<FileDiagnostic>> {
    if opts.no_config {
        return Ok(LoadedConfig::default());
    }
    let path = match &opts.config {
        Some(p) => Some(p.clone()),
        None => {
            let start = opts
                .paths
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            config::find(&start)
        }
    };
    let Some(path) = path else {
        return Ok(LoadedConfig {
            dir: PathBuf::from("."),
            ..LoadedConfig::default()
        });
    };
    config::load(&path)
}

fn relative_dir(dir: &Path, p: &str) -> PathBuf {
    let joined = dir.join(p);
    let cwd = std::env::current_dir().unwrap_or_default();
    joined
        .strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or(joined)
}

/// Applies the config's rule switches and severity overrides.
fn apply_rule_config(rules: &mut RuleSet, cfg: &LoadedConfig, errors: &mut Vec<FileDiagnostic>) {
    let display = cfg
        .path
        .as_deref()
        .map(crate::paths::display)
        .unwrap_or_default();
    let c = &cfg.config;
    for id in c.disable.iter().chain(c.severity.keys()) {
        if !crate::checks::is_known(rules, id) && catalog::find(id).is_none() {
            let offset = cfg.text.find(id.as_str()).unwrap_or(0);
            let known = crate::checks::known_ids(rules)
                .chain(catalog::controls().iter().map(|c| c.id.as_str()));
            let mut d = FileDiagnostic::at_offset(
                &display,
                &cfg.text,
                offset,
                id.len(),
                format!("'{id}' is neither a loaded rule nor an Annex A control"),
            );
            if let Some(s) = crate::suggest::closest(id, known) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            errors.push(d);
        }
    }
    for id in c.waivers.iter().filter_map(|w| w.rule.as_deref()) {
        if !crate::checks::is_known(rules, id) {
            let offset = cfg.text.find(id).unwrap_or(0);
            let mut d = FileDiagnostic::at_offset(
                &display,
                &cfg.text,
                offset,
                id.len(),
                format!("the waiver names rule '{id}', which is not a loaded rule"),
            );
            if let Some(s) = crate::suggest::closest(id, crate::checks::known_ids(rules)) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            errors.push(d);
        }
    }
    if !c.disable.is_empty() {
        rules.retain(|r| {
            !c.disable
                .iter()
                .any(|d| *d == r.id || r.controls.iter().any(|x| x.id == catalog::normalize_id(d)))
        });
    }
    for r in &mut rules.rules {
        if let Some(s) = c.severity.get(&r.id) {
            r.severity = *s;
        }
    }
}

/// Runs the whole pipeline. Config errors stop it before any file is read.
pub fn run(opts: &RunOptions) -> Result<Run, RunError> {
    let config = load_config(opts).map_err(RunError::Config)?;
    let mut selection = opts.selection.clone();
    for dir in &config.config.rules {
        selection.rules.push(relative_dir(&config.dir, dir));
    }
    let (mut rules, mut errors) = crate::checks::load_selected(&selection);
    let mut config_errors = Vec::new();
    apply_rule_config(&mut rules, &config, &mut config_errors);
    let profiles = opts.profiles.as_ref().unwrap_or(&config.config.profiles);
    match crate::rules::profile::Selected::parse(profiles) {
        Ok(selected) => rules.select_profiles(&selected, &selection.only),
        Err(e) => config_errors.push(usage_error("--profile", e)),
    }
    if !config_errors.is_empty() {
        return Err(RunError::Config(config_errors));
    }
    rules.profile = opts.profile_rules;
    rules.max_cel_cost = opts
        .max_cel_cost
        .or(config.config.max_cel_cost)
        .unwrap_or(crate::eval::DEFAULT_MAX_CEL_COST);
    rules.engine = opts.cel_engine;
    let mut excludes = opts.excludes.clone();
    excludes.extend(config.config.exclude.iter().cloned());
    let today = config::today();
    let scan_opts = ScanOptions {
        paths: opts.paths.clone(),
        discover: DiscoverOptions {
            excludes,
            max_file_size: if opts.max_file_size == 0 {
                crate::discover::DEFAULT_MAX_FILE_SIZE
            } else {
                opts.max_file_size
            },
            display_as: None,
            no_ignore: opts.no_ignore,
            kinds: config
                .config
                .kinds
                .iter()
                .filter_map(|(glob, kind)| Some((glob.clone(), kind.parse().ok()?)))
                .collect(),
            kind: opts.kind,
            own_output: opts.own_output.clone(),
        },
        jobs: opts.jobs,
        today: Some(today),
        report_unused_suppressions: opts.report_unused_suppressions,
        assume_repository: false,
        stdin: opts.stdin.clone(),
        render_kustomize: opts.render_kustomize,
    };
    // The merge-base first: a wrong ref or repository fails before the long scan.
    let base = match &opts.new_since {
        Some(reference) => {
            Some(merge_base_findings(&rules, &scan_opts, reference).map_err(RunError::NewSince)?)
        }
        None => None,
    };
    let mut result = scan::scan(&rules, &scan_opts)?;
    let scanned = result.findings.len();
    let applied = suppress::apply_waivers(
        &mut result.findings,
        &config,
        today,
        opts.report_unused_suppressions,
    );
    result.unused_suppressions += applied.unused;
    result
        .findings
        .retain(|f| !rules.skipped_builtins.contains(&f.rule_id));
    // The scan left its findings final; only waiver findings (expired, unused) need placing.
    if result.findings.len() != scanned {
        crate::finding::finalize(&mut result.findings);
    }
    let mut baseline_known = 0;
    let mut known = Vec::new();
    if let Some(b) = &opts.baseline {
        match baseline::read(b) {
            Ok(fingerprints) => {
                let removed = baseline::subtract(&mut result.findings, &fingerprints);
                baseline_known = removed.len();
                known.extend(removed);
            }
            Err(e) => errors.push(usage_error("--baseline", e)),
        }
    }
    let mut preexisting = 0;
    let mut base_commit = None;
    if let Some((base_known, commit)) = base {
        let removed = baseline::subtract(&mut result.findings, &base_known);
        preexisting = removed.len();
        known.extend(removed);
        base_commit = Some(commit);
    }
    Ok(Run {
        rules,
        errors,
        result,
        config,
        baseline_known,
        known,
        preexisting,
        base_commit,
    })
}

/// The fingerprints of the findings at the merge-base of `reference`, resolved in the repository
/// that holds the scan roots (not the working directory's), scanned under the same names.
fn merge_base_findings(
    rules: &RuleSet,
    scan_opts: &ScanOptions,
    reference: &str,
) -> Result<(std::collections::BTreeSet<String>, String), String> {
    let scope = git::scope(&scan_opts.paths).map_err(|e| format!("--new-since: {e}"))?;
    let repo = match &scope.tree {
        git::Tree::Repo(repo) => repo,
        git::Tree::Outside { reason, .. } => {
            return Err(format!(
                "--new-since needs a git repository, but {reason}; scan without --new-since"
            ))
        }
    };
    let base = baseline::base_tree(repo, reference)?;
    let roots: Vec<PathBuf> = scope
        .roots
        .iter()
        .map(|r| base.dir.path().join(&r.inside))
        .filter(|p| p.exists())
        .collect();
    let mut known = std::collections::BTreeSet::new();
    if !roots.is_empty() {
        let mut base_opts = scan_opts.clone();
        base_opts.stdin = None;
        base_opts.assume_repository = git::roots_of(&scan_opts.paths)
            .iter()
            .any(|p| !crate::inputs::root_claims(p).is_empty());
        base_opts.paths = roots;
        base_opts.discover.display_as = Some((base.dir.path().to_path_buf(), repo.top.clone()));
        let base_result = scan::scan(rules, &base_opts).map_err(|e| e.to_string())?;
        known.extend(base_result.findings.into_iter().map(|f| f.fingerprint));
    }
    Ok((known, base.commit.clone()))
}

impl Run {
    /// The scan with the findings `--baseline` and `--new-since` removed put back, sorted, and the
    /// fingerprints of those known findings (reports of every finding: `--also-all`).
    pub fn with_known(&self) -> (ScanResult, std::collections::BTreeSet<String>) {
        let r = &self.result;
        let mut findings = r.findings.clone();
        findings.extend(self.known.iter().cloned());
        crate::finding::finalize(&mut findings);
        let known = self.known.iter().map(|f| f.fingerprint.clone()).collect();
        let all = ScanResult {
            findings,
            rule_errors: r.rule_errors.clone(),
            notices: r.notices.clone(),
            files_scanned: r.files_scanned,
            documents_by_kind: r.documents_by_kind.clone(),
            rule_stats: r.rule_stats.clone(),
            unused_suppressions: r.unused_suppressions,
            repository_level: r.repository_level.clone(),
            ..ScanResult::default()
        };
        (all, known)
    }
}
