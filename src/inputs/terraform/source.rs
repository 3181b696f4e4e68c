//! One parsed input file: its text, its index in the document, and the conversion of hcl-edit's
//! byte ranges into 1-based line / character-column spans.

use std::ops::Range;
use std::rc::Rc;

use crate::doc::tree::{Pos, Span};
use crate::doc::PositionsBuilder;

/// The text of one file with a line index, for turning byte offsets into positions.
pub(super) struct Source {
    /// Index of the file in the document (and in `positions`).
    pub file: u32,
    /// The position table of the module's document, which has this file's lines.
    pub positions: Rc<PositionsBuilder>,
    /// The text, without a leading byte order mark.
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// Indexes `text` as file number `file` of `positions` (which has its line table).
    pub fn new(file: u32, text: &str, positions: Rc<PositionsBuilder>) -> Source {
        let text = without_bom(text).to_string();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file,
            positions,
            text,
            line_starts,
        }
    }

    /// The 1-based position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|s| *s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = match self.text.get(start..offset) {
            Some(s) => s.chars().count(),
            None => offset - start,
        };
        Pos::new(to_u32(line), to_u32(col + 1))
    }

    /// The span of a byte range, or `fallback` when hcl-edit did not record one.
    pub fn span(&self, range: Option<Range<usize>>, fallback: Span) -> Span {
        match range {
            Some(r) => self
                .positions
                .span(self.file, self.pos(r.start), self.pos(r.end)),
            None => fallback,
        }
    }

    /// The source text of a byte range, trimmed; `None` when the range is missing or invalid.
    pub fn slice(&self, range: Option<Range<usize>>) -> Option<&str> {
        range.and_then(|r| self.text.get(r)).map(str::trim)
    }

    /// The span of the whole file.
    pub fn whole(&self) -> Span {
        self.positions
            .span(self.file, Pos::new(1, 1), self.pos(self.text.len()))
    }
}

/// `text` without a leading byte order mark, as the parser reads it.
pub(super) fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "\u{feff}a = 1\nbé = \"x\"\n";
        let mut positions = PositionsBuilder::new();
        for t in ["", "", text] {
            positions.add_text(without_bom(t));
        }
        let src = Source::new(2, text, Rc::new(positions));
        assert_eq!(src.pos(0), Pos::new(1, 1));
        assert_eq!(src.pos(6), Pos::new(2, 1));
        // `=` after the two-byte `é` is the fourth character of line 2.
        assert_eq!(src.pos(10), Pos::new(2, 4));
        assert_eq!(src.pos(1000), Pos::new(3, 1));
        let a = src.span(Some(0..1), Span::default());
        let span = (
            src.positions.file(a),
            src.positions.start(a),
            src.positions.end(a),
        );
        assert_eq!(span, (2, Pos::new(1, 1), Pos::new(1, 2)));
        assert_eq!(src.positions.start(src.whole()), Pos::new(1, 1));
        assert_eq!(src.positions.end(src.whole()), Pos::new(3, 1));
        assert_eq!(src.slice(Some(4..5)), Some("1"));
    }
}
