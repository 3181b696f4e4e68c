//! The organisation view: repositories × controls as a heatmap in the same status colours,
//! sortable by failing controls, each repository linking to its own page written next to it,
//! then the organisation statement control by control.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{
    anchor, controls, counts_table, escape, head, legend, overview, render, rule_infos_from_sarif,
    rules_table, status_class, status_letter, tail, Facts, FindingRecord, Page, RuleInfo, Sources,
};
use crate::catalog::{self, Theme};
use crate::soa::{Soa, Status};

/// One repository of the organisation view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRepo {
    /// Repository name.
    pub repository: String,
    /// Commit of its bundle.
    pub commit: Option<String>,
    /// Whether its bundle scanned uncommitted changes.
    pub dirty: bool,
    /// Evidence date.
    pub date: String,
    /// Its bundle's digest.
    pub bundle_digest: String,
    /// The file name of its page, next to the organisation page.
    pub page: String,
    /// Status of each control in its statement.
    pub statuses: BTreeMap<String, Status>,
}

impl OrgRepo {
    /// How many controls fail in this repository.
    pub fn failing(&self) -> usize {
        self.statuses
            .values()
            .filter(|s| **s == Status::Failing)
            .count()
    }
}

/// The file name of a repository's page: `repo-<owner>-<name>-<commit>.html`, letters, digits,
/// `-`, `_` and `.` only.
pub fn page_name(repository: &str, commit: Option<&str>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .trim_matches(['-', '.'])
            .to_string()
    };
    let mut name = format!("repo-{}", clean(repository));
    if let Some(c) = commit {
        let _ = write!(name, "-{}", clean(&c[..c.len().min(12)]));
    }
    name.push_str(".html");
    name
}

/// Whether `name` is one of the pages an organisation merge writes.
pub fn is_org_page(name: &str) -> bool {
    name == "soa.html"
        || (name.starts_with("repo-") && name.ends_with(".html") && !name.contains('/'))
}

/// A repository's page for the organisation view: its bundle's own `soa.html` (verified with
/// the bundle, source lines as they were when it was written) when it has one; otherwise one
/// rendered from its `soa.json`, `findings.json` and `results.sarif`, without source lines.
pub fn repository_page(bundle: &Path, soa: &Soa) -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string(bundle.join("soa.html")) {
        return Ok(text);
    }
    #[derive(serde::Deserialize)]
    struct FindingsFile {
        findings: Vec<FindingRecord>,
    }
    let read = |f: &str| {
        std::fs::read_to_string(bundle.join(f))
            .map_err(|e| format!("cannot read '{}': {e}", bundle.join(f).display()))
    };
    let findings: FindingsFile = serde_json::from_str(&read("findings.json")?).map_err(|e| {
        format!(
            "'{}' does not read: {e}",
            bundle.join("findings.json").display()
        )
    })?;
    let rules = rule_infos(bundle);
    Ok(render(&Page {
        soa,
        findings: &findings.findings,
        rules: &rules,
        facts: Facts::default(),
        history: None,
        sources: Sources::Unavailable(
            "this page was made by `evidence merge` from a bundle written without one, away from the repository".to_string(),
        ),
    }))
}

/// Rule titles and rationales from a bundle's SARIF (empty when it has none).
pub fn rule_infos(bundle: &Path) -> BTreeMap<String, RuleInfo> {
    std::fs::read(bundle.join("results.sarif"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|v| rule_infos_from_sarif(&v))
        .unwrap_or_default()
}

/// The organisation page.
pub fn render_org(
    merged: &Soa,
    repos: &[OrgRepo],
    rules: &BTreeMap<String, RuleInfo>,
    bundle_digest: &str,
) -> String {
    let mut out = String::with_capacity(128 * 1024 + repos.len() * 8 * 1024);
    head(&mut out, "Organisation Statement of Applicability");
    out.push_str("<header class=\"top\">\n<h1>Organisation Statement of Applicability</h1>\n");
    let _ = write!(
        out,
        "<p>ISO/IEC 27001:2022 Annex A · {} repositories</p>\n<dl class=\"facts\">",
        repos.len()
    );
    let fact = |out: &mut String, k: &str, v: &str| {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    fact(&mut out, "Repositories", &repos.len().to_string());
    let dates: Vec<&str> = repos.iter().map(|r| r.date.as_str()).collect();
    let (first, last) = (
        dates.iter().min().copied().unwrap_or("—"),
        dates.iter().max().copied().unwrap_or("—"),
    );
    fact(
        &mut out,
        "Evidence dates",
        &escape(&if first == last {
            first.to_string()
        } else {
            format!("{first} to {last}")
        }),
    );
    let dirty = repos.iter().filter(|r| r.dirty).count();
    fact(
        &mut out,
        "Working trees",
        &if dirty == 0 {
            "all clean".to_string()
        } else {
            format!("<span class=\"dirty\">{dirty} with uncommitted changes</span>")
        },
    );
    fact(&mut out, "isms-lint", &escape(&merged.meta.tool_version));
    fact(
        &mut out,
        "Merge digest",
        &format!(
            "<span class=\"mono\" title=\"{0}\">{1}…</span>",
            escape(bundle_digest),
            escape(&bundle_digest[..bundle_digest.len().min(16)])
        ),
    );
    out.push_str("</dl>\n");
    if let Some(note) = &merged.meta.note {
        let _ = writeln!(out, "<p class=\"note\">Note: {}.</p>", escape(note));
    }
    out.push_str("</header>\n<main>\n");
    heatmap(&mut out, merged, repos);
    overview(&mut out, merged);
    controls(&mut out, merged, false, |out, row| {
        counts_table(out, row);
        out.push_str("<h5>By repository</h5><ul class=\"per-repo\">");
        for r in repos {
            let s = r
                .statuses
                .get(&row.id)
                .copied()
                .unwrap_or(Status::Undecided);
            let _ = write!(
                out,
                "<li><span class=\"sw {}\" aria-hidden=\"true\">{}</span> <a href=\"{}#{}\">{}</a>: {s}</li>",
                status_class(s),
                status_letter(s),
                escape(&r.page),
                anchor(&row.id),
                escape(&r.repository)
            );
        }
        out.push_str("</ul>\n");
        rules_table(out, row, rules);
        Vec::new()
    });
    out.push_str("</main>\n");
    tail(&mut out);
    out
}

fn heatmap(out: &mut String, merged: &Soa, repos: &[OrgRepo]) {
    out.push_str("<section id=\"heatmap\" aria-labelledby=\"heatmap-h\">\n<h2 id=\"heatmap-h\">Repositories × controls</h2>\n");
    legend(out, merged);
    out.push_str("<div class=\"sort-buttons\"><span>Order repositories by</span><button type=\"button\" data-sort=\"failing\" data-table=\"heat\" aria-pressed=\"true\">failing controls</button><button type=\"button\" data-sort=\"name\" data-table=\"heat\" aria-pressed=\"false\">name</button></div>\n");
    out.push_str("<div class=\"heat-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Heatmap, scrolls sideways\"><table class=\"heat\" id=\"heat\"><caption class=\"sr\">Status of each control in each repository</caption><thead><tr><th scope=\"col\" rowspan=\"2\" class=\"repo\">Repository</th><th scope=\"col\" rowspan=\"2\" class=\"n\">Failing</th>");
    for t in Theme::ALL {
        let n = catalog::controls().iter().filter(|c| c.theme == t).count();
        let _ = write!(
            out,
            "<th scope=\"colgroup\" colspan=\"{n}\" class=\"theme\">{}</th>",
            t.heading()
        );
    }
    out.push_str("</tr><tr>");
    for c in catalog::controls() {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"ctl\" title=\"A.{0} {1}\">{0}</th>",
            escape(&c.id),
            escape(&c.title)
        );
    }
    out.push_str("</tr></thead><tbody>");
    let mut order: Vec<&OrgRepo> = repos.iter().collect();
    order.sort_by(|a, b| {
        b.failing()
            .cmp(&a.failing())
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.commit.cmp(&b.commit))
    });
    for r in order {
        let commit = r
            .commit
            .as_deref()
            .map(|c| c[..c.len().min(10)].to_string())
            .unwrap_or_else(|| "no commit".to_string());
        let _ = write!(
            out,
            "<tr data-name=\"{0}\" data-failing=\"{1}\"><th scope=\"row\" class=\"repo\"><a href=\"{2}\">{0}</a> <span class=\"mono\">{3}</span></th><td class=\"fail-count\">{1}</td>",
            escape(&r.repository),
            r.failing(),
            escape(&r.page),
            escape(&commit)
        );
        for c in catalog::controls() {
            let s = r.statuses.get(&c.id).copied().unwrap_or(Status::Undecided);
            let _ = write!(
                out,
                "<td class=\"hm {}\" title=\"{} A.{} {}: {s}\">{}</td>",
                status_class(s),
                escape(&r.repository),
                escape(&c.id),
                escape(&c.title),
                status_letter(s)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n<p class=\"muted\">Each repository's name opens its own page (written next to this one). Letters: F failing, P passing, U unknown, N not evaluated, M manual, ? undecided, X not applicable.</p>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_are_plain_file_names() {
        assert_eq!(
            page_name("acme/payments", Some("0123456789abcdef")),
            "repo-acme-payments-0123456789ab.html"
        );
        assert_eq!(page_name("../../etc/passwd", None), "repo-etc-passwd.html");
        assert_eq!(
            page_name("<script>x</script>", None),
            "repo-script-x--script.html"
        );
        assert!(is_org_page("repo-a-b.html"));
        assert!(is_org_page("soa.html"));
        assert!(!is_org_page("soa.md"));
        assert!(!is_org_page("sub/repo-a.html"));
    }
}
