//! One line per finding, `path:line:col: severity rule message` (like ruff's concise output), for
//! editors, grep and problem matchers; then the counts and the verdict unless `--quiet`.

use std::fmt::Write as _;

use super::{place, ReportInput};

/// Renders the concise report.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = String::new();
    for f in input.listed() {
        let suppressed = if f.is_open() { "" } else { " (suppressed)" };
        let _ = writeln!(
            out,
            "{}: {} {} {}{suppressed}",
            place(input, f),
            f.severity,
            f.rule_id,
            one_line(&f.message)
        );
    }
    for e in input.config_errors {
        let _ = writeln!(
            out,
            "{}:{}:{}: error config {}",
            e.path,
            e.line,
            e.col,
            one_line(&e.message)
        );
    }
    for e in &input.scan.rule_errors {
        let _ = writeln!(
            out,
            "{}:{}:1: error rule-error rule {} failed: {}",
            e.path,
            e.line,
            e.rule_id,
            one_line(&e.message)
        );
    }
    for n in &input.scan.notices {
        let _ = writeln!(out, "{}: {:?} {}", n.path, n.level, one_line(&n.message));
    }
    if !input.quiet {
        let by_sev = input.by_severity();
        let open: usize = by_sev.values().sum();
        let parts: Vec<String> = crate::rules::Severity::ALL
            .iter()
            .filter_map(|s| by_sev.get(s).map(|n| format!("{n} {s}")))
            .collect();
        let _ = write!(
            out,
            "Found {open} open finding{}",
            if open == 1 { "" } else { "s" }
        );
        if !parts.is_empty() {
            let _ = write!(out, " ({})", parts.join(", "));
        }
        let _ = writeln!(out, ", {} suppressed or waived.", input.suppressed());
        if let Some(min) = input.fail_on {
            let verdict = if input.fails() { "FAILED" } else { "passed" };
            let _ = writeln!(out, "Result: {verdict} (fail-on: {min}).");
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
