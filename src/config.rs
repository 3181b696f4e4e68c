//! `.isms-lint.yaml`: excludes, extra rule directories, rule switches and severity overrides,
//! waivers, and the Statement of Applicability decisions. Found by walking up from the scan root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::catalog;
use crate::diagnostic::FileDiagnostic;
use crate::rules::Severity;

/// File names looked for, in order.
pub const FILE_NAMES: [&str; 2] = [".isms-lint.yaml", ".isms-lint.yml"];

/// The configuration file.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "isms-lint configuration (.isms-lint.yaml)")]
pub struct Config {
    /// Glob patterns of paths to leave out of scans, relative to this file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub exclude: Vec<String>,
    /// Files read as a given kind whatever their name: glob (relative to the scan root, like
    /// `exclude`) → kind name (`deploy/*.yaml.txt: kubernetes`, `docker/*.df: dockerfile`).
    /// Kinds: docs/documents.md. Keep patterns disjoint: a file that matches several gets the
    /// kind of the first pattern in alphabetical order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub kinds: BTreeMap<String, String>,
    /// Extra rule directories, relative to this file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<String>,
    /// Rule ids or Annex A control ids whose rules are switched off.
    #[serde(default, deserialize_with = "null_as_default")]
    pub disable: Vec<String>,
    /// Severity overrides by rule id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: BTreeMap<String, Severity>,
    /// Rule profiles to run besides `default`: `strict`, `org`, or `all` (one name or a list;
    /// `profile:` is accepted too). `--profile` on the command line replaces this list.
    #[serde(default, alias = "profile", deserialize_with = "one_or_many")]
    pub profiles: Vec<String>,
    /// The CEL cost budget of one rule on one document (comprehension iterations, calls, string
    /// and list lengths): past it the rule stops on that document with a rule error and the
    /// scan goes on. `--max-cel-cost` replaces it; default 20000000.
    #[schemars(range(min = 1))]
    pub max_cel_cost: Option<u64>,
    /// Accepted risks: findings that do not fail the run but stay visible.
    #[serde(default, deserialize_with = "null_as_default")]
    pub waivers: Vec<Waiver>,
    /// Statement of Applicability decisions, by control id (`"8.11"` or `"A.8.11"`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub controls: BTreeMap<String, ControlDecision>,
}

/// Reads an empty YAML value (`key:` followed only by comments) as the default.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads one name or a list of names (an empty value is none).
fn one_or_many<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// A waiver: an accepted risk for a rule (or every rule of a control) on some paths.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Waiver {
    /// Rule id it waives (or give `control`).
    pub rule: Option<String>,
    /// Annex A control whose rules it waives (or give `rule`).
    pub control: Option<String>,
    /// Globs of paths it covers, relative to this file (default: everything).
    #[serde(default, deserialize_with = "null_as_default")]
    pub paths: Vec<String>,
    /// Why the risk is accepted. Required.
    pub reason: Option<String>,
    /// Who accepted it.
    pub owner: Option<String>,
    /// Last day it holds (`YYYY-MM-DD`); past it, findings come back.
    pub expires: Option<String>,
}

/// The applicability decision for one control.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ControlDecision {
    /// Whether the control applies to the organisation.
    pub applicable: Option<bool>,
    /// Why it is (not) applicable, or how it is implemented.
    pub justification: Option<String>,
    /// Who owns the control.
    pub owner: Option<String>,
    /// Links to manual evidence (policies, tickets, records).
    #[serde(default, deserialize_with = "null_as_default")]
    pub evidence: Vec<String>,
}

/// A configuration read from disk.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// The file, when one was found.
    pub path: Option<PathBuf>,
    /// The directory config paths are relative to.
    pub dir: PathBuf,
    /// Its content.
    pub config: Config,
    /// The file's text (for digests and diagnostics).
    pub text: String,
}

/// Looks for the config file in `start` and its parents, up to the root of the git repository
/// `start` is in (a directory holding `.git`): a config above the repository belongs to
/// something else.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent().unwrap_or(start).to_path_buf()
    } else {
        start.to_path_buf()
    };
    let abs = std::fs::canonicalize(&start).unwrap_or(start);
    for dir in abs.ancestors() {
        if let Some(found) = FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            return Some(found);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Reads and checks a config file. Errors carry the file's line.
pub fn load(path: &Path) -> Result<LoadedConfig, Vec<FileDiagnostic>> {
    let display = crate::paths::display(path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![FileDiagnostic::at_offset(
            &display,
            "",
            0,
            0,
            format!("cannot read config: {e}"),
        )]
    })?;
    let config = parse(&display, &text)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig {
        path: Some(path.to_path_buf()),
        dir,
        config,
        text,
    })
}

/// Parses config text shown as `display`, then checks control ids, dates and reasons.
pub fn parse(display: &str, text: &str) -> Result<Config, Vec<FileDiagnostic>> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let config: Config = serde_saphyr::from_str(text).map_err(|e| {
        let (line, col) = e
            .location()
            .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
        let msg = e.to_string();
        let msg = crate::diagnostic::strip_location(msg.lines().next().unwrap_or("invalid config"));
        let help = match unknown_name_suggestion(&msg) {
            Some(s) => {
                format!("did you mean `{s}`? (see docs/config.md and schemas/config.schema.json)")
            }
            None => "see docs/config.md and schemas/config.schema.json".to_string(),
        };
        vec![FileDiagnostic::at_line_col(display, text, line, col, msg).with_help(help)]
    })?;
    let mut errors = Vec::new();
    let at = |needle: &str, msg: String, errors: &mut Vec<FileDiagnostic>| {
        let offset = text.find(needle).unwrap_or(0);
        errors.push(FileDiagnostic::at_offset(
            display,
            text,
            offset,
            needle.len(),
            msg,
        ));
    };
    for (glob, kind) in &config.kinds {
        if let Err(e) = globset::Glob::new(glob) {
            at(
                glob,
                format!("invalid kinds pattern '{glob}': {e}"),
                &mut errors,
            );
        }
        let ok = kind
            .parse::<crate::inputs::Kind>()
            .is_ok_and(crate::inputs::forcible);
        if !ok {
            let names = crate::inputs::forcible_names();
            let offset = text
                .find(glob.as_str())
                .and_then(|g| text[g..].find(kind.as_str()).map(|k| g + k))
                .unwrap_or(0);
            let mut d = FileDiagnostic::at_offset(
                display,
                text,
                offset,
                kind.len(),
                format!(
                    "unknown kind '{kind}' for '{glob}' (expected one of: {})",
                    names.join(", ")
                ),
            );
            if let Some(s) = crate::suggest::closest(kind, names.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            errors.push(d);
        }
    }
    for name in &config.profiles {
        if let Err(e) = crate::rules::profile::Selected::parse(std::slice::from_ref(name)) {
            at(name, e, &mut errors);
        }
    }
    if config.max_cel_cost == Some(0) {
        at(
            "max-cel-cost",
            "max-cel-cost must be at least 1 (0 would stop every rule)".into(),
            &mut errors,
        );
    }
    for id in config.controls.keys() {
        if catalog::find(id).is_none() {
            at(id, format!("unknown Annex A control '{id}'"), &mut errors);
        }
    }
    for w in &config.waivers {
        let what = w.rule.clone().or(w.control.clone()).unwrap_or_default();
        if w.rule.is_none() && w.control.is_none() {
            at(
                "waivers",
                "a waiver needs 'rule' or 'control'".into(),
                &mut errors,
            );
        }
        if let Some(c) = &w.control
            && catalog::find(c).is_none()
        {
            at(
                c,
                format!("unknown Annex A control '{c}' in a waiver"),
                &mut errors,
            );
        }
        if w.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            at(
                &what,
                format!("the waiver for '{what}' has no reason; a waiver must say why the risk is accepted"),
                &mut errors,
            );
        }
        if let Some(d) = &w.expires
            && parse_date(d).is_none()
        {
            at(d, format!("'{d}' is not a date (YYYY-MM-DD)"), &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// For serde's "unknown field `x`, expected one of a, b" (or "unknown variant"; names with or
/// without backticks), the expected name closest to `x`.
fn unknown_name_suggestion(msg: &str) -> Option<String> {
    let rest = msg
        .split_once("unknown field `")
        .or_else(|| msg.split_once("unknown variant `"))?
        .1;
    let (word, expected) = rest.split_once('`')?;
    let expected = expected.split_once("expected")?.1;
    let expected = expected.trim().trim_start_matches("one of").trim();
    let names: Vec<&str> = expected
        .split(',')
        .flat_map(|n| n.split(" or "))
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty())
        .collect();
    crate::suggest::closest(word, names).map(str::to_string)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Today (UTC), or `ISMS_LINT_TODAY` when set (for reproducible evidence and tests).
pub fn today() -> chrono::NaiveDate {
    std::env::var("ISMS_LINT_TODAY")
        .ok()
        .and_then(|d| parse_date(&d))
        .unwrap_or_else(|| chrono::Utc::now().date_naive())
}

/// The starter file written by `isms-lint init`: every control, commented, for decisions.
pub fn starter() -> String {
    let mut s = String::from(
        "# isms-lint configuration. Schema: https://github.com/isms-lint/isms-lint/blob/main/schemas/config.schema.json\n\
         # yaml-language-server: $schema=https://raw.githubusercontent.com/isms-lint/isms-lint/main/schemas/config.schema.json\n\n\
         # Paths (globs, relative to this file) that scans leave out.\n\
         exclude: []\n\n\
         # Extra rule directories (relative to this file).\n\
         rules: []\n\n\
         # Rule ids or control ids to switch off.\n\
         disable: []\n\n\
         # Severity overrides, e.g. k8s-container-latest-tag: low\n\
         severity: {}\n\n\
         # Accepted risks. Each needs a reason; add an owner and an expiry date.\n\
         # - rule: k8s-container-privileged\n\
         #   paths: [\"deploy/legacy/**\"]\n\
         #   reason: \"Legacy node agent needs host access; replacement tracked in SEC-123\"\n\
         #   owner: platform-team\n\
         #   expires: 2027-03-31\n\
         waivers: []\n\n\
         # Statement of Applicability: one entry per Annex A control. Decide each one:\n\
         # applicable: true or false (null = undecided), a justification and an owner.\n\
         controls:\n",
    );
    for theme in catalog::Theme::ALL {
        s.push_str(&format!("  # --- {} ---\n", theme.heading()));
        for c in catalog::controls().iter().filter(|c| c.theme == theme) {
            s.push_str(&format!(
                "  \"{}\": {{applicable: null, owner: \"\", justification: \"\"}}  # {}\n",
                c.id, c.title
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let errs = parse("c.yaml", "exclude: [a]\nwaivres: []\n").unwrap_err();
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("waivres"), "{}", errs[0].message);
        let help = errs[0].help.as_deref().unwrap_or_default();
        assert!(help.starts_with("did you mean `waivers`?"), "{help}");
    }

    #[test]
    fn kinds_map_globs_to_known_kinds() {
        let c = parse("c.yaml", "kinds:\n  \"deploy/*.txt\": kubernetes\n").unwrap();
        assert_eq!(c.kinds["deploy/*.txt"], "kubernetes");
        let errs = parse(
            "c.yaml",
            "kinds:\n  \"*.df\": dokerfile\n  \"*.x\": repository\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!((errs[0].line, errs[0].col), (2, 11), "{errs:?}");
        assert!(errs[0]
            .message
            .starts_with("unknown kind 'dokerfile' for '*.df'"));
        assert_eq!(errs[0].help.as_deref(), Some("did you mean 'dockerfile'?"));
        assert_eq!(errs[1].line, 3, "the repository is no kind a file can have");
    }

    #[test]
    fn bad_values_suggest_the_closest_allowed_one() {
        let errs = parse("c.yaml", "severity:\n  some-rule: hgih\n").unwrap_err();
        assert_eq!((errs[0].line, errs[0].col), (2, 14), "{errs:?}");
        let help = errs[0].help.as_deref().unwrap_or_default();
        assert!(help.starts_with("did you mean `high`?"), "{help}");
        // Nothing close: no guess.
        let errs = parse("c.yaml", "zzzzzz: 1\n").unwrap_err();
        assert!(!errs[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("did you mean"));
    }

    #[test]
    fn waivers_need_reasons_and_dates() {
        let text = "waivers:\n  - rule: r1\n    expires: 2027-13-01\n  - control: \"8.99\"\n    reason: x\n";
        let errs = parse("c.yaml", text).unwrap_err();
        let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("has no reason")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("not a date")), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("unknown Annex A control '8.99'")),
            "{msgs:?}"
        );
    }

    #[test]
    fn starter_lists_all_controls_and_parses() {
        let s = starter();
        assert_eq!(s.matches("applicable: null").count(), 93);
        if let Err(e) = parse("c.yaml", &s) {
            panic!("{e:?}");
        }
    }

    #[test]
    fn the_search_stops_at_the_repository_root() {
        let d = tempfile::tempdir().unwrap();
        let outer = d.path();
        std::fs::write(outer.join(".isms-lint.yaml"), "exclude: []\n").unwrap();
        let repo = outer.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("deploy")).unwrap();
        assert_eq!(
            find(&repo.join("deploy")),
            None,
            "the config above .git is not used"
        );
        std::fs::write(repo.join(".isms-lint.yml"), "").unwrap();
        let found = find(&repo.join("deploy")).unwrap();
        assert!(
            found.ends_with("repo/.isms-lint.yml"),
            "{}",
            found.display()
        );
        // outside any repository the search goes on to the top
        let plain = outer.join("plain/sub");
        std::fs::create_dir_all(&plain).unwrap();
        assert!(find(&plain).unwrap().ends_with(".isms-lint.yaml"));
        // a worktree or submodule has a .git file, not a directory
        let wt = outer.join("wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(find(&wt), None);
    }

    #[test]
    fn decisions_parse() {
        let c = parse(
            "c.yaml",
            "controls:\n  \"7.1\": {applicable: false, justification: fully remote}\n  A.8.11:\n    applicable: true\n    evidence: [https://x]\n",
        )
        .unwrap();
        assert_eq!(c.controls["7.1"].applicable, Some(false));
        assert_eq!(c.controls["A.8.11"].evidence, ["https://x"]);
    }
}
