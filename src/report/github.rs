//! GitHub Actions workflow commands: one annotation per open finding, on its file and line; a
//! finding about the repository as a whole is a file-less notice.

use std::fmt::Write as _;

use super::{annex, ReportInput};
use crate::discover::NoticeLevel;
use crate::rules::Severity;

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders `::error file=…,line=…::…` lines.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = String::new();
    for f in input.scan.findings.iter().filter(|f| f.is_open()) {
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let controls: Vec<String> = f.controls.iter().map(|c| annex(c)).collect();
        let title = format!("{} [{}] ({})", f.rule_id, f.severity, controls.join(" "));
        if let Some(root) = input.scan.repository_root(f) {
            // About the repository as a whole: no file or line to annotate, a file-less notice.
            let about = if root == "." {
                String::new()
            } else {
                format!(" (repository {root})")
            };
            let _ = writeln!(
                out,
                "::notice title={}::{}",
                property(&title),
                data(&format!(
                    "{}{about}\n{}",
                    f.message,
                    input.remediation(&f.rule_id)
                ))
            );
            continue;
        }
        let _ = write!(
            out,
            "::{level} file={},line={},col={}",
            property(&f.path),
            f.start.line,
            f.start.col
        );
        if f.end.line >= f.start.line {
            let _ = write!(out, ",endLine={}", f.end.line);
        }
        let _ = writeln!(
            out,
            ",title={}::{}",
            property(&title),
            data(&format!("{}\n{}", f.message, input.remediation(&f.rule_id)))
        );
    }
    for e in input.config_errors {
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title=isms-lint rule error::{}",
            property(&e.path),
            e.line,
            e.col,
            data(&e.message)
        );
    }
    for e in &input.scan.rule_errors {
        let _ = writeln!(
            out,
            "::error file={},line={},title={}::{}",
            property(&e.path),
            e.line,
            property(&format!("rule {} failed to evaluate", e.rule_id)),
            data(&e.message)
        );
    }
    for n in &input.scan.notices {
        let level = match n.level {
            NoticeLevel::Error => "error",
            NoticeLevel::Warning => "warning",
            NoticeLevel::Note => "notice",
        };
        let _ = writeln!(
            out,
            "::{level} file={}::{}",
            property(&n.path),
            data(&n.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_github_expects() {
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("x: y, z"), "x%3A y%2C z");
    }
}
