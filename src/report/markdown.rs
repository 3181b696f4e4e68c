//! A Markdown summary for people: verdict, findings by control and severity, top findings.

use std::fmt::Write as _;

use super::{annex_with_title, ReportInput};
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
        for f in input
            .scan
            .findings
            .iter()
            .filter(|f| f.is_open_violation())
            .take(TOP)
        {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}:{}` | {} |",
                f.severity,
                f.rule_id,
                f.path,
                f.start.line,
                f.message.replace('|', "\\|").replace('\n', " ")
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
