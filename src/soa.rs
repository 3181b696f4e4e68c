//! The Statement of Applicability: every Annex A control, its applicability decision, the rules
//! that evidence it and what they found — the document an auditor reads first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::catalog::{self, Theme};
use crate::config::{ControlDecision, LoadedConfig};
use crate::finding::SuppressionKind;
use crate::pipeline::Run;

/// Schema id of the JSON form.
pub const SCHEMA: &str = "isms-lint/soa/v1";

/// Where and when the evidence was taken.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EvidenceMeta {
    /// Evidence date (`YYYY-MM-DD`): the commit date, or today outside git.
    pub date: String,
    /// Git commit, when in a repository.
    pub commit: Option<String>,
    /// Git branch, when known.
    pub branch: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
    /// Repository name: `GITHUB_REPOSITORY` when the scanned repository is the GitHub Actions
    /// workspace, else the `origin` remote's `owner/name`, else the top-level directory's name.
    pub repository: String,
    /// isms-lint version.
    pub tool_version: String,
    /// What the reader must know about where the evidence comes from (e.g. the scan root is
    /// not in a git repository, so no commit is recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rule evidencing a control, with how strongly.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RuleRef {
    /// Rule id.
    pub id: String,
    /// `full`, `partial` or `supports`.
    pub relation: String,
    /// Documents it was evaluated on.
    pub evaluations: usize,
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
    /// `applicable`, `not applicable` or `undecided`.
    pub applicability: String,
    /// Justification from the config.
    pub justification: String,
    /// Owner from the config.
    pub owner: String,
    /// Rules that evidence it.
    pub rules: Vec<RuleRef>,
    /// How many of those rules were evaluated on at least one document.
    pub rules_evaluated: usize,
    /// `failing`, `passing`, `not evaluated`, `manual` or `not applicable`.
    pub status: String,
    /// Open findings.
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

/// The status words, in the order reports list them.
pub const STATUSES: [&str; 5] = [
    "failing",
    "passing",
    "not evaluated",
    "manual",
    "not applicable",
];

fn decision<'a>(cfg: &'a LoadedConfig, id: &str) -> Option<&'a ControlDecision> {
    cfg.config
        .controls
        .iter()
        .find(|(k, _)| catalog::normalize_id(k) == id)
        .map(|(_, d)| d)
}

/// Builds the statement from a run.
pub fn build(run: &Run, meta: EvidenceMeta) -> Soa {
    let mut rules_of: BTreeMap<&str, Vec<RuleRef>> = BTreeMap::new();
    for r in &run.rules.rules {
        for c in &r.controls {
            rules_of.entry(c.id.as_str()).or_default().push(RuleRef {
                id: r.id.clone(),
                relation: c.relation.as_str().to_string(),
                evaluations: run.result.rule_evaluations.get(&r.id).copied().unwrap_or(0),
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
                None => e.0 += 1,
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
                Some(true) => "applicable",
                Some(false) => "not applicable",
                None => "undecided",
            };
            let rules = rules_of.remove(c.id.as_str()).unwrap_or_default();
            let rules_evaluated = rules.iter().filter(|r| r.evaluations > 0).count();
            let (open, suppressed, waived) = counts.get(c.id.as_str()).copied().unwrap_or_default();
            let failed_eval = rules.iter().any(|r| errored.contains(r.id.as_str()));
            let automated = if rules.is_empty() {
                "manual"
            } else if open > 0 {
                "failing"
            } else if rules_evaluated == 0 || failed_eval {
                "not evaluated"
            } else {
                "passing"
            };
            let (status, conflict) = if applicability == "not applicable" {
                let conflict = (automated == "failing").then(|| {
                    format!(
                        "declared not applicable, but {open} open finding(s) from its rules: the justification and the configuration disagree"
                    )
                });
                ("not applicable", conflict)
            } else {
                (automated, None)
            };
            Row {
                id: c.id.clone(),
                title: c.title.clone(),
                theme: c.theme.as_str().to_string(),
                new_in_2022: c.new_in_2022,
                applicability: applicability.to_string(),
                justification: d.and_then(|d| d.justification.clone()).unwrap_or_default(),
                owner: d.and_then(|d| d.owner.clone()).unwrap_or_default(),
                rules,
                rules_evaluated,
                status: status.to_string(),
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
pub fn summary(soa: &Soa) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut m: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in &soa.controls {
        *m.entry(r.theme.clone())
            .or_default()
            .entry(r.status.clone())
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
    for s in STATUSES {
        let _ = write!(out, " {s} |");
    }
    out.push_str("\n|---|---:|");
    for _ in STATUSES {
        out.push_str("---:|");
    }
    out.push('\n');
    let sum = summary(soa);
    for t in Theme::ALL {
        let counts = sum.get(t.as_str()).cloned().unwrap_or_default();
        let total: usize = counts.values().sum();
        let _ = write!(out, "| {} | {total} |", t.heading());
        for s in STATUSES {
            let _ = write!(out, " {} |", counts.get(s).copied().unwrap_or(0));
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
            "\n## {}\n\n| Control | Applicability | Status | Rules (relation) | Open | Suppressed | Waived | Justification | Owner | Evidence |\n|---|---|---|---|---:|---:|---:|---|---|---|",
            t.heading()
        );
        for r in soa.controls.iter().filter(|r| r.theme == t.as_str()) {
            let rules: Vec<String> = r
                .rules
                .iter()
                .map(|x| format!("`{}` ({})", x.id, x.relation))
                .collect();
            let new = if r.new_in_2022 { " *(new)*" } else { "" };
            let mut status = r.status.clone();
            if !r.failing_in.is_empty() {
                status = format!("{status} ({})", r.failing_in.join(", "));
            }
            if r.conflict.is_some() {
                status.push_str(" ⚠️");
            }
            let _ = writeln!(
                out,
                "| A.{} {}{new} | {} | {status} | {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                md_escape(&r.title),
                r.applicability,
                if rules.is_empty() {
                    "—".to_string()
                } else {
                    rules.join(", ")
                },
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

/// CSV columns, in order (documented in docs/soa.md).
pub const CSV_COLUMNS: [&str; 19] = [
    "id",
    "title",
    "theme",
    "new_in_2022",
    "applicability",
    "justification",
    "owner",
    "status",
    "rules",
    "rules_evaluated",
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
            .map(|x| format!("{}:{}", x.id, x.relation))
            .collect();
        let fields = [
            format!("A.{}", r.id),
            r.title.clone(),
            r.theme.clone(),
            r.new_in_2022.to_string(),
            r.applicability.clone(),
            r.justification.clone(),
            r.owner.clone(),
            r.status.clone(),
            rules.join(" "),
            r.rules_evaluated.to_string(),
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
