//! The Statement of Applicability: every Annex A control, its applicability decision, the rules
//! that evidence it and what they found — the document an auditor reads first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::catalog::{self, Theme};
use crate::config::{ControlDecision, LoadedConfig};
use crate::finding::SuppressionKind;
use crate::pipeline::Run;
use crate::rules::Severity;

/// Schema id of the JSON form.
pub const SCHEMA: &str = "isms-lint/soa/v2";

pub use crate::git::EvidenceMeta;

/// A control's status in the statement (docs/soa.md defines each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// An open finding above `info` from one of its rules.
    #[serde(rename = "failing")]
    Failing,
    /// Something was judged and nothing failed (or every failure is a recorded exception).
    #[serde(rename = "passing")]
    Passing,
    /// Its rules judged only elements whose verdict depends on values not known before
    /// deployment.
    #[serde(rename = "unknown")]
    Unknown,
    /// It has rules, but they judged nothing (nothing in scope, or a rule failed to run).
    #[serde(rename = "not evaluated")]
    NotEvaluated,
    /// No rule evidences it; the configuration declares it applicable.
    #[serde(rename = "manual")]
    Manual,
    /// No rule evidences it and no applicability decision was made.
    #[serde(rename = "undecided")]
    Undecided,
    /// Declared not applicable.
    #[serde(rename = "not applicable")]
    NotApplicable,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 7] = [
        Status::Failing,
        Status::Passing,
        Status::Unknown,
        Status::NotEvaluated,
        Status::Manual,
        Status::Undecided,
        Status::NotApplicable,
    ];

    /// The status as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failing => "failing",
            Status::Passing => "passing",
            Status::Unknown => "unknown",
            Status::NotEvaluated => "not evaluated",
            Status::Manual => "manual",
            Status::Undecided => "undecided",
            Status::NotApplicable => "not applicable",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The applicability decision recorded in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Applicability {
    /// `applicable: true`.
    #[serde(rename = "applicable")]
    Applicable,
    /// `applicable: false`.
    #[serde(rename = "not applicable")]
    NotApplicable,
    /// No decision.
    #[serde(rename = "undecided")]
    Undecided,
}

impl Applicability {
    /// The decision as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Applicable => "applicable",
            Applicability::NotApplicable => "not applicable",
            Applicability::Undecided => "undecided",
        }
    }
}

/// What a rule (or all rules of a control) judged: counts of (rule, element) verdicts.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Elements judged: `passed + failed + unknown`.
    pub judged: usize,
    /// Elements that comply.
    pub passed: usize,
    /// Elements that do not (whether their findings are open, suppressed or waived).
    pub failed: usize,
    /// Elements whose verdict depends on a value not known before deployment.
    pub unknown: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.judged += o.judged;
        self.passed += o.passed;
        self.failed += o.failed;
        self.unknown += o.unknown;
    }
}

/// A rule evidencing a control, with how strongly and what it judged.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RuleRef {
    /// Rule id.
    pub id: String,
    /// `full`, `partial` or `supports`.
    pub relation: String,
    /// Documents of its kinds it was evaluated on.
    pub documents: usize,
    /// What it judged.
    #[serde(flatten)]
    pub counts: Counts,
    /// Set when the rule was not run: `not in profile 'strict'` (its profile was not selected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
}

/// One row: one control.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Row {
    /// Bare id, e.g. `8.11`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Theme.
    pub theme: String,
    /// New in the 2022 revision.
    pub new_in_2022: bool,
    /// The decision in the configuration.
    pub applicability: Applicability,
    /// Justification from the config.
    pub justification: String,
    /// Owner from the config.
    pub owner: String,
    /// Rules that evidence it.
    pub rules: Vec<RuleRef>,
    /// How many of those rules judged at least one element.
    pub rules_evaluated: usize,
    /// The status.
    pub status: Status,
    /// Why the status is `not evaluated` or `unknown` (what was looked for and not found), or
    /// what makes a `passing` control's evidence partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What its rules judged, summed over rules.
    #[serde(flatten)]
    pub counts: Counts,
    /// Open findings above `info`.
    pub open: usize,
    /// Findings suppressed inline.
    pub suppressed: usize,
    /// Findings waived in the config.
    pub waived: usize,
    /// Manual evidence links from the config.
    pub evidence: Vec<String>,
    /// Set when the control is declared not applicable yet its rules fail.
    pub conflict: Option<String>,
    /// In an organisation SoA: the repositories where the control fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_in: Vec<String>,
}

/// The whole statement.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Soa {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Where and when.
    pub meta: EvidenceMeta,
    /// Rows in catalog order.
    pub controls: Vec<Row>,
}

fn decision<'a>(cfg: &'a LoadedConfig, id: &str) -> Option<&'a ControlDecision> {
    cfg.config
        .controls
        .iter()
        .find(|(k, _)| catalog::normalize_id(k) == id)
        .map(|(_, d)| d)
}

/// The status of a control from its decision, its rules and their findings.
pub fn status_of(
    applicability: Applicability,
    has_rules: bool,
    counts: &Counts,
    open: usize,
    rule_failed_to_run: bool,
) -> Status {
    match applicability {
        Applicability::NotApplicable => Status::NotApplicable,
        _ if !has_rules => match applicability {
            Applicability::Applicable => Status::Manual,
            _ => Status::Undecided,
        },
        _ if open > 0 => Status::Failing,
        _ if rule_failed_to_run => Status::NotEvaluated,
        _ if counts.passed + counts.failed > 0 => Status::Passing,
        _ if counts.unknown > 0 => Status::Unknown,
        _ => Status::NotEvaluated,
    }
}

/// Why a control with rules judged nothing: what its rules looked for, by document kind.
fn not_evaluated_reason(run: &Run, rule_ids: &[RuleRef]) -> String {
    let mut scanned: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut left_out: Vec<&str> = Vec::new();
    for r in rule_ids {
        if r.not_run.is_some() {
            left_out.push(&r.id);
            continue;
        }
        let Some(rule) = run.rules.get(&r.id) else {
            continue;
        };
        let kinds: Vec<&str> = rule.kinds.iter().map(|k| k.as_str()).collect();
        if r.documents == 0 {
            for k in kinds {
                if !scanned.iter().any(|s| s == k) {
                    scanned.push(k.to_string());
                }
            }
            continue;
        }
        let what = rule
            .selection()
            .scope
            .clone()
            .unwrap_or_else(|| format!("element that `{}` judges", rule.id));
        if !missing.contains(&what) {
            missing.push(what);
        }
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("no {} found", missing.join("; no ")));
    }
    if !scanned.is_empty() {
        parts.push(format!("no {} documents scanned", scanned.join(", ")));
    }
    // Helm charts hold Kubernetes objects that only rendering reveals: say so where a control's
    // Kubernetes rules found nothing to judge.
    let charts = run
        .result
        .findings
        .iter()
        .filter(|f| f.rule_id == crate::checks::NOT_EVALUATED.id)
        .count();
    if charts > 0 && scanned.iter().any(|k| k == "kubernetes") {
        parts.push(format!(
            "{charts} Helm chart{} not evaluated (render and pipe in)",
            if charts == 1 { "" } else { "s" }
        ));
    }
    if !left_out.is_empty() {
        parts.push(format!(
            "not evaluated (not in profile): {}",
            left_out.join(", ")
        ));
    }
    parts.join("; ")
}

/// Builds the statement from a run.
pub fn build(run: &Run, meta: EvidenceMeta) -> Soa {
    let mut rules_of: BTreeMap<&str, Vec<RuleRef>> = BTreeMap::new();
    for r in &run.rules.rules {
        let stats = run
            .result
            .rule_stats
            .get(&r.id)
            .copied()
            .unwrap_or_default();
        for c in &r.controls {
            rules_of.entry(c.id.as_str()).or_default().push(RuleRef {
                id: r.id.clone(),
                relation: c.relation.as_str().to_string(),
                documents: stats.documents,
                counts: Counts {
                    judged: stats.elements,
                    passed: stats.passed,
                    failed: stats.failed,
                    unknown: stats.unknown,
                },
                not_run: None,
            });
        }
    }
    // Rules left out by profile evidence their controls too, but judged nothing: listed, never
    // counted as passing.
    for r in &run.rules.not_in_profile {
        for c in &r.controls {
            rules_of.entry(c.id.as_str()).or_default().push(RuleRef {
                id: r.id.clone(),
                relation: c.relation.as_str().to_string(),
                documents: 0,
                counts: Counts::default(),
                not_run: Some(format!("not in profile '{}'", r.profile)),
            });
        }
    }
    let errored: BTreeSet<&str> = run
        .result
        .rule_errors
        .iter()
        .map(|e| e.rule_id.as_str())
        .collect();
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for f in &run.result.findings {
        for c in f.controls.iter() {
            let e = counts.entry(c.as_str()).or_default();
            match f.suppression.as_ref().map(|s| s.kind) {
                None if f.severity > Severity::Info => e.0 += 1,
                None => {}
                Some(SuppressionKind::InSource) => e.1 += 1,
                Some(SuppressionKind::External) => e.2 += 1,
            }
        }
    }
    let controls = catalog::controls()
        .iter()
        .map(|c| {
            let d = decision(&run.config, &c.id);
            let applicability = match d.and_then(|d| d.applicable) {
                Some(true) => Applicability::Applicable,
                Some(false) => Applicability::NotApplicable,
                None => Applicability::Undecided,
            };
            let rules = rules_of.remove(c.id.as_str()).unwrap_or_default();
            let rules_evaluated = rules.iter().filter(|r| r.counts.judged > 0).count();
            let mut total = Counts::default();
            for r in &rules {
                total.add(&r.counts);
            }
            let (open, suppressed, waived) = counts.get(c.id.as_str()).copied().unwrap_or_default();
            let not_in_profile: Vec<&str> = rules
                .iter()
                .filter(|r| r.not_run.is_some())
                .map(|r| r.id.as_str())
                .collect();
            let failed_to_run: Vec<&str> = rules
                .iter()
                .filter(|r| errored.contains(r.id.as_str()))
                .map(|r| r.id.as_str())
                .collect();
            let automated = status_of(
                Applicability::Applicable,
                !rules.is_empty(),
                &total,
                open,
                !failed_to_run.is_empty(),
            );
            let status = status_of(
                applicability,
                !rules.is_empty(),
                &total,
                open,
                !failed_to_run.is_empty(),
            );
            let conflict = (applicability == Applicability::NotApplicable
                && automated == Status::Failing)
                .then(|| {
                    format!(
                        "declared not applicable, but {open} open finding(s) from its rules: the justification and the configuration disagree"
                    )
                });
            let reason = match status {
                Status::NotEvaluated if !failed_to_run.is_empty() => Some(format!(
                    "rule(s) failed to run: {}",
                    failed_to_run.join(", ")
                )),
                Status::NotEvaluated if not_in_profile.len() == rules.len() => Some(format!(
                    "not evaluated: not in profile: its rules ({}) are in profiles this scan did not select (--profile, or profiles: in the config)",
                    not_in_profile.join(", ")
                )),
                Status::NotEvaluated => Some(not_evaluated_reason(run, &rules)),
                Status::Unknown => Some(format!(
                    "{} element(s) could not be judged before deployment; nothing was judged compliant or not",
                    total.unknown
                )),
                Status::Passing if total.unknown > 0 => Some(format!(
                    "{} element(s) could not be judged before deployment",
                    total.unknown
                )),
                Status::Passing if !not_in_profile.is_empty() => Some(format!(
                    "partial: not evaluated (not in profile): {}",
                    not_in_profile.join(", ")
                )),
                _ => None,
            };
            Row {
                id: c.id.clone(),
                title: c.title.clone(),
                theme: c.theme.as_str().to_string(),
                new_in_2022: c.new_in_2022,
                applicability,
                justification: d.and_then(|d| d.justification.clone()).unwrap_or_default(),
                owner: d.and_then(|d| d.owner.clone()).unwrap_or_default(),
                rules,
                rules_evaluated,
                status,
                reason,
                counts: total,
                open,
                suppressed,
                waived,
                evidence: d.map(|d| d.evidence.clone()).unwrap_or_default(),
                conflict,
                failing_in: Vec::new(),
            }
        })
        .collect();
    Soa {
        schema: SCHEMA.to_string(),
        meta,
        controls,
    }
}

/// Counts of rows by status, per theme.
pub fn summary(soa: &Soa) -> BTreeMap<String, BTreeMap<Status, usize>> {
    let mut m: BTreeMap<String, BTreeMap<Status, usize>> = BTreeMap::new();
    for r in &soa.controls {
        *m.entry(r.theme.clone())
            .or_default()
            .entry(r.status)
            .or_default() += 1;
    }
    m
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for people: summary by theme, then one table per theme.
pub fn markdown(soa: &Soa) -> String {
    let mut out = String::from("# Statement of Applicability — ISO/IEC 27001:2022 Annex A\n\n");
    let m = &soa.meta;
    let _ = writeln!(
        out,
        "Repository **{}**, commit `{}`{}, evidence date {}, isms-lint {}.\n",
        md_escape(&m.repository),
        m.commit.as_deref().unwrap_or("(not a git repository)"),
        if m.dirty {
            " (uncommitted changes present)"
        } else {
            ""
        },
        m.date,
        m.tool_version
    );
    if let Some(note) = &m.note {
        let _ = writeln!(out, "> **Note:** {}.\n", md_escape(note));
    }
    out.push_str("## Summary\n\n| Theme | Controls |");
    for s in Status::ALL {
        let _ = write!(out, " {s} |");
    }
    out.push_str("\n|---|---:|");
    for _ in Status::ALL {
        out.push_str("---:|");
    }
    out.push('\n');
    let sum = summary(soa);
    for t in Theme::ALL {
        let counts = sum.get(t.as_str()).cloned().unwrap_or_default();
        let total: usize = counts.values().sum();
        let _ = write!(out, "| {} | {total} |", t.heading());
        for s in Status::ALL {
            let _ = write!(out, " {} |", counts.get(&s).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    let conflicts: Vec<&Row> = soa
        .controls
        .iter()
        .filter(|r| r.conflict.is_some())
        .collect();
    if !conflicts.is_empty() {
        out.push_str("\n## ⚠️ Contradictions\n\n");
        for r in conflicts {
            let _ = writeln!(
                out,
                "- **A.{} {}**: {}",
                r.id,
                r.title,
                r.conflict.as_deref().unwrap_or_default()
            );
        }
    }
    for t in Theme::ALL {
        let _ = writeln!(
            out,
            "\n## {}\n\n| Control | Applicability | Status | Rules (relation: what each judged) | Judged | Passed | Failed | Unknown | Open | Suppressed | Waived | Justification | Owner | Evidence |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
            t.heading()
        );
        for r in soa.controls.iter().filter(|r| r.theme == t.as_str()) {
            let rules: Vec<String> = r
                .rules
                .iter()
                .map(|x| format!("`{}` ({}: {})", x.id, x.relation, judged_words(&x.counts)))
                .collect();
            let new = if r.new_in_2022 { " *(new)*" } else { "" };
            let mut status = r.status.to_string();
            if let Some(reason) = &r.reason {
                status = format!("{status} — *{}*", md_escape(reason));
            }
            if !r.failing_in.is_empty() {
                status = format!("{status} ({})", r.failing_in.join(", "));
            }
            if r.conflict.is_some() {
                status.push_str(" ⚠️");
            }
            let _ = writeln!(
                out,
                "| A.{} {}{new} | {} | {status} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                md_escape(&r.title),
                r.applicability.as_str(),
                if rules.is_empty() {
                    "—".to_string()
                } else {
                    rules.join(", ")
                },
                r.counts.judged,
                r.counts.passed,
                r.counts.failed,
                r.counts.unknown,
                r.open,
                r.suppressed,
                r.waived,
                md_escape(&r.justification),
                md_escape(&r.owner),
                r.evidence.join(" ")
            );
        }
    }
    out
}

/// `2 passed, 1 failed`, or `nothing judged`.
fn judged_words(c: &Counts) -> String {
    let parts: Vec<String> = [
        (c.passed, "passed"),
        (c.failed, "failed"),
        (c.unknown, "unknown"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    if parts.is_empty() {
        "nothing judged".to_string()
    } else {
        parts.join(", ")
    }
}

/// CSV columns, in order (documented in docs/soa.md).
pub const CSV_COLUMNS: [&str; 24] = [
    "id",
    "title",
    "theme",
    "new_in_2022",
    "applicability",
    "justification",
    "owner",
    "status",
    "reason",
    "rules",
    "rules_evaluated",
    "judged",
    "passed",
    "failed",
    "unknown",
    "open",
    "suppressed",
    "waived",
    "evidence",
    "conflict",
    "evidence_date",
    "commit",
    "dirty",
    "failing_in",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV for spreadsheets: one row per control.
pub fn csv(soa: &Soa) -> String {
    let mut out = CSV_COLUMNS.join(",") + "\n";
    for r in &soa.controls {
        let rules: Vec<String> = r
            .rules
            .iter()
            .map(|x| {
                let c = &x.counts;
                format!(
                    "{}:{}:{}/{}/{}",
                    x.id, x.relation, c.passed, c.failed, c.unknown
                )
            })
            .collect();
        let fields = [
            format!("A.{}", r.id),
            r.title.clone(),
            r.theme.clone(),
            r.new_in_2022.to_string(),
            r.applicability.as_str().to_string(),
            r.justification.clone(),
            r.owner.clone(),
            r.status.to_string(),
            r.reason.clone().unwrap_or_default(),
            rules.join(" "),
            r.rules_evaluated.to_string(),
            r.counts.judged.to_string(),
            r.counts.passed.to_string(),
            r.counts.failed.to_string(),
            r.counts.unknown.to_string(),
            r.open.to_string(),
            r.suppressed.to_string(),
            r.waived.to_string(),
            r.evidence.join(" "),
            r.conflict.clone().unwrap_or_default(),
            soa.meta.date.clone(),
            soa.meta.commit.clone().unwrap_or_default(),
            soa.meta.dirty.to_string(),
            r.failing_in.join(" "),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// JSON for tools.
pub fn json(soa: &Soa) -> String {
    serde_json::to_string_pretty(soa).expect("SoA serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
