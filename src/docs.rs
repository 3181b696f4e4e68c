//! Documentation generated from the rules themselves: `docs/rules.md` (one section per rule,
//! with its controls, rationale, examples from its fixtures, remediation and CloudFormation /
//! Terraform twin) and `docs/controls.md` (the coverage matrix of the 93 controls, with what the
//! rules of each automated control evidence and what they cannot). A test fails when they drift.
//!
//! Two data files feed them: `data/twins.tsv` (which CloudFormation and Terraform rules judge the
//! same setting, checked by `tests/twins.rs`) and `data/control-notes.tsv` (one line per
//! automated control, in the project's own words).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use include_dir::{include_dir, Dir};

use crate::catalog::{self, Theme};
use crate::checks::BUILTIN_CHECKS;
use crate::inputs::Kind;
use crate::report::annex_with_title;
use crate::rules::{Relation, Rule, RuleSet};

static FIXTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures");

const TWINS_TSV: &str = include_str!("../data/twins.tsv");
const CONTROL_NOTES_TSV: &str = include_str!("../data/control-notes.tsv");

/// One row of `data/twins.tsv`: a CloudFormation rule and its Terraform twin, or a rule of one
/// side with the reason why the other cannot have it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Twin {
    /// The CloudFormation rule (`None` for `-`).
    pub cloudformation: Option<String>,
    /// The Terraform rule (`None` for `-`).
    pub terraform: Option<String>,
    /// Why the other side has no twin (empty for a pair).
    pub why_none: String,
    /// 1-based line in `data/twins.tsv`.
    pub line: usize,
}

fn cell(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s != "-").then(|| s.to_string())
}

/// The rows of `data/twins.tsv` (comments and the header skipped).
pub fn twins() -> Vec<Twin> {
    TWINS_TSV
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|(i, l)| {
            let mut cols = l.split('\t');
            Twin {
                cloudformation: cols.next().and_then(cell),
                terraform: cols.next().and_then(cell),
                why_none: cols.next().unwrap_or("").trim().to_string(),
                line: i + 1,
            }
        })
        .collect()
}

/// The twin of a rule, if `data/twins.tsv` pairs it with one.
pub fn twin_of(rule_id: &str) -> Option<String> {
    twins()
        .into_iter()
        .find_map(|t| match (&t.cloudformation, &t.terraform) {
            (Some(c), Some(f)) if c == rule_id => Some(f.clone()),
            (Some(c), Some(f)) if f == rule_id => Some(c.clone()),
            _ => None,
        })
}

/// Whether a rule must be listed in `data/twins.tsv`: every CloudFormation rule and every
/// Terraform rule about AWS.
fn needs_twin_row(r: &Rule) -> bool {
    r.kinds.contains(&Kind::Cloudformation)
        || (r.kinds.contains(&Kind::Terraform) && r.id.starts_with("tf-aws-"))
}

/// What is wrong with the twin table for `set`: rules missing from it or listed twice, unknown
/// ids, rows on the wrong side, rows without a twin or a reason, and twins whose controls or
/// relations differ. Empty when the table holds.
pub fn twin_problems(set: &RuleSet) -> Vec<String> {
    let by_id: BTreeMap<&str, &Rule> = set.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for t in twins() {
        let at = format!("data/twins.tsv:{}", t.line);
        for (id, kind) in [
            (&t.cloudformation, Kind::Cloudformation),
            (&t.terraform, Kind::Terraform),
        ] {
            let Some(id) = id else { continue };
            *seen.entry(id.clone()).or_default() += 1;
            match by_id.get(id.as_str()) {
                None => problems.push(format!("{at}: no rule '{id}'")),
                Some(r) if !r.kinds.contains(&kind) => {
                    problems.push(format!("{at}: '{id}' does not judge {kind} documents"));
                }
                Some(_) => {}
            }
        }
        match (&t.cloudformation, &t.terraform) {
            (None, None) => problems.push(format!("{at}: a row needs at least one rule")),
            (Some(c), Some(f)) => {
                if let (Some(a), Some(b)) = (by_id.get(c.as_str()), by_id.get(f.as_str())) {
                    let links = |r: &Rule| {
                        let mut v: Vec<(String, &'static str)> = r
                            .controls
                            .iter()
                            .map(|l| (l.id.clone(), l.relation.as_str()))
                            .collect();
                        v.sort();
                        v
                    };
                    if links(a) != links(b) {
                        problems.push(format!(
                            "{at}: twins map to different controls: {c} {:?}, {f} {:?}",
                            links(a),
                            links(b)
                        ));
                    }
                }
            }
            _ if t.why_none.is_empty() => problems.push(format!(
                "{at}: a rule without a twin must say why none can exist"
            )),
            _ => {}
        }
    }
    for r in set.rules.iter().filter(|r| needs_twin_row(r)) {
        match seen.get(&r.id) {
            None => problems.push(format!(
                "{} is not in data/twins.tsv: name its twin, or '-' and why none can exist",
                r.id
            )),
            Some(n) if *n > 1 => {
                problems.push(format!("{} is listed {n} times in data/twins.tsv", r.id));
            }
            _ => {}
        }
    }
    problems
}

/// What the rules of one automated control evidence and what they cannot (`data/control-notes.tsv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlNote {
    /// What passing rules show an auditor.
    pub evidences: String,
    /// What they cannot show, left to the organisation's own evidence.
    pub cannot: String,
}

/// The notes of `data/control-notes.tsv`, by control id.
pub fn control_notes() -> BTreeMap<String, ControlNote> {
    CONTROL_NOTES_TSV
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let id = cols.next()?.trim().to_string();
            Some((
                id,
                ControlNote {
                    evidences: cols.next().unwrap_or("").trim().to_string(),
                    cannot: cols.next().unwrap_or("").trim().to_string(),
                },
            ))
        })
        .collect()
}

/// Controls that at least one rule of `set` evidences.
pub fn automated_controls(set: &RuleSet) -> Vec<String> {
    catalog::controls()
        .iter()
        .filter(|c| {
            set.rules
                .iter()
                .any(|r| r.controls.iter().any(|l| l.id == c.id))
        })
        .map(|c| c.id.clone())
        .collect()
}

/// Controls that configuration files cannot evidence: people and physical controls are manual by
/// nature; these organisational ones too.
const MANUAL_BY_NATURE_ORG: &[&str] = &[
    "5.1", "5.2", "5.4", "5.5", "5.6", "5.8", "5.10", "5.11", "5.13", "5.14", "5.16", "5.19",
    "5.20", "5.22", "5.25", "5.26", "5.27", "5.29", "5.31", "5.33", "5.34", "5.35", "5.37",
];

/// Whether a control is manual by nature (no configuration can evidence it).
pub fn manual_by_nature(id: &str) -> bool {
    catalog::find(id).is_some_and(|c| matches!(c.theme, Theme::People | Theme::Physical))
        || MANUAL_BY_NATURE_ORG.contains(&id)
}

/// The first example of a rule's fixtures: (`fail` or `pass`) → (file name, content).
pub fn example(rule_id: &str, which: &str) -> Option<(String, String)> {
    let dir = FIXTURES.get_dir(format!("{rule_id}/{which}"))?;
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
        .into_iter()
        .find(|(name, _)| !name.ends_with(".expect"))
}

fn collect(dir: &Dir<'static>, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        let name = f
            .path()
            .components()
            .skip(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push((name, String::from_utf8_lossy(f.contents()).into_owned()));
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// The fence language of an example file: its input's, else by extension.
fn fence_lang(name: &str) -> &'static str {
    let path = std::path::Path::new(name);
    match crate::inputs::claim(path) {
        Some((input, _)) => input.fence(path),
        None if name.to_ascii_lowercase().ends_with(".md") => "markdown",
        None => "text",
    }
}

fn fenced(out: &mut String, title: &str, ex: Option<(String, String)>) {
    if let Some((name, body)) = ex {
        let body: String = body.lines().take(60).collect::<Vec<_>>().join("\n");
        let _ = writeln!(
            out,
            "{title} (`{name}`):\n\n```{}\n{body}\n```\n",
            fence_lang(&name)
        );
    }
}

/// One rule's section.
pub fn rule_section(r: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n\n**{}**\n", r.id, r.title);
    let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
    let _ = writeln!(
        out,
        "- Severity: **{}**\n- Applies to: {}",
        r.severity,
        kinds.join(", ")
    );
    if let Some(twin) = twin_of(&r.id) {
        let _ = writeln!(
            out,
            "- Twin: [`{twin}`](#{twin}) (same controls and relations)"
        );
    }
    out.push('\n');
    if !r.description.is_empty() {
        let _ = writeln!(out, "{}\n", r.description);
    }
    out.push_str("| Annex A control | Relation | Why this is evidence |\n|---|---|---|\n");
    for c in &r.controls {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            annex_with_title(&c.id),
            c.relation.as_str(),
            c.rationale.replace('|', "\\|")
        );
    }
    let _ = writeln!(
        out,
        "\nChecks (CEL, true = compliant): `{}`\n",
        one_line(&r.verdict().assert.source)
    );
    if let Some(s) = &r.selection().select {
        let _ = writeln!(out, "On each of: `{}`\n", one_line(&s.source));
    }
    if let Some(w) = &r.selection().when {
        let _ = writeln!(out, "When: `{}`\n", one_line(&w.source));
    }
    fenced(&mut out, "Failing example", example(&r.id, "fail"));
    fenced(&mut out, "Passing example", example(&r.id, "pass"));
    let _ = writeln!(out, "**Remediation:** {}\n", r.remediation);
    for reference in &r.references {
        let _ = writeln!(out, "- <{reference}>");
    }
    if !r.references.is_empty() {
        out.push('\n');
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('`', "'")
}

/// `docs/rules.md`.
pub fn rules_markdown(set: &RuleSet) -> String {
    let mut out = String::from(
        "# Rules\n\n<!-- Generated by `isms-lint rules --format markdown`; do not edit by hand. -->\n\n",
    );
    let _ = writeln!(
        out,
        "{} built-in rules. Each section lists the Annex A controls the rule evidences, how strongly \
         (`full`, `partial`, `supports`) and why, then a failing and a passing example taken from its \
         fixtures. isms-lint also reports these checks of its own: {}.\n",
        set.rules.len(),
        BUILTIN_CHECKS
            .iter()
            .map(|c| format!("`{}`", c.id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut by_kind: BTreeMap<String, Vec<&Rule>> = BTreeMap::new();
    for r in &set.rules {
        by_kind.entry(r.kinds[0].to_string()).or_default().push(r);
    }
    out.push_str("| Rule | Severity | Kinds | Controls |\n|---|---|---|---|\n");
    for r in &set.rules {
        let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
        let controls: Vec<String> = r.controls.iter().map(|c| format!("A.{}", c.id)).collect();
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} |",
            r.id,
            r.id,
            r.severity,
            kinds.join(", "),
            controls.join(", ")
        );
    }
    out.push('\n');
    for rules in by_kind.values() {
        for r in rules {
            out.push_str(&rule_section(r));
        }
    }
    out
}

/// `docs/controls.md`: the 93 controls by theme with the rules that evidence each.
pub fn controls_markdown(set: &RuleSet) -> String {
    let mut by_control: BTreeMap<&str, Vec<(&str, Relation)>> = BTreeMap::new();
    for r in &set.rules {
        for c in &r.controls {
            by_control
                .entry(c.id.as_str())
                .or_default()
                .push((&r.id, c.relation));
        }
    }
    let covered = catalog::controls()
        .iter()
        .filter(|c| by_control.contains_key(c.id.as_str()))
        .count();
    let new_covered = catalog::controls()
        .iter()
        .filter(|c| c.new_in_2022 && by_control.contains_key(c.id.as_str()))
        .count();
    let notes = control_notes();
    let mut out = String::from(
        "# Annex A coverage\n\n<!-- Generated by `isms-lint controls --format markdown`; do not edit by hand. -->\n\n",
    );
    let _ = writeln!(
        out,
        "{covered} of 93 ISO/IEC 27001:2022 Annex A controls are evidenced by at least one of the {} \
         built-in rules, {new_covered} of the 11 controls new in 2022 among them. *Manual by nature* \
         marks controls no configuration file can evidence (people, physical, and most organisational \
         controls): the Statement of Applicability records them with owners and evidence links instead. \
         Under each theme, one line per automated control says what its rules evidence and what they \
         cannot.\n",
        set.rules.len()
    );
    for theme in Theme::ALL {
        let _ = writeln!(
            out,
            "## {}\n\n| Control | New in 2022 | Rules (relation) | Evidence |\n|---|---|---|---|",
            theme.heading()
        );
        for c in catalog::controls().iter().filter(|c| c.theme == theme) {
            let rules = by_control.get(c.id.as_str());
            let list = rules
                .map(|rs| {
                    rs.iter()
                        .map(|(id, rel)| format!("[`{id}`](rules.md#{id}) ({})", rel.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "—".to_string());
            let evidence = match (rules.map_or(0, Vec::len), manual_by_nature(&c.id)) {
                (0, true) => "manual by nature".to_string(),
                (0, false) => "manual (no rule yet)".to_string(),
                (n, _) => format!("automated ({n} rule{})", if n == 1 { "" } else { "s" }),
            };
            let _ = writeln!(
                out,
                "| {} {} | {} | {list} | {evidence} |",
                c.annex_id(),
                c.title,
                if c.new_in_2022 { "yes" } else { "" }
            );
        }
        out.push('\n');
        let automated: Vec<_> = catalog::controls()
            .iter()
            .filter(|c| c.theme == theme && by_control.contains_key(c.id.as_str()))
            .collect();
        if !automated.is_empty() {
            out.push_str("What the rules evidence, and what they cannot:\n\n");
            for c in automated {
                let note = notes.get(&c.id);
                let _ = writeln!(
                    out,
                    "- **{} {}.** {} *Not evidenced:* {}",
                    c.annex_id(),
                    c.title,
                    note.map_or("(no note yet)", |n| n.evidences.as_str()),
                    note.map_or("(no note yet)", |n| n.cannot.as_str()),
                );
            }
            out.push('\n');
        }
    }
    out
}

/// The table of CEL helpers in `docs/rule-format.md` (between its `helpers` markers): every
/// helper the rule environment defines, generic ones first, then each input's, as
/// `isms-lint rules --helpers` lists them.
pub fn helpers_markdown() -> String {
    let mut out = String::from("| helper | returns |\n|---|---|\n");
    for h in crate::inputs::all_helpers() {
        let _ = writeln!(
            out,
            "| `{}` | {} |",
            h.signature.replace('|', "\\|"),
            h.doc
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace('|', "\\|")
        );
    }
    out
}
