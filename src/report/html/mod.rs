//! The auditor's view: the Statement of Applicability as one self-contained HTML page (inline
//! CSS, inline SVG, a little vanilla JavaScript, no network request), rendered from the same
//! [`Soa`] as the Markdown, CSV, JSON and OSCAL forms plus the findings the run already has.
//! Nothing here computes a status: the page shows the statement's.

pub mod history;
pub mod org;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::catalog::{self, Theme};
use crate::checks::BUILTIN_CHECKS;
use crate::finding::{Finding, SuppressionKind};
use crate::rules::{RuleSet, Severity};
use crate::soa::{Row, Soa, Status};

pub use history::History;

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/script.js");

/// Open findings shown with their source lines, per control; the others are listed without.
pub const MAX_SNIPPETS: usize = 10;
/// Open findings listed per control; the rest are counted.
pub const MAX_LISTED: usize = 100;
/// Source lines shown before and after a finding.
const CONTEXT_LINES: u32 = 2;
/// Longest source line shown, in characters.
const MAX_LINE_CHARS: usize = 160;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target the page may use: only `http:` and `https:` URLs (never `javascript:` or
/// `data:`); anything else is shown as text.
pub fn safe_href(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    ((lower.starts_with("https://") || lower.starts_with("http://"))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace()))
    .then_some(u)
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Content-Security-Policy of every page: nothing may be loaded, and only the page's own
/// style sheet and script (by hash) run, so text that slipped through escaping still could not
/// execute or fetch anything.
fn csp() -> String {
    let hash = |s: &str| base64(&Sha256::digest(s.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
}

/// A finding as the page shows it: from this run, or read back from a bundle's `findings.json`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct FindingRecord {
    /// Rule that fired.
    pub rule_id: String,
    /// Severity.
    pub severity: Severity,
    /// Annex A ids.
    pub controls: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// Display path of the file.
    pub path: String,
    /// First character.
    pub start: Position,
    /// Just past the last character.
    pub end: Position,
    /// The verdict depends on a value not known before deployment.
    #[serde(default)]
    pub unknown: bool,
    /// The suppression or waiver that applies.
    #[serde(default)]
    pub suppression: Option<SuppressionRecord>,
}

/// A line and column, 1-based.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Position {
    /// Line.
    pub line: u32,
    /// Column.
    pub col: u32,
}

/// Why a finding does not count.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SuppressionRecord {
    /// `inSource` (inline comment) or `external` (config waiver).
    pub kind: String,
    /// The reason given.
    pub justification: String,
    /// Who owns the decision.
    #[serde(default)]
    pub owner: Option<String>,
    /// Until when it holds.
    #[serde(default)]
    pub until: Option<String>,
}

impl From<&Finding> for FindingRecord {
    fn from(f: &Finding) -> Self {
        FindingRecord {
            rule_id: f.rule_id.clone(),
            severity: f.severity,
            controls: f.controls.to_vec(),
            message: f.message.clone(),
            path: f.path.clone(),
            start: Position {
                line: f.start.line,
                col: f.start.col,
            },
            end: Position {
                line: f.end.line,
                col: f.end.col,
            },
            unknown: f.unknown,
            suppression: f.suppression.as_ref().map(|s| SuppressionRecord {
                kind: match s.kind {
                    SuppressionKind::InSource => "inSource".to_string(),
                    SuppressionKind::External => "external".to_string(),
                },
                justification: s.justification.clone(),
                owner: s.owner.clone(),
                until: s.until.clone(),
            }),
        }
    }
}

impl FindingRecord {
    /// Counts against the control: not suppressed or waived, and above `info` (as the SoA counts).
    pub fn is_open(&self) -> bool {
        self.suppression.is_none() && self.severity > Severity::Info
    }
}

/// What the page says about a rule: its title and, per control, why it is evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleInfo {
    /// One-line summary.
    pub title: String,
    /// Rationale by bare control id.
    pub rationale: BTreeMap<String, String>,
}

/// Rule titles and rationales by rule id: the rules of the run and isms-lint's own checks.
pub fn rule_infos(rules: &RuleSet) -> BTreeMap<String, RuleInfo> {
    let mut m = BTreeMap::new();
    for c in BUILTIN_CHECKS {
        m.insert(
            c.id.to_string(),
            RuleInfo {
                title: c.title.to_string(),
                rationale: c
                    .controls
                    .iter()
                    .map(|(id, _, why)| (id.to_string(), why.to_string()))
                    .collect(),
            },
        );
    }
    for r in &rules.rules {
        m.insert(
            r.id.clone(),
            RuleInfo {
                title: r.title.clone(),
                rationale: r
                    .controls
                    .iter()
                    .map(|c| (c.id.clone(), c.rationale.clone()))
                    .collect(),
            },
        );
    }
    m
}

/// Rule titles and rationales read back from a bundle's SARIF (`shortDescription` and the
/// descriptions of the rule's relationships to Annex A taxa, `relation: rationale`).
pub fn rule_infos_from_sarif(sarif: &serde_json::Value) -> BTreeMap<String, RuleInfo> {
    let mut m = BTreeMap::new();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array();
    for r in rules.into_iter().flatten() {
        let Some(id) = r["id"].as_str() else { continue };
        let mut info = RuleInfo {
            title: r["shortDescription"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            rationale: BTreeMap::new(),
        };
        for rel in r["relationships"].as_array().into_iter().flatten() {
            let target = rel["target"]["id"].as_str().unwrap_or_default();
            let text = rel["description"]["text"].as_str().unwrap_or_default();
            let why = text.split_once(": ").map_or(text, |(_, w)| w);
            info.rationale
                .insert(catalog::normalize_id(target).to_string(), why.to_string());
        }
        m.insert(id.to_string(), info);
    }
    m
}

/// Where the source lines of findings come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sources {
    /// Read each file now, at its display path (relative to the working directory).
    Read,
    /// Not available (the page is rendered away from the repository); the reason is shown.
    Unavailable(String),
}

/// Facts for the header besides the statement's own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Digest of the rule pack used.
    pub rule_pack_digest: Option<String>,
    /// Number of rules used.
    pub rules: Option<usize>,
    /// The bundle's digest, when the page is part of a bundle.
    pub bundle_digest: Option<String>,
}

/// Everything one repository's page shows.
pub struct Page<'a> {
    /// The statement.
    pub soa: &'a Soa,
    /// Every finding of the run (open, suppressed and waived), sorted as the run sorted them.
    pub findings: &'a [FindingRecord],
    /// Rule titles and rationales.
    pub rules: &'a BTreeMap<String, RuleInfo>,
    /// Header facts.
    pub facts: Facts,
    /// Earlier bundles, verified.
    pub history: Option<&'a History>,
    /// Where source lines come from.
    pub sources: Sources,
}

/// The CSS class of a status.
pub fn status_class(s: Status) -> &'static str {
    match s {
        Status::Failing => "st-failing",
        Status::Passing => "st-passing",
        Status::Unknown => "st-unknown",
        Status::NotEvaluated => "st-not-evaluated",
        Status::Manual => "st-manual",
        Status::Undecided => "st-undecided",
        Status::NotApplicable => "st-not-applicable",
    }
}

/// The letter that tells the statuses apart without colour.
pub fn status_letter(s: Status) -> &'static str {
    match s {
        Status::Failing => "F",
        Status::Passing => "P",
        Status::Unknown => "U",
        Status::NotEvaluated => "N",
        Status::Manual => "M",
        Status::Undecided => "?",
        Status::NotApplicable => "X",
    }
}

/// The `id` attribute of a control's section (`c-8-2`).
pub fn anchor(id: &str) -> String {
    format!("c-{}", id.replace('.', "-"))
}

fn theme_of(row: &Row) -> Theme {
    Theme::ALL
        .into_iter()
        .find(|t| t.as_str() == row.theme)
        .unwrap_or(Theme::Organizational)
}

/// `<!doctype html>` through `<body>`.
pub(crate) fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"isms-lint {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#controls\">Skip to the controls</a>\n",
        escape(&csp()),
        env!("CARGO_PKG_VERSION"),
        escape(title)
    );
}

/// The footer, the script and the end of the document.
pub(crate) fn tail(out: &mut String) {
    let _ = write!(
        out,
        "<footer><p>Written by isms-lint {}. Statuses, counts and decisions are those of the \
         Statement of Applicability (soa.json); control titles and ids are from ISO/IEC 27001:2022 \
         Annex A, the one-sentence purposes are isms-lint's own words. This page loads nothing \
         from the network.</p></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
}

fn fact(out: &mut String, name: &str, value_html: &str) {
    let _ = write!(out, "<div><dt>{name}</dt><dd>{value_html}</dd></div>");
}

fn short(digest: &str) -> String {
    format!(
        "<span class=\"mono\" title=\"{}\">{}…</span>",
        escape(digest),
        escape(&digest[..digest.len().min(16)])
    )
}

/// The legend: colour, letter and name of each status, with how many controls have it.
pub(crate) fn legend(out: &mut String, soa: &Soa) {
    out.push_str("<ul class=\"legend\" aria-label=\"Legend: status colours and letters\">");
    for s in Status::ALL {
        let n = soa.controls.iter().filter(|r| r.status == s).count();
        let _ = write!(
            out,
            "<li><span class=\"sw {}\" aria-hidden=\"true\">{}</span>{} ({n})</li>",
            status_class(s),
            status_letter(s),
            s.as_str()
        );
    }
    out.push_str("</ul>\n");
    if soa.controls.iter().any(|r| r.conflict.is_some()) {
        out.push_str("<p class=\"totals\"><span class=\"sw st-not-applicable conflict\" aria-hidden=\"true\">X</span> A red frame marks a contradiction: declared not applicable, yet its rules fail.</p>\n");
    }
}

/// The 93 controls as a grid per theme, each cell coloured and lettered by status, with the
/// theme's totals.
pub(crate) fn overview(out: &mut String, soa: &Soa) {
    out.push_str("<section id=\"overview\" aria-labelledby=\"overview-h\">\n<h2 id=\"overview-h\">Overview: the 93 Annex A controls</h2>\n");
    legend(out, soa);
    let sum = crate::soa::summary(soa);
    for t in Theme::ALL {
        let rows: Vec<&Row> = soa
            .controls
            .iter()
            .filter(|r| r.theme == t.as_str())
            .collect();
        let _ = write!(
            out,
            "<h3 id=\"grid-{0}\">{1}</h3>\n<ul class=\"grid\" aria-labelledby=\"grid-{0}\">",
            t.as_str(),
            t.heading()
        );
        for r in &rows {
            let _ = write!(
                out,
                "<li><a class=\"cell {cls}{conflict}\" href=\"#{anchor}\" data-id=\"{id}\" data-status=\"{st}\" title=\"A.{id} {title}: {st}{note}\"><span class=\"cid\">{id}</span><span class=\"sl\" aria-hidden=\"true\">{letter}</span><span class=\"sr\"> {title}: {st}{note}</span></a></li>",
                cls = status_class(r.status),
                conflict = if r.conflict.is_some() { " conflict" } else { "" },
                note = if r.conflict.is_some() {
                    ", with a contradiction"
                } else {
                    ""
                },
                anchor = anchor(&r.id),
                id = escape(&r.id),
                st = r.status.as_str(),
                title = escape(&r.title),
                letter = status_letter(r.status),
            );
        }
        out.push_str("</ul>\n");
        let counts = sum.get(t.as_str()).cloned().unwrap_or_default();
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"totals\" data-theme=\"{}\">{} controls: {}</p>",
            t.as_str(),
            rows.len(),
            parts.join(" · ")
        );
    }
    out.push_str("</section>\n");
}

fn header(out: &mut String, page: &Page<'_>) {
    let m = &page.soa.meta;
    out.push_str("<header class=\"top\">\n<h1>Statement of Applicability</h1>\n");
    let _ = write!(
        out,
        "<p>ISO/IEC 27001:2022 Annex A · {}</p>\n<dl class=\"facts\">",
        escape(&m.repository)
    );
    fact(out, "Repository", &escape(&m.repository));
    fact(
        out,
        "Commit",
        &match &m.commit {
            Some(c) => format!("<span class=\"mono\">{}</span>", escape(c)),
            None => "none recorded".to_string(),
        },
    );
    if let Some(b) = &m.branch {
        fact(out, "Branch", &escape(b));
    }
    fact(
        out,
        "Working tree",
        if m.dirty {
            "<span class=\"dirty\">dirty: uncommitted changes were scanned</span>"
        } else if m.commit.is_some() {
            "clean"
        } else {
            "not a git commit (see the note)"
        },
    );
    fact(out, "Evidence date", &escape(&m.date));
    fact(out, "isms-lint", &escape(&m.tool_version));
    if let Some(d) = &page.facts.rule_pack_digest {
        let rules = page
            .facts
            .rules
            .map(|n| format!("{n} rules, "))
            .unwrap_or_default();
        fact(out, "Rule pack", &format!("{rules}digest {}", short(d)));
    }
    if let Some(d) = &page.facts.bundle_digest {
        fact(out, "Bundle digest", &short(d));
    }
    let open = page.findings.iter().filter(|f| f.is_open()).count();
    let exceptions = page
        .findings
        .iter()
        .filter(|f| f.suppression.is_some())
        .count();
    fact(
        out,
        "Findings",
        &format!("{open} open, {exceptions} suppressed or waived"),
    );
    out.push_str("</dl>\n");
    if let Some(note) = &m.note {
        let _ = writeln!(out, "<p class=\"note\">Note: {}.</p>", escape(note));
    }
    out.push_str("</header>\n");
}

/// Renders one repository's page.
pub fn render(page: &Page<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024 + page.findings.len() * 600);
    head(
        &mut out,
        &format!("Statement of Applicability — {}", page.soa.meta.repository),
    );
    header(&mut out, page);
    out.push_str("<main>\n");
    overview(&mut out, page.soa);
    if let Some(h) = page.history {
        history::trends(&mut out, h, &history::current(page.soa, page.findings));
    }
    let mut by_control: HashMap<&str, Vec<&FindingRecord>> = HashMap::new();
    for f in page.findings {
        for c in &f.controls {
            by_control
                .entry(catalog::normalize_id(c))
                .or_default()
                .push(f);
        }
    }
    let mut reader = SourceReader::new(&page.sources);
    controls(&mut out, page.soa, true, |out, row| {
        let found = by_control
            .get(row.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        control_body(out, page, row, found, &mut reader)
    });
    out.push_str("</main>\n");
    tail(&mut out);
    out
}

/// The filter form and one section per control, by theme; `body` writes a section's content
/// after its heading, purpose and decision, and returns the severities of the open findings it
/// listed (for the severity filter).
pub(crate) fn controls(
    out: &mut String,
    soa: &Soa,
    with_severity: bool,
    mut body: impl FnMut(&mut String, &Row) -> Vec<Severity>,
) {
    out.push_str("<section id=\"controls\" aria-labelledby=\"controls-h\">\n<h2 id=\"controls-h\">Controls</h2>\n");
    out.push_str("<form id=\"filters\" class=\"filters\" role=\"search\" aria-label=\"Filter the controls\" hidden>");
    out.push_str("<label>Status<select name=\"status\"><option value=\"\">any status</option>");
    for s in Status::ALL {
        let _ = write!(out, "<option value=\"{s}\">{s}</option>");
    }
    out.push_str(
        "</select></label><label>Theme<select name=\"theme\"><option value=\"\">any theme</option>",
    );
    for t in Theme::ALL {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            t.as_str(),
            t.heading()
        );
    }
    out.push_str("</select></label>");
    if with_severity {
        out.push_str("<label>Open findings at or above<select name=\"severity\"><option value=\"\">any (or none)</option>");
        for s in Severity::ALL.into_iter().filter(|s| *s > Severity::Info) {
            let _ = write!(out, "<option value=\"{s}\">{s}</option>");
        }
        out.push_str("</select></label>");
    }
    out.push_str("<label>Search<input type=\"search\" name=\"q\" placeholder=\"id, title, rule, file, message…\"></label><button type=\"reset\">Show all</button><output id=\"shown\" aria-live=\"polite\"></output></form>\n");
    for t in Theme::ALL {
        let _ = writeln!(
            out,
            "<div class=\"theme-controls\" data-theme=\"{}\"><h3>{}</h3>",
            t.as_str(),
            t.heading()
        );
        for row in soa.controls.iter().filter(|r| theme_of(r) == t) {
            section(out, row, &mut body);
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

fn section(
    page: &mut String,
    row: &Row,
    body: &mut impl FnMut(&mut String, &Row) -> Vec<Severity>,
) {
    let mut section = String::new();
    let out = &mut section;
    let _ = write!(
        out,
        "<section class=\"control\" id=\"{}\" data-id=\"{}\" data-status=\"{}\" data-theme=\"{}\" data-sev=\"",
        anchor(&row.id),
        escape(&row.id),
        row.status,
        escape(&row.theme)
    );
    // The severities of its open findings, filled in by `body` through a placeholder.
    let sev_at = out.len();
    let _ = write!(
        out,
        "\" aria-labelledby=\"{0}-h\">\n<h4 id=\"{0}-h\">A.{1} {2} <span class=\"badge {3}\">{4} {5}</span>{6}</h4>\n",
        anchor(&row.id),
        escape(&row.id),
        escape(&row.title),
        status_class(row.status),
        status_letter(row.status),
        row.status,
        if row.new_in_2022 {
            " <span class=\"new\">new in 2022</span>"
        } else {
            ""
        }
    );
    if let Some(p) = catalog::purpose(&row.id) {
        let _ = writeln!(out, "<p class=\"purpose\">{}</p>", escape(p));
    }
    out.push_str("<dl class=\"decision\">");
    let dd = |out: &mut String, k: &str, v: &str| {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    };
    dd(out, "Applicability", row.applicability.as_str());
    dd(
        out,
        "Justification",
        &if row.justification.is_empty() {
            "—".to_string()
        } else {
            escape(&row.justification)
        },
    );
    dd(
        out,
        "Owner",
        &if row.owner.is_empty() {
            "—".to_string()
        } else {
            escape(&row.owner)
        },
    );
    let links: Vec<String> = row
        .evidence
        .iter()
        .map(|e| match safe_href(e) {
            Some(u) => format!("<a href=\"{0}\" rel=\"noreferrer\">{0}</a>", escape(u)),
            None => format!("<span class=\"mono\">{}</span>", escape(e)),
        })
        .collect();
    dd(
        out,
        "Evidence",
        &if links.is_empty() {
            "—".to_string()
        } else {
            links.join("<br>")
        },
    );
    if let Some(reason) = &row.reason {
        dd(out, "Why this status", &escape(reason));
    }
    if !row.failing_in.is_empty() {
        dd(out, "Failing in", &escape(&row.failing_in.join(", ")));
    }
    if let Some(c) = &row.conflict {
        dd(
            out,
            "Contradiction",
            &format!("<span class=\"conflict\">⚠ {}</span>", escape(c)),
        );
    }
    out.push_str("</dl>\n");
    let mut sevs = body(out, row);
    sevs.sort_by(|a, b| b.cmp(a));
    sevs.dedup();
    let sevs: Vec<&str> = sevs.iter().map(|s| s.as_str()).collect();
    out.insert_str(sev_at, &sevs.join(" "));
    out.push_str("</section>\n");
    page.push_str(&section);
}

/// The counts table, shared by repository and organisation pages.
pub(crate) fn counts_table(out: &mut String, row: &Row) {
    let c = &row.counts;
    let _ = writeln!(
        out,
        "<table class=\"counts\"><caption class=\"sr\">Counts for A.{}</caption><thead><tr><th scope=\"col\" class=\"n\">Judged</th><th scope=\"col\" class=\"n\">Passed</th><th scope=\"col\" class=\"n\">Failed</th><th scope=\"col\" class=\"n\">Unknown</th><th scope=\"col\" class=\"n\">Open</th><th scope=\"col\" class=\"n\">Suppressed</th><th scope=\"col\" class=\"n\">Waived</th></tr></thead><tbody><tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></tbody></table>",
        escape(&row.id),
        c.judged,
        c.passed,
        c.failed,
        c.unknown,
        row.open,
        row.suppressed,
        row.waived
    );
}

/// The rules table: relation, rationale and what each judged.
pub(crate) fn rules_table(out: &mut String, row: &Row, rules: &BTreeMap<String, RuleInfo>) {
    if row.rules.is_empty() {
        out.push_str("<p class=\"muted\">No automated rule evidences this control: its owner and evidence links carry it.</p>\n");
        return;
    }
    // Rules that judged something first, in a table; those that found nothing to judge in
    // this scan folded below it, so a control with many rules stays readable.
    let (judged, idle): (Vec<_>, Vec<_>) = row.rules.iter().partition(|r| r.counts.judged > 0);
    let rule_cell = |r: &crate::soa::RuleRef| {
        let info = rules.get(&r.id);
        let title = info.map(|i| i.title.as_str()).unwrap_or_default();
        let why = info
            .and_then(|i| i.rationale.get(&row.id))
            .map(String::as_str)
            .unwrap_or("—");
        format!(
            "<td><code>{}</code><br>{}</td><td>{}</td><td>{}</td>",
            escape(&r.id),
            escape(title),
            escape(&r.relation),
            escape(why)
        )
    };
    let head = "<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Relation</th><th scope=\"col\">Why it is evidence</th>";
    if !judged.is_empty() {
        let _ = write!(
            out,
            "<table class=\"rules\"><caption class=\"sr\">Rules evidencing A.{}</caption>{head}<th scope=\"col\" class=\"n\">Judged</th><th scope=\"col\" class=\"n\">Passed</th><th scope=\"col\" class=\"n\">Failed</th><th scope=\"col\" class=\"n\">Unknown</th></tr></thead><tbody>",
            escape(&row.id)
        );
        for r in &judged {
            let _ = write!(
                out,
                "<tr>{}<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                rule_cell(r),
                r.counts.judged,
                r.counts.passed,
                r.counts.failed,
                r.counts.unknown
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !idle.is_empty() {
        let _ = write!(
            out,
            "<details><summary>{} rule(s) found nothing to judge in this scan</summary><table class=\"rules\"><caption class=\"sr\">Rules of A.{} that judged nothing</caption>{head}</tr></thead><tbody>",
            idle.len(),
            escape(&row.id)
        );
        for r in &idle {
            let _ = write!(out, "<tr>{}</tr>", rule_cell(r));
        }
        out.push_str("</tbody></table></details>\n");
    }
}

fn severity_order(f: &FindingRecord) -> std::cmp::Reverse<Severity> {
    std::cmp::Reverse(f.severity)
}

fn control_body(
    out: &mut String,
    page: &Page<'_>,
    row: &Row,
    found: &[&FindingRecord],
    reader: &mut SourceReader,
) -> Vec<Severity> {
    if let Some(h) = page.history {
        history::marks(out, h, &row.id, row.status);
    }
    counts_table(out, row);
    rules_table(out, row, page.rules);
    let mut open: Vec<&FindingRecord> = found.iter().copied().filter(|f| f.is_open()).collect();
    open.sort_by_key(|f| severity_order(f));
    if !open.is_empty() {
        let _ = writeln!(out, "<h5>Open findings ({})</h5>", open.len());
        for (i, f) in open.iter().take(MAX_LISTED).enumerate() {
            finding(out, f, (i < MAX_SNIPPETS).then_some(&mut *reader));
        }
        if open.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "<p class=\"more\">{} more open findings are not listed here; the scan's JSON or SARIF output (findings.json in a bundle) lists every one.</p>",
                open.len() - MAX_LISTED
            );
        }
    }
    let excepted: Vec<&FindingRecord> = found
        .iter()
        .copied()
        .filter(|f| f.suppression.is_some())
        .collect();
    if !excepted.is_empty() {
        let _ = write!(
            out,
            "<h5>Suppressed and waived ({})</h5><table class=\"exceptions\"><caption class=\"sr\">Suppressed and waived findings of A.{}</caption><thead><tr><th scope=\"col\">Where</th><th scope=\"col\">Rule and finding</th><th scope=\"col\">Kind</th><th scope=\"col\">Reason</th><th scope=\"col\">Owner</th><th scope=\"col\">Expires</th></tr></thead><tbody>",
            excepted.len(),
            escape(&row.id)
        );
        for f in excepted.iter().take(MAX_LISTED) {
            let s = f.suppression.as_ref().expect("filtered on suppression");
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}:{}</td><td><code>{}</code> [{}] {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&f.path),
                f.start.line,
                escape(&f.rule_id),
                f.severity,
                escape(&f.message),
                if s.kind == "external" {
                    "waiver (config)"
                } else {
                    "inline suppression"
                },
                escape(&s.justification),
                escape(s.owner.as_deref().unwrap_or("—")),
                escape(s.until.as_deref().unwrap_or("no expiry"))
            );
        }
        out.push_str("</tbody></table>\n");
        if excepted.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "<p class=\"more\">{} more are not listed here.</p>",
                excepted.len() - MAX_LISTED
            );
        }
    }
    let info: Vec<&FindingRecord> = found
        .iter()
        .copied()
        .filter(|f| f.suppression.is_none() && f.severity == Severity::Info)
        .collect();
    if !info.is_empty() {
        let unknown = info.iter().filter(|f| f.unknown).count();
        let _ = write!(
            out,
            "<details><summary>Informational, not counted ({}, of which {unknown} could not be judged before deployment)</summary>",
            info.len()
        );
        for f in info.iter().take(MAX_LISTED) {
            finding(out, f, None);
        }
        out.push_str("</details>\n");
    }
    open.iter().map(|f| f.severity).collect()
}

fn finding(out: &mut String, f: &FindingRecord, reader: Option<&mut SourceReader>) {
    let _ = write!(
        out,
        "<div class=\"finding sev-{0}\" data-sev-item=\"{0}\"><p><span class=\"sev\">{0}</span> <code>{1}</code> {2}</p><p class=\"loc mono\">{3}:{4}:{5}</p>",
        f.severity,
        escape(&f.rule_id),
        escape(&f.message),
        escape(&f.path),
        f.start.line,
        f.start.col
    );
    if let Some(reader) = reader {
        reader.snippet(out, f);
    }
    out.push_str("</div>\n");
}

/// Reads source files once each, when the page is made.
struct SourceReader {
    unavailable: Option<String>,
    files: HashMap<String, Result<Vec<String>, String>>,
}

impl SourceReader {
    fn new(sources: &Sources) -> Self {
        SourceReader {
            unavailable: match sources {
                Sources::Read => None,
                Sources::Unavailable(why) => Some(why.clone()),
            },
            files: HashMap::new(),
        }
    }

    fn snippet(&mut self, out: &mut String, f: &FindingRecord) {
        if let Some(why) = &self.unavailable {
            let _ = writeln!(
                out,
                "<p class=\"gone\">Source not shown: {}.</p>",
                escape(why)
            );
            return;
        }
        let lines = self
            .files
            .entry(f.path.clone())
            .or_insert_with(|| read_lines(Path::new(&f.path)));
        let lines = match lines {
            Ok(l) => l,
            Err(e) => {
                let _ = writeln!(out, "<p class=\"gone\">{}</p>", escape(e));
                return;
            }
        };
        let (first, last) = (f.start.line.max(1), f.end.line.max(f.start.line).max(1));
        if first as usize > lines.len() {
            let _ = writeln!(
                out,
                "<p class=\"gone\">Source not shown: '{}' has {} lines now, the finding is at line {first} (the file changed after the scan).</p>",
                escape(&f.path),
                lines.len()
            );
            return;
        }
        let from = first.saturating_sub(CONTEXT_LINES).max(1);
        let to = (last + CONTEXT_LINES).min(lines.len() as u32);
        let _ = write!(
            out,
            "<pre class=\"src\" aria-label=\"{} lines {from} to {to}\"><code>",
            escape(&f.path)
        );
        for n in from..=to {
            let text = &lines[(n - 1) as usize];
            let shown: String = text.chars().take(MAX_LINE_CHARS).collect();
            let cut = if text.chars().count() > MAX_LINE_CHARS {
                " …"
            } else {
                ""
            };
            let hit = if (first..=last).contains(&n) {
                " class=\"hit\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<span{hit}><i>{n}</i>{}{cut}</span>",
                escape(&shown.replace('\t', "    "))
            );
        }
        out.push_str("</code></pre>\n");
    }
}

fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "Source not shown: '{}' is gone (it was scanned, but no longer exists where the report was made).",
            path.display()
        )),
        Err(e) => Err(format!(
            "Source not shown: '{}' cannot be read: {e}.",
            path.display()
        )),
    }
}

/// The page of a run: the statement, the run's findings and rules, source lines read now.
pub fn render_run(
    run: &crate::pipeline::Run,
    soa: &Soa,
    bundle_digest: Option<String>,
    history: Option<&History>,
) -> String {
    let findings: Vec<FindingRecord> = run.result.findings.iter().map(Into::into).collect();
    let rules = rule_infos(&run.rules);
    render(&Page {
        soa,
        findings: &findings,
        rules: &rules,
        facts: Facts {
            rule_pack_digest: Some(crate::rules::pack_digest(&run.rules)),
            rules: Some(run.rules.rules.len()),
            bundle_digest,
        },
        history,
        sources: Sources::Read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_in_text_and_attributes() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("a\" onmouseover=\"x"), "a&quot; onmouseover=&quot;x");
        assert_eq!(escape("R&D"), "R&amp;D");
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn only_web_links_become_links() {
        assert_eq!(
            safe_href("https://wiki.example/x"),
            Some("https://wiki.example/x")
        );
        assert_eq!(safe_href(" HTTP://a.example "), Some("HTTP://a.example"));
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,<script>"), None);
        assert_eq!(safe_href("https://a.example/\" onclick=\"x"), None);
        assert_eq!(safe_href("//evil.example"), None);
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    fn hostile_soa() -> Soa {
        let mut soa = Soa {
            schema: crate::soa::SCHEMA.to_string(),
            meta: crate::soa::EvidenceMeta {
                date: "2026-11-28".into(),
                repository: "<script>alert('repo')</script>".into(),
                tool_version: "0.1.0".into(),
                note: Some("<img src=x onerror=alert(1)>".into()),
                ..Default::default()
            },
            controls: Vec::new(),
        };
        for c in catalog::controls() {
            soa.controls.push(Row {
                id: c.id.clone(),
                title: c.title.clone(),
                theme: c.theme.as_str().to_string(),
                new_in_2022: c.new_in_2022,
                applicability: crate::soa::Applicability::Applicable,
                justification: "<b>bold</b>".into(),
                owner: "\"quoted\" owner".into(),
                rules: Vec::new(),
                rules_evaluated: 0,
                status: Status::Manual,
                reason: None,
                counts: Default::default(),
                open: 0,
                suppressed: 0,
                waived: 0,
                evidence: vec![
                    "javascript:alert(1)".into(),
                    "https://wiki.example/<x>".into(),
                ],
                conflict: None,
                failing_in: Vec::new(),
            });
        }
        soa
    }

    #[test]
    fn nothing_from_the_data_becomes_markup() {
        let soa = hostile_soa();
        let findings = vec![FindingRecord {
            rule_id: "r<1>".into(),
            severity: Severity::High,
            controls: vec!["8.2".into()],
            message: "container '<script>alert(2)</script>' runs privileged".into(),
            path: "k8s/<script>.yaml".into(),
            start: Position { line: 1, col: 1 },
            end: Position { line: 1, col: 2 },
            unknown: false,
            suppression: None,
        }];
        let rules = BTreeMap::new();
        let html = render(&Page {
            soa: &soa,
            findings: &findings,
            rules: &rules,
            facts: Facts::default(),
            history: None,
            sources: Sources::Read,
        });
        // One script element, ours; no element or handler from the data.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>bold"));
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(html.contains("<a href=\"https://wiki.example/&lt;x&gt;\""));
        assert!(html.contains("&quot;quoted&quot; owner"));
        // The file does not exist: the page says so instead of showing stale lines.
        assert!(html.contains("is gone"), "{html}");
        // The policy forbids every load and any script but ours.
        assert!(html.contains("default-src &#39;none&#39;; style-src &#39;sha256-"));
        assert_eq!(html.matches("<section class=\"control\"").count(), 93);
        assert_eq!(html.matches("<a class=\"cell ").count(), 93);
    }
}
