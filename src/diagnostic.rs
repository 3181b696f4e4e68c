//! Errors located in a file (rule files, config files): a line, a column, a label and a hint,
//! shown as miette diagnostics and carried into JSON and SARIF as plain data.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// An error at a place in a file the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiagnostic {
    /// Display path of the file.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Byte offset of the span start (for the snippet).
    pub offset: usize,
    /// Length in bytes of the span.
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The file's text, for the snippet; empty when unavailable.
    pub source: String,
}

impl FileDiagnostic {
    /// A diagnostic at a byte offset of `source`.
    pub fn at_offset(
        path: &str,
        source: &str,
        offset: usize,
        len: usize,
        message: impl Into<String>,
    ) -> FileDiagnostic {
        let offset = offset.min(source.len());
        let (line, col) = line_col(source, offset);
        FileDiagnostic {
            path: path.to_string(),
            line,
            col,
            offset,
            len,
            message: message.into(),
            help: None,
            source: source.to_string(),
        }
    }

    /// A diagnostic at a 1-based line and column of `source`.
    pub fn at_line_col(
        path: &str,
        source: &str,
        line: u32,
        col: u32,
        message: impl Into<String>,
    ) -> FileDiagnostic {
        let offset = offset_of(source, line, col);
        let len = source[offset..]
            .find('\n')
            .unwrap_or(source.len() - offset)
            .min(1);
        let mut d = FileDiagnostic::at_offset(path, source, offset, len, message);
        d.line = line.max(1);
        d.col = col.max(1);
        d
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> FileDiagnostic {
        self.help = Some(help.into());
        self
    }

    /// `path:line:col: message`, for logs and tests.
    pub fn short(&self) -> String {
        format!("{}:{}:{}: {}", self.path, self.line, self.col, self.message)
    }

    /// Renders the diagnostic with its snippet, as miette does for a terminal.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        let mut out = String::new();
        let shown = Shown {
            d: self,
            src: NamedSource::new(&self.path, self.source.clone()),
        };
        if handler.render_report(&mut out, &shown).is_err() {
            return self.short();
        }
        out
    }
}

impl fmt::Display for FileDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

impl std::error::Error for FileDiagnostic {}

struct Shown<'a> {
    d: &'a FileDiagnostic,
    src: NamedSource<String>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        (!self.d.source.is_empty()).then_some(&self.src as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.d.source.is_empty() {
            return None;
        }
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(format!("line {}, column {}", self.d.line, self.d.col)),
                (self.d.offset, self.d.len),
            ),
        )))
    }
}

/// Drops a leading `error: line N column M: ` that some parsers put in their messages (the
/// diagnostic shows the position itself).
pub fn strip_location(message: &str) -> String {
    let m = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(rest) = m.strip_prefix("line ")
        && let Some((_, tail)) = rest.split_once(": ")
    {
        return tail.to_string();
    }
    m.to_string()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (u32, u32) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() as u32 + 1;
    (line, col)
}

/// Byte offset of a 1-based line and column (in characters); clamped to the text.
pub fn offset_of(source: &str, line: u32, col: u32) -> usize {
    let mut offset = 0;
    for _ in 1..line.max(1) {
        match source[offset..].find('\n') {
            Some(i) => offset += i + 1,
            None => return source.len(),
        }
    }
    let line_text = &source[offset..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    let within: usize = line_text[..line_end]
        .char_indices()
        .nth(col.saturating_sub(1) as usize)
        .map_or(line_end, |(i, _)| i);
    offset + within
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "ab\nçd\nef";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 5), (2, 2));
        assert_eq!(offset_of(text, 2, 2), 5);
        assert_eq!(offset_of(text, 9, 1), text.len());
    }

    #[test]
    fn renders_snippet_with_label() {
        let d = FileDiagnostic::at_line_col("r.yaml", "a: 1\nb: 2\n", 2, 4, "bad value")
            .with_help("use a string");
        let out = d.render(false);
        assert!(out.contains("bad value"), "{out}");
        assert!(out.contains("r.yaml:2:4"), "{out}");
        assert!(out.contains("use a string"), "{out}");
    }
}
