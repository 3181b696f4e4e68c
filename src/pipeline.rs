//! A scan as the commands mean it: config found and applied, rules loaded, files scanned,
//! waivers applied, then the baseline or the merge-base's findings taken away.

use std::path::{Path, PathBuf};

use crate::baseline;
use crate::catalog;
use crate::cli::RuleSelection;
use crate::commands::load_rules;
use crate::config::{self, LoadedConfig};
use crate::diagnostic::FileDiagnostic;
use crate::discover::DiscoverOptions;
use crate::rules::RuleSet;
use crate::scan::{self, ScanOptions, ScanResult};
use crate::suppress;

/// Everything that shapes a scan.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Files and directories (default `.`).
    pub paths: Vec<PathBuf>,
    /// Rules to load.
    pub selection: RuleSelection,
    /// Config file; found upwards from the first path when `None`.
    pub config: Option<PathBuf>,
    /// Do not look for a config file.
    pub no_config: bool,
    /// Extra excludes.
    pub excludes: Vec<String>,
    /// Largest file read.
    pub max_file_size: u64,
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

/// Loads the config (explicit, found, or none) and reports its errors.
pub fn load_config(opts: &RunOptions, errors: &mut Vec<FileDiagnostic>) -> LoadedConfig {
    if opts.no_config {
        return LoadedConfig::default();
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
        return LoadedConfig {
            dir: PathBuf::from("."),
            ..LoadedConfig::default()
        };
    };
    match config::load(&path) {
        Ok(c) => c,
        Err(mut e) => {
            errors.append(&mut e);
            LoadedConfig::default()
        }
    }
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
        if !rules.is_known(id) && catalog::find(id).is_none() {
            let offset = cfg.text.find(id.as_str()).unwrap_or(0);
            errors.push(FileDiagnostic::at_offset(
                &display,
                &cfg.text,
                offset,
                id.len(),
                format!(
                    "'{id}' is neither a loaded rule nor an Annex A control{}",
                    crate::suggest::hint(id, rules.known_ids())
                ),
            ));
        }
    }
    for id in c.waivers.iter().filter_map(|w| w.rule.as_deref()) {
        if !rules.is_known(id) {
            let offset = cfg.text.find(id).unwrap_or(0);
            errors.push(FileDiagnostic::at_offset(
                &display,
                &cfg.text,
                offset,
                id.len(),
                format!(
                    "the waiver names rule '{id}', which is not a loaded rule{}",
                    crate::suggest::hint(id, rules.known_ids())
                ),
            ));
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

/// Runs the whole pipeline.
pub fn run(opts: &RunOptions) -> Result<Run, String> {
    let mut errors = Vec::new();
    let config = load_config(opts, &mut errors);
    let mut selection = opts.selection.clone();
    for dir in &config.config.rules {
        selection.rules.push(relative_dir(&config.dir, dir));
    }
    let (mut rules, mut load_errors) = load_rules(&selection);
    errors.append(&mut load_errors);
    apply_rule_config(&mut rules, &config, &mut errors);
    rules.profile = opts.profile_rules;
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
            display_root: None,
        },
        jobs: opts.jobs,
        today: Some(today),
        report_unused_suppressions: opts.report_unused_suppressions,
        assume_repository: false,
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
    if let Some(reference) = &opts.new_since {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        let base = baseline::base_tree(&cwd, reference)?;
        let roots: Vec<PathBuf> = if opts.paths.is_empty() {
            vec![base.cwd()]
        } else {
            opts.paths
                .iter()
                .map(|p| base.cwd().join(p))
                .filter(|p| p.exists())
                .collect()
        };
        if !roots.is_empty() {
            let mut base_opts = scan_opts.clone();
            let current: Vec<PathBuf> = if opts.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                opts.paths.clone()
            };
            base_opts.assume_repository = current
                .iter()
                .any(|p| crate::doc::repository::is_repository_root(p));
            base_opts.paths = roots;
            base_opts.discover.display_root = Some(base.cwd());
            let base_result = scan::scan(&rules, &base_opts)?;
            let base_known = base_result
                .findings
                .iter()
                .map(|f| f.fingerprint.clone())
                .collect();
            let removed = baseline::subtract(&mut result.findings, &base_known);
            preexisting = removed.len();
            known.extend(removed);
        }
        base_commit = Some(base.commit.clone());
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
