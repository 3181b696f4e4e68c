//! The terminal report: one miette diagnostic per finding, pointing at the offending line,
//! then a summary by severity and by control.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::{annex, annex_with_title, ReportInput};
use crate::diagnostic::offset_of;
use crate::finding::Finding;
use crate::rules::Severity;

struct Shown<'a> {
    f: &'a Finding,
    label: String,
    help: String,
    src: Option<NamedSource<String>>,
    offset: usize,
    len: usize,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.f, f)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}{}", self.f.severity, self.f.message, via(self.f))
    }
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.f.rule_id))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.f.severity {
            Severity::Critical | Severity::High => miette::Severity::Error,
            Severity::Medium => miette::Severity::Warning,
            Severity::Low | Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.help.is_empty()).then(|| Box::new(&self.help) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src.as_ref()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), (self.offset, self.len)),
        )))
    }
}

/// ` (via module call at main.tf:3, via module call at …)` for a finding in a module evaluated
/// through calls, innermost first (` (via kustomization at overlays/prod/kustomization.yaml:1)`
/// for an object rendered by kustomize); empty otherwise.
fn via(f: &Finding) -> String {
    if f.related.is_empty() {
        return String::new();
    }
    let calls: Vec<String> = f
        .related
        .iter()
        .map(|r| format!("via {} at {}:{}", r.via, r.path, r.start.line))
        .collect();
    format!(" ({})", calls.join(", "))
}

/// Renders findings, errors and the summary.
pub fn render(input: &ReportInput<'_>, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .with_width(110);
    let mut out = String::new();
    let mut sources: HashMap<&str, Option<String>> = HashMap::new();
    for f in input.listed() {
        let root = input.scan.repository_root(f);
        let text = match root {
            Some(_) => None,
            None => sources
                .entry(f.path.as_str())
                .or_insert_with(|| std::fs::read_to_string(&f.path).ok())
                .clone(),
        };
        let controls: Vec<String> = f.controls.iter().map(|c| annex_with_title(c)).collect();
        let mut help = input.remediation(&f.rule_id);
        if let Some(root) = root {
            // no source line to label: the place and the controls go with the help
            help = format!("repository: {root}\n{}\n{help}", controls.join("; "));
        }
        if let Some(s) = &f.suppression {
            let _ = write!(help, "\nsuppressed ({:?}): {}", s.kind, s.justification);
        }
        let (offset, len) = match &text {
            Some(t) => {
                let start = offset_of(t, f.start.line, f.start.col);
                let line_end = t[start..].find('\n').map_or(t.len(), |i| start + i);
                let end = if f.end.line == f.start.line && f.end.col > f.start.col {
                    offset_of(t, f.end.line, f.end.col).min(line_end)
                } else {
                    line_end
                };
                (start, end.saturating_sub(start).max(1))
            }
            None => (0, 0),
        };
        let shown = Shown {
            f,
            label: controls.join("; "),
            help,
            src: text.map(|t| NamedSource::new(&f.path, t)),
            offset,
            len,
        };
        if handler.render_report(&mut out, &shown).is_err() {
            let _ = writeln!(out, "{}: {}{}", super::place(input, f), f.message, via(f));
        }
        out.push('\n');
    }
    for e in input.config_errors {
        out.push_str(&e.render(color));
        out.push('\n');
    }
    for e in &input.scan.rule_errors {
        let _ = writeln!(
            out,
            "error[rule {}]: {}:{}: {}",
            e.rule_id, e.path, e.line, e.message
        );
    }
    for n in &input.scan.notices {
        let _ = writeln!(out, "{:?}: {}: {}", n.level, n.path, n.message);
    }
    if !input.quiet {
        summary(input, &mut out);
    }
    out
}

fn summary(input: &ReportInput<'_>, out: &mut String) {
    let scan = input.scan;
    let documents: usize = scan.documents_by_kind.values().sum();
    let _ = writeln!(
        out,
        "Scanned {} file{} ({} document{}) with {} rule{}.",
        scan.files_scanned,
        plural(scan.files_scanned),
        documents,
        plural(documents),
        input.rules.rules.len(),
        plural(input.rules.rules.len())
    );
    if !scan.skipped.is_empty() {
        let _ = writeln!(out, "Not read: {}.", scan.skipped.describe());
    }
    let by_sev = input.by_severity();
    let open: usize = by_sev.values().sum();
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| by_sev.get(s).map(|n| format!("{n} {s}")))
        .collect();
    let _ = write!(out, "{open} open finding{}", plural(open));
    if !parts.is_empty() {
        let _ = write!(out, " ({})", parts.join(", "));
    }
    let unknown = input.unknown();
    if unknown > 0 {
        let _ = write!(
            out,
            ", {unknown} not judged (depend{} on values known only at deployment)",
            if unknown == 1 { "s" } else { "" }
        );
    }
    let _ = writeln!(out, ", {} suppressed or waived.", input.suppressed());
    let by_control = input.by_control();
    if !by_control.is_empty() {
        let list: Vec<String> = by_control
            .iter()
            .map(|(c, n)| format!("{} ×{n}", annex(c)))
            .collect();
        let _ = writeln!(out, "By control: {}", list.join(", "));
    }
    let errors = input.error_count();
    if errors > 0 {
        let _ = writeln!(
            out,
            "{errors} rule, config or file error{}.",
            plural(errors)
        );
    }
    if input.has_errors() {
        let _ = writeln!(
            out,
            "Result: ERROR (exit code 2: the errors above make this result incomplete)."
        );
    } else if let Some(min) = input.fail_on {
        let verdict = if input.fails() { "FAILED" } else { "passed" };
        let _ = writeln!(out, "Result: {verdict} (fail-on: {min}).");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
