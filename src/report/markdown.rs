//! A Markdown summary for people: verdict, findings by control and severity, the most severe
//! findings first. Everything that comes from the scanned files (paths, messages) is escaped, so a
//! file name cannot add links, images or HTML to a job summary.

use std::fmt::Write as _;

use super::{annex_with_title, ReportInput};
use crate::finding::Finding;
use crate::rules::Severity;

/// Most findings listed in the table.
const TOP: usize = 50;

/// Renders the summary.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = String::from("## isms-lint: ISO/IEC 27001:2022 Annex A checks\n\n");
    let by_sev = input.by_severity();
    let open: usize = by_sev.values().sum();
    let verdict = if input.has_errors() {
        "⛔ error"
    } else if input.fails() {
        "❌ failed"
    } else {
        "✅ passed"
    };
    let _ = writeln!(
        out,
        "**{verdict}** — {open} open finding(s), {} suppressed or waived, {} file(s) scanned with {} rule(s).\n",
        input.suppressed(),
        input.scan.files_scanned,
        input.rules.rules.len()
    );
    if open > 0 {
        out.push_str("| Severity | Open |\n|---|---:|\n");
        for s in Severity::ALL {
            if let Some(n) = by_sev.get(&s) {
                let _ = writeln!(out, "| {s} | {n} |");
            }
        }
        out.push_str("\n| Annex A control | Open findings |\n|---|---:|\n");
        for (c, n) in input.by_control() {
            let _ = writeln!(out, "| {} | {n} |", annex_with_title(&c));
        }
        let _ = writeln!(
            out,
            "\n### Findings\n\n| Severity | Rule | Location | Message |\n|---|---|---|---|"
        );
        let mut listed: Vec<&Finding> = input
            .scan
            .findings
            .iter()
            .filter(|f| f.is_open_violation())
            .collect();
        // Most severe first; within a severity the report's own order (path, line, rule).
        listed.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in listed.into_iter().take(TOP) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                f.severity,
                escape(&f.rule_id),
                match input.scan.repository_root(f) {
                    Some(root) => format!("repository {}", escape(root)),
                    None => escape(&format!("{}:{}", f.path, f.start.line)),
                },
                escape(&f.message)
            );
        }
        if open > TOP {
            let _ = writeln!(out, "\n…and {} more (see the SARIF report).", open - TOP);
        }
    }
    let errors = input.error_count();
    if errors > 0 {
        let _ = writeln!(
            out,
            "\n⚠️ {errors} rule, config or file error(s): see the job log."
        );
    }
    out
}

/// Text as literal Markdown inside a table cell: every ASCII punctuation character is
/// backslash-escaped (CommonMark allows it for all of them), so `` ` ``, `|`, `<`, `[`, `*`, `&`…
/// cannot start code, cells, HTML, links, emphasis or entities; line breaks and other control
/// characters become spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn file_names_cannot_inject_markdown_or_html() {
        // `.` and `:` too: no autolink of `www.…` or `https://…` in a file name
        assert_eq!(escape("k8s/app.yaml:12"), "k8s\\/app\\.yaml\\:12");
        let hostile = "x`|<img src=x onerror=alert(1)>[a](https://e.example)\n## h&amp;";
        let e = escape(hostile);
        // no punctuation is left without its backslash, and no line break
        let mut chars = e.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                assert!(
                    chars.next().is_some_and(|n| n.is_ascii_punctuation()),
                    "{e}"
                );
            } else {
                assert!(
                    !c.is_ascii_punctuation() && !c.is_control(),
                    "{c:?} unescaped in {e}"
                );
            }
        }
        assert!(
            e.contains("\\<img src\\=x onerror\\=alert\\(1\\)\\>"),
            "{e}"
        );
        // every character but the escapes is kept
        assert_eq!(e.replace('\\', ""), hostile.replace('\n', " "));
    }
}
