//! Reports: the results of a scan rendered for people (text, Markdown) and tools (JSON, SARIF,
//! GitHub workflow commands). Reports know nothing of parsers.

mod batched;
pub mod concise;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
#[cfg(test)]
mod test_support;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog;
use crate::checks::BUILTIN_CHECKS;
use crate::diagnostic::FileDiagnostic;
use crate::finding::Finding;
use crate::rules::{RuleSet, Severity};
use crate::scan::ScanResult;

/// Where rule documentation lives; SARIF `helpUri` points at `#<rule-id>` in it.
pub const RULE_DOCS_URL: &str = "https://github.com/isms-lint/isms-lint/blob/main/docs/rules.md";

/// Output formats of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable diagnostics with source snippets, then a summary.
    Text,
    /// One line per finding, `path:line:col: severity rule message`, then the verdict.
    Concise,
    /// A stable JSON document (see docs/json-format.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A Markdown summary (for `$GITHUB_STEP_SUMMARY`).
    Markdown,
}

impl Format {
    /// Every format, with its name.
    pub const ALL: [(Format, &'static str); 6] = [
        (Format::Text, "text"),
        (Format::Concise, "concise"),
        (Format::Json, "json"),
        (Format::Sarif, "sarif"),
        (Format::Github, "github"),
        (Format::Markdown, "markdown"),
    ];

    /// The format's name.
    pub fn as_str(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("text", |(_, n)| n)
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|(_, n)| *n).collect();
                format!(
                    "unknown format '{s}' (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// Everything a report may show.
pub struct ReportInput<'a> {
    /// The scan.
    pub scan: &'a ScanResult,
    /// The rules that ran.
    pub rules: &'a RuleSet,
    /// Problems in rule and config files.
    pub config_errors: &'a [FileDiagnostic],
    /// Whether suppressed findings are listed (they are always counted).
    pub show_suppressed: bool,
    /// The severity at or above which findings fail the run.
    pub fail_on: Option<Severity>,
    /// The directory SARIF URIs are relative to (the scanned repository's top level, or the
    /// scan root outside git); `None`: the working directory.
    pub source_root: Option<&'a std::path::Path>,
    /// With `--baseline` or `--new-since`: the fingerprints of the findings that existed before
    /// (SARIF marks them `baselineState: unchanged`, every other result `new`).
    pub known: Option<&'a BTreeSet<String>>,
    /// Display path of the config file used, if any (named in the JSON report).
    pub config: Option<&'a str>,
    /// `--quiet`: findings and errors only, no summary.
    pub quiet: bool,
}

impl ReportInput<'_> {
    /// Findings to list: open ones, plus suppressed ones when asked.
    pub fn listed(&self) -> impl Iterator<Item = &Finding> {
        self.scan
            .findings
            .iter()
            .filter(|f| f.is_open() || self.show_suppressed)
    }

    /// Open violations by severity (findings that could not be judged are counted apart).
    pub fn by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut m = BTreeMap::new();
        for f in self.scan.findings.iter().filter(|f| f.is_open_violation()) {
            *m.entry(f.severity).or_default() += 1;
        }
        m
    }

    /// Open findings by control id, in catalog order.
    pub fn by_control(&self) -> Vec<(String, usize)> {
        let mut m: BTreeMap<(u32, u32), (String, usize)> = BTreeMap::new();
        for f in self.scan.findings.iter().filter(|f| f.is_open_violation()) {
            for c in f.controls.iter() {
                m.entry(catalog::id_order(c))
                    .or_insert_with(|| (c.clone(), 0))
                    .1 += 1;
            }
        }
        m.into_values().collect()
    }

    /// Number of suppressed or waived findings.
    pub fn suppressed(&self) -> usize {
        self.scan.findings.iter().filter(|f| !f.is_open()).count()
    }

    /// Open findings that say an element could not be judged before deployment.
    pub fn unknown(&self) -> usize {
        self.scan
            .findings
            .iter()
            .filter(|f| f.is_open() && f.unknown)
            .count()
    }

    /// Remediation of a rule id.
    pub fn remediation(&self, id: &str) -> String {
        if let Some(r) = self.rules.get(id) {
            return r.remediation.clone();
        }
        BUILTIN_CHECKS
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.remediation.to_string())
            .unwrap_or_default()
    }

    /// Whether the run had errors (a rule or config error, a rule that failed at run time, a
    /// file that could not be handled): the exit code is then 2, whatever the findings.
    pub fn has_errors(&self) -> bool {
        !self.config_errors.is_empty()
            || !self.scan.rule_errors.is_empty()
            || self
                .scan
                .notices
                .iter()
                .any(|n| n.level == crate::discover::NoticeLevel::Error)
    }

    /// Number of errors behind [`ReportInput::has_errors`].
    pub fn error_count(&self) -> usize {
        self.config_errors.len()
            + self.scan.rule_errors.len()
            + self
                .scan
                .notices
                .iter()
                .filter(|n| n.level == crate::discover::NoticeLevel::Error)
                .count()
    }

    /// Whether the run failed on findings.
    pub fn fails(&self) -> bool {
        self.fail_on.is_some_and(|min| {
            self.scan
                .findings
                .iter()
                .any(|f| f.is_open_violation() && f.severity >= min)
        })
    }
}

/// Where a finding is shown: `path:line:col`, or the repository root for a finding about the
/// repository as a whole.
pub fn place(input: &ReportInput<'_>, f: &Finding) -> String {
    match input.scan.repository_root(f) {
        Some(root) => root.to_string(),
        None => format!("{}:{}:{}", f.path, f.start.line, f.start.col),
    }
}

/// `A.8.2` style label for a control id.
pub fn annex(id: &str) -> String {
    format!("A.{}", catalog::normalize_id(id))
}

/// `A.8.2 Privileged access rights`.
pub fn annex_with_title(id: &str) -> String {
    match catalog::find(id) {
        Some(c) => format!("A.{} {}", c.id, c.title),
        None => annex(id),
    }
}

/// Writes the report in `format` to `out` (JSON and SARIF stream, without a copy in memory).
pub fn write(
    format: Format,
    input: &ReportInput<'_>,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(input, out),
        Format::Sarif => sarif::write(input, out),
        other => out.write_all(render(other, input, color).as_bytes()),
    }
}

/// Renders the report in `format`.
pub fn render(format: Format, input: &ReportInput<'_>, color: bool) -> String {
    match format {
        Format::Text => text::render(input, color),
        Format::Concise => concise::render(input),
        Format::Json => json::render(input),
        Format::Sarif => sarif::render(input),
        Format::Github => github::render(input),
        Format::Markdown => markdown::render(input),
    }
}
