//! Where a document's spans point: a [`Span`] is a pair of `u32` offsets in the document's
//! *position space*, and [`Positions`] turns an offset back into a file of the document and a
//! 1-based line and column (in characters), as findings, warnings and reports show them.
//!
//! Each source file of a document has its own range of the space: its base, then one offset
//! per character of its text (the last one, its length, is the end of the file). Per file the
//! table keeps its base and the offset where each line starts (a `u32` a line: a minified file of
//! one line costs one entry; the text itself is not kept). A position the text cannot hold (a
//! column past the end of its line, a line past the end of the file, a file whose text was not
//! read) is *pinned*: stored as it is, at an offset counted down from the top of the space. So
//! every `(file, Pos)` a parser gives comes back exactly; a parser whose lines agree with the
//! table's (breaks at `\n`, `\r\n` and a lone `\r`) pins none.

use std::cell::{Cell, RefCell};

use super::tree::{Pos, Span};

/// The line table of one file: its base in the position space, its length in characters and
/// where each line starts (relative to the base; the first is 0).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileLines {
    base: u32,
    len: u32,
    starts: Box<[u32]>,
}

impl FileLines {
    /// The table of `text` at `base`. One pass over the bytes, eight at a time: in a word, the
    /// line feeds are found and the bytes that continue a multi-byte character counted with
    /// bit operations; a word with a carriage return is read byte by byte.
    fn new(base: u32, text: &str) -> FileLines {
        const LOW: u64 = 0x0101_0101_0101_0101;
        const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        /// The top bit of each byte of `w` equal to `b`, exactly.
        fn bytes_equal(w: u64, b: u8) -> u64 {
            let x = w ^ (LOW * u64::from(b));
            !((x & LOW7).wrapping_add(LOW7) | x | LOW7)
        }
        let bytes = text.as_bytes();
        let mut starts = vec![0u32];
        // Continuation bytes of multi-byte characters so far: a byte offset less these is the
        // character offset.
        let mut continuation = 0usize;
        let offset = |byte: usize, continuation: usize| {
            u32::try_from(byte - continuation).unwrap_or(u32::MAX)
        };
        let byte_by_byte = |from: usize, to: usize, starts: &mut Vec<u32>, cont: &mut usize| {
            for j in from..to {
                let b = bytes[j];
                if b & 0xC0 == 0x80 {
                    *cont += 1;
                } else if b == b'\n' || (b == b'\r' && bytes.get(j + 1) != Some(&b'\n')) {
                    starts.push(offset(j + 1, *cont));
                }
            }
        };
        let mut at = 0;
        for word in bytes.chunks_exact(8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            if bytes_equal(w, b'\r') != 0 {
                byte_by_byte(at, at + 8, &mut starts, &mut continuation);
            } else {
                // Bytes 0b10xx_xxxx: the top bit set, the next one clear.
                let cont = w & !(w << 1) & HIGH;
                let mut feeds = bytes_equal(w, b'\n');
                while feeds != 0 {
                    let bit = feeds.trailing_zeros();
                    let before = cont & ((1u64 << bit) - 1);
                    let k = (bit / 8) as usize;
                    starts.push(offset(
                        at + k + 1,
                        continuation + before.count_ones() as usize,
                    ));
                    feeds &= feeds - 1;
                }
                continuation += cont.count_ones() as usize;
            }
            at += 8;
        }
        byte_by_byte(at, bytes.len(), &mut starts, &mut continuation);
        FileLines {
            base,
            len: offset(bytes.len(), continuation),
            starts: starts.into_boxed_slice(),
        }
    }

    /// The offset (relative to the base) of `pos`, when the text holds it.
    #[inline]
    fn offset(&self, pos: Pos) -> Option<u32> {
        let line = usize::try_from(pos.line).ok()?.checked_sub(1)?;
        let col = pos.col.checked_sub(1)?;
        let start = *self.starts.get(line)?;
        let rel = start.checked_add(col)?;
        let limit = match self.starts.get(line + 1) {
            Some(&next) => next,
            None => self.len.checked_add(1)?,
        };
        (rel < limit).then_some(rel)
    }

    /// The position of `rel`, an offset relative to the base no greater than the length.
    fn pos(&self, rel: u32) -> Pos {
        let line = self.starts.partition_point(|&s| s <= rel) - 1;
        Pos::new(
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            rel - self.starts[line] + 1,
        )
    }
}

/// The offset that stands for "nowhere" (a value made during evaluation): file 0, line 0,
/// column 0, as `Span::default()` always meant.
pub const NOWHERE: u32 = u32::MAX;

/// The offset of pinned position `i` (counted down from just below [`NOWHERE`]).
fn pinned_offset(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .and_then(|i| NOWHERE.checked_sub(1 + i))
        .expect("fewer than 2^31 pinned positions")
}

/// Turns offsets into files and positions; shared by the parts that read the two tables.
fn locate(files: &[FileLines], pinned: &[(u32, Pos)], offset: u32) -> (u32, Pos) {
    if offset == NOWHERE {
        return (0, Pos::default());
    }
    let from_top = (NOWHERE - 1 - offset) as usize;
    if let Some(&(file, pos)) = pinned.get(from_top) {
        return (file, pos);
    }
    let i = files.partition_point(|f| f.base <= offset);
    match i.checked_sub(1).and_then(|i| files.get(i).map(|f| (i, f))) {
        Some((i, f)) => (
            u32::try_from(i).unwrap_or(u32::MAX),
            f.pos((offset - f.base).min(f.len)),
        ),
        None => (0, Pos::default()),
    }
}

/// The file of `offset` (pinned or of text), without its line and column.
fn file_of(files: &[FileLines], pinned: &[(u32, Pos)], offset: u32) -> u32 {
    if offset == NOWHERE {
        return 0;
    }
    if let Some(&(file, _)) = pinned.get((NOWHERE - 1 - offset) as usize) {
        return file;
    }
    let i = files.partition_point(|f| f.base <= offset);
    u32::try_from(i.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The position table of one document (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    files: Vec<FileLines>,
    pinned: Vec<(u32, Pos)>,
}

impl Positions {
    /// The table of a document of one file whose text is `text` (as [`super::yaml::parse`]
    /// makes it).
    pub fn of_text(text: &str) -> Positions {
        let mut b = PositionsBuilder::new();
        b.add_text(text.strip_prefix('\u{feff}').unwrap_or(text));
        b.finish()
    }

    /// The file and position of `offset`.
    pub fn locate(&self, offset: u32) -> (u32, Pos) {
        locate(&self.files, &self.pinned, offset)
    }

    /// Where `span` starts.
    pub fn start(&self, span: Span) -> Pos {
        self.locate(span.start).1
    }

    /// Just past where `span` ends.
    pub fn end(&self, span: Span) -> Pos {
        self.locate(span.end).1
    }

    /// The file of the document `span` is in (index into its file list).
    pub fn file(&self, span: Span) -> u32 {
        file_of(&self.files, &self.pinned, span.start)
    }

    /// How many files the table has.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// How many positions are pinned (not held by any file's text).
    pub fn pinned(&self) -> usize {
        self.pinned.len()
    }

    /// Bytes the table takes on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.files.capacity() * size_of::<FileLines>()
            + self.files.iter().map(|f| f.starts.len() * 4).sum::<usize>()
            + self.pinned.capacity() * size_of::<(u32, Pos)>()
    }
}

/// Builds the [`Positions`] of a document while its parsers make spans; takes `&self` to make
/// one, so a parser holding the builder by reference can.
#[derive(Debug)]
pub struct PositionsBuilder {
    files: Vec<FileLines>,
    pinned: RefCell<Vec<(u32, Pos)>>,
    /// The offset the next pinned position gets: offsets of text stay below it.
    floor: Cell<u32>,
}

impl Default for PositionsBuilder {
    fn default() -> PositionsBuilder {
        PositionsBuilder {
            files: Vec::new(),
            pinned: RefCell::default(),
            floor: Cell::new(pinned_offset(0)),
        }
    }
}

/// How spans of another table read in the table they were imported into
/// ([`PositionsBuilder::import`]).
#[derive(Debug, Clone, Copy)]
pub struct Import<'a> {
    from: &'a Positions,
    shift: u32,
}

impl PositionsBuilder {
    /// An empty table.
    pub fn new() -> PositionsBuilder {
        PositionsBuilder::default()
    }

    fn next_base(&self) -> u32 {
        self.files
            .last()
            .map_or(0, |f| f.base.saturating_add(f.len).saturating_add(1))
    }

    /// Adds a file whose text is `text`; returns its index.
    pub fn add_text(&mut self, text: &str) -> u32 {
        let base = self.next_base();
        self.files.push(FileLines::new(base, text));
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// Adds a file whose text is not read (every position in it is pinned); returns its index.
    pub fn add_file(&mut self) -> u32 {
        self.add_text("")
    }

    /// Adds the files of another table, to translate its spans with the returned [`Import`]
    /// ([`Import::span`]); its file `i` is this table's `first + i`, where `first` is
    /// [`Import::first_file`].
    pub fn import<'a>(&mut self, from: &'a Positions) -> Import<'a> {
        let base = self.next_base();
        let shift = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        for f in &from.files {
            let rebased = base.saturating_add(f.base);
            self.files.push(FileLines {
                base: rebased,
                len: f.len,
                starts: f.starts.clone(),
            });
        }
        Import { from, shift }
    }

    /// The offset of `pos` in `file`.
    #[inline]
    pub fn at(&self, file: u32, pos: Pos) -> u32 {
        let held = self
            .files
            .get(file as usize)
            .and_then(|f| f.base.checked_add(f.offset(pos)?));
        // Offsets of text stay below the pinned ones (a document of 4 G characters is refused
        // long before).
        match held {
            Some(o) if o < self.floor.get() => o,
            _ => self.pin(file, pos),
        }
    }

    /// The offset of a position no text holds.
    #[cold]
    fn pin(&self, file: u32, pos: Pos) -> u32 {
        if file == 0 && pos == Pos::default() {
            return NOWHERE;
        }
        let mut pinned = self.pinned.borrow_mut();
        pinned.push((file, pos));
        let offset = pinned_offset(pinned.len() - 1);
        self.floor.set(offset.saturating_sub(1));
        offset
    }

    /// The span from `start` to `end` in `file`.
    #[inline]
    pub fn span(&self, file: u32, start: Pos, end: Pos) -> Span {
        Span {
            start: self.at(file, start),
            end: self.at(file, end),
        }
    }

    /// The file and position of `offset`.
    pub fn locate(&self, offset: u32) -> (u32, Pos) {
        locate(&self.files, &self.pinned.borrow(), offset)
    }

    /// Where `span` starts.
    pub fn start(&self, span: Span) -> Pos {
        self.locate(span.start).1
    }

    /// Just past where `span` ends.
    pub fn end(&self, span: Span) -> Pos {
        self.locate(span.end).1
    }

    /// The file `span` is in.
    pub fn file(&self, span: Span) -> u32 {
        file_of(&self.files, &self.pinned.borrow(), span.start)
    }

    /// The span ending at whichever is later of `span`'s end and `end` (both of one file).
    pub fn later(&self, span: Span, end: u32) -> Span {
        let floor = self.floor.get();
        let later = if span.end < floor && end < floor {
            // Offsets of one file's text are in the order of its positions.
            span.end.max(end)
        } else if self.locate(end).1 > self.end(span) {
            end
        } else {
            span.end
        };
        Span {
            start: span.start,
            end: later,
        }
    }

    /// The finished table.
    pub fn finish(self) -> Positions {
        Positions {
            files: self.files,
            pinned: self.pinned.into_inner(),
        }
    }
}

impl Import<'_> {
    /// The index, in the importing table, of the imported table's first file.
    pub fn first_file(&self) -> u32 {
        self.shift
    }

    /// A span of the imported table, in the importing table `to`.
    pub fn span(&self, to: &PositionsBuilder, span: Span) -> Span {
        Span {
            start: self.offset(to, span.start),
            end: self.offset(to, span.end),
        }
    }

    fn offset(&self, to: &PositionsBuilder, offset: u32) -> u32 {
        if offset == NOWHERE {
            return NOWHERE;
        }
        let (file, pos) = self.from.locate(offset);
        to.at(file.saturating_add(self.shift), pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: u32, col: u32) -> Pos {
        Pos::new(line, col)
    }

    /// Every position of `text`, as a parser counting characters and breaking lines at `\n`,
    /// `\r\n` and `\r` sees it, including the end of the file.
    fn every_position(text: &str) -> Vec<Pos> {
        let mut out = Vec::new();
        let (mut line, mut col) = (1, 1);
        let chars: Vec<char> = text.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            out.push(p(line, col));
            let breaks = c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n'));
            if breaks {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        out.push(p(line, col));
        out
    }

    fn round_trip(text: &str) -> PositionsBuilder {
        let mut b = PositionsBuilder::new();
        let f = b.add_text(text);
        let mut last = None;
        for pos in every_position(text) {
            let o = b.at(f, pos);
            assert_eq!(b.locate(o), (f, pos), "{text:?} at {pos:?}");
            if let Some(l) = last {
                assert_eq!(o, l + 1, "one offset per character of {text:?}");
            }
            last = Some(o);
        }
        assert_eq!(b.pinned.borrow().len(), 0, "nothing pinned in {text:?}");
        b
    }

    /// Lines and characters across the eight-byte words the table is built from: breaks and
    /// multi-byte characters at every place in a word, `\r\n` split between two words.
    #[test]
    fn long_texts_of_every_shape_round_trip() {
        let pieces = ["a", "é", "€", "😀", "\n", "\r\n", "\r", "bcdefgh", "  "];
        for seed in 0..60usize {
            let text: String = (0..97)
                .map(|i| pieces[(i * 7 + seed * 13 + i / 5) % pieces.len()])
                .collect();
            round_trip(&text);
            round_trip(&text[text.char_indices().nth(seed).map_or(0, |(i, _)| i)..]);
        }
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let b = round_trip("a: é€😀x\nb: ü\n");
        let x = b.at(0, p(1, 7));
        assert_eq!(x, 6, "x is the 7th character, the 12th byte");
        assert_eq!(b.locate(b.at(0, p(2, 4))), (0, p(2, 4)));
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let b = round_trip("a: 1\r\nb: 2\rc: 3\r\n");
        assert_eq!(b.locate(b.at(0, p(3, 1))), (0, p(3, 1)));
        assert_eq!(b.at(0, p(2, 1)), 6, "after a, :, space, 1, CR, LF");
        assert_eq!(b.at(0, p(1, 5)), 4, "the CR of line 1 is its 5th column");
    }

    #[test]
    fn the_end_of_a_file_is_a_position_and_past_it_is_pinned() {
        let b = round_trip("ab\ncd");
        assert_eq!(b.locate(b.at(0, p(2, 3))), (0, p(2, 3)));
        assert_eq!(b.at(0, p(2, 3)), 5, "the end of the file is its length");
        let past = b.at(0, p(2, 4));
        assert!(past > 1000, "pinned at the top of the space");
        assert_eq!(b.locate(past), (0, p(2, 4)));
        let after_newline = round_trip("ab\n");
        assert_eq!(
            after_newline.locate(after_newline.at(0, p(2, 1))),
            (0, p(2, 1))
        );
    }

    #[test]
    fn columns_past_a_line_and_lines_past_the_file_come_back_exactly() {
        let b = round_trip("a\n\nb\n");
        for pos in [p(2, 2), p(1, 40), p(9, 1), p(0, 0), p(1, 0)] {
            assert_eq!(b.locate(b.at(0, pos)), (0, pos), "{pos:?}");
        }
        assert_eq!(
            b.pinned.borrow().len(),
            4,
            "all but p(0, 0) in file 0 pinned"
        );
    }

    #[test]
    fn an_empty_file_holds_line_one_column_one() {
        let mut b = round_trip("");
        assert_eq!(b.at(0, p(1, 1)), 0);
        let second = b.add_text("");
        assert_eq!(second, 1);
        let o = b.at(second, p(1, 1));
        assert_eq!(o, 1, "each file has its own offset, empty ones too");
        assert_eq!(b.locate(o), (1, p(1, 1)));
        let t = b.finish();
        assert_eq!((t.files(), t.pinned()), (2, 0));
    }

    #[test]
    fn files_of_a_document_have_their_own_ranges() {
        let mut b = PositionsBuilder::new();
        let main = b.add_text("x = 1\ny = 2\n");
        let vars = b.add_text("v = \"ü\"\n");
        let none = b.add_file();
        let s = b.span(vars, p(1, 5), p(1, 8));
        let m = b.span(main, p(2, 1), p(2, 6));
        let n = b.span(none, p(3, 1), p(3, 2));
        let t = b.finish();
        assert_eq!((t.file(s), t.start(s), t.end(s)), (1, p(1, 5), p(1, 8)));
        assert_eq!((t.file(m), t.start(m), t.end(m)), (0, p(2, 1), p(2, 6)));
        assert_eq!((t.file(n), t.start(n), t.end(n)), (2, p(3, 1), p(3, 2)));
        assert_eq!(t.pinned(), 2, "the file without text pins its positions");
    }

    #[test]
    fn nowhere_is_file_zero_line_zero() {
        let b = PositionsBuilder::new();
        assert_eq!(b.at(0, Pos::default()), NOWHERE);
        let t = b.finish();
        let s = Span::default();
        assert_eq!(
            (t.file(s), t.start(s), t.end(s)),
            (0, Pos::default(), Pos::default())
        );
    }

    #[test]
    fn imported_spans_keep_their_files_and_positions() {
        let mut one = PositionsBuilder::new();
        one.add_text("a: 1\n");
        let f = one.add_text("b: ü\nc: 2\n");
        let s = one.span(f, p(2, 1), p(2, 5));
        let pinned = one.span(f, p(7, 7), p(7, 8));
        let one = one.finish();
        let mut doc = PositionsBuilder::new();
        doc.add_text("top: 0\n");
        let import = doc.import(&one);
        assert_eq!(import.first_file(), 1);
        let moved = import.span(&doc, s);
        let moved_pinned = import.span(&doc, pinned);
        let nowhere = import.span(&doc, Span::default());
        let doc = doc.finish();
        assert_eq!(
            (doc.file(moved), doc.start(moved), doc.end(moved)),
            (2, p(2, 1), p(2, 5))
        );
        assert_eq!(
            (doc.file(moved_pinned), doc.start(moved_pinned)),
            (2, p(7, 7))
        );
        assert_eq!(nowhere, Span::default());
    }

    #[test]
    fn a_minified_file_costs_one_line_start() {
        let text = format!("[{}]", "1,".repeat(100_000));
        let mut b = PositionsBuilder::new();
        b.add_text(&text);
        let o = b.at(0, p(1, 150_001));
        assert_eq!(b.locate(o), (0, p(1, 150_001)));
        let t = b.finish();
        assert!(t.heap_bytes() < 256, "{} bytes", t.heap_bytes());
    }
}
