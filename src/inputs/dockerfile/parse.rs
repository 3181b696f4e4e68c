//! Dockerfiles into spanned documents, read the way BuildKit's Dockerfile frontend reads them.
//!
//! Parser directives (`# syntax=`, `# escape=`, `# check=`) count only at the top of the file.
//! Line continuations are joined (comment and empty lines inside them skipped, as Docker does),
//! the whitespace around each join folded into one space. Heredocs (`<<EOF`, `<<-EOF`, quoted
//! delimiters, several on one `RUN`/`COPY`/`ADD`) keep their bodies. Flags (`--mount=…`,
//! `--from=…`) are taken out of the arguments; exec (JSON) form is told from shell form, an
//! invalid JSON array being shell form. Global `ARG` defaults are substituted into `FROM`, a
//! `FROM` naming an earlier stage is recognised as such, and every stage gets its effective
//! `USER` (inherited from the stage it is built on; `null` when set by no instruction here).
//!
//! The document:
//!
//! ```text
//! { stages: [ {index, name, from, platform, user, instructions} ],
//!   instructions: [ every instruction in file order ],
//!   args: {NAME: default | null},             // global ARGs (before the first FROM)
//!   final_stage: <last stage> | null, final_user: "app" | null,
//!   directives: {escape, syntax?, check?} }
//! ```
//!
//! An instruction is `{instruction, original, arguments, form, exec?, flags, heredocs, stage,
//! line, end_line}` plus, by instruction: `RUN` `commands` (each command of the shell lists and
//! heredoc bodies, at the line it is written on); `FROM` `image` (`{raw, registry, repository, tag, digest,
//! resolved, stage_ref, scratch}`) and `alias`; `ENV`/`LABEL`/`ARG` `pairs`; `EXPOSE` `ports`;
//! `COPY`/`ADD` `sources` and `destination`; `USER` `user` and `group`; `HEALTHCHECK` `none` and
//! `command`; `ONBUILD` `trigger` (the instruction it holds). Image parts still holding an
//! unresolved variable are unknown values.

use std::ops::Range;

use cel::common::types::{CelBool, CelInt};
use indexmap::IndexMap;

use crate::doc::image::split_image;
use crate::doc::{ListNode, MapBuilder, Node, Pos, Positions, PositionsBuilder, Value};

/// Where something was written, as the parser works with it: two positions. A node gets the
/// document's compact [`crate::doc::Span`] (offsets) when it is made ([`offsets`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: Pos,
    end: Pos,
}

impl Span {
    fn new(start: Pos, end: Pos) -> Span {
        Span { start, end }
    }
}

/// The offsets of `span` in the file being parsed (file 0 of `p`).
fn offsets(p: &PositionsBuilder, span: Span) -> crate::doc::Span {
    p.span(0, span.start, span.end)
}

/// Where a node made by this parse was written, as the parser works with it.
fn at(p: &PositionsBuilder, node: &Node) -> Span {
    Span::new(p.start(node.span), p.end(node.span))
}

/// Why a Dockerfile could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where: 1-based line and character column.
    pub pos: Pos,
    /// What.
    pub message: String,
}

impl SyntaxError {
    fn new(pos: Pos, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }
}

/// The instructions BuildKit knows.
const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Instructions whose arguments may open heredocs.
const HEREDOC_KEYWORDS: [&str; 3] = ["ADD", "COPY", "RUN"];

/// Instructions that accept a JSON array instead of shell words.
const JSON_KEYWORDS: [&str; 7] = ["ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"];

/// Instructions that may not be an `ONBUILD` trigger.
const NOT_TRIGGERS: [&str; 3] = ["FROM", "MAINTAINER", "ONBUILD"];

/// Flags that may be given several times: always lists.
const LIST_FLAGS: [&str; 2] = ["exclude", "mount"];

/// Flags that are switches: bare, `=true` or `=false`, read as booleans.
const BOOL_FLAGS: [&str; 3] = ["keep-git-dir", "link", "parents"];

/// Parser directives BuildKit knows.
const DIRECTIVES: [&str; 3] = ["check", "escape", "syntax"];

/// Deepest `${a:-${b:-…}}` nesting expanded; deeper references stay unresolved.
const MAX_EXPANSION_DEPTH: usize = 16;

/// Parses a Dockerfile into its document (the shape is in the module documentation).
///
/// A file without `FROM` is a document with no stages. Errors are an unknown instruction, an
/// unterminated heredoc, a `FROM` without an image, a bad or repeated parser directive, and a
/// JSON array holding something other than strings.
pub fn parse(text: &str) -> Result<(Node, Positions), SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut positions = PositionsBuilder::new();
    positions.add_text(text);
    let lines = split_lines(text);
    let mut reader = Reader {
        lines: &lines,
        next: 0,
        escape: '\\',
    };
    let directives = reader.directives()?;
    let mut doc = DocBuilder::new(&lines, reader.escape, &positions);
    while let Some(raw) = reader.next_raw()? {
        doc.add(&raw)?;
    }
    let root = doc.finish(&directives);
    Ok((root, positions.finish()))
}

// ---------------------------------------------------------------------------------------------
// Lines and positions

/// The lines of the text, without `\n` or `\r\n`.
fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// A count as a line or column number (saturating).
fn num(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Just past the last character of line `idx` (0-based).
fn line_end(lines: &[&str], idx: usize) -> Pos {
    let width = lines.get(idx).map_or(0, |l| l.chars().count());
    Pos::new(num(idx + 1), num(width + 1))
}

/// Line 1, column 1, as an empty span.
fn origin() -> Span {
    Span::new(Pos::new(1, 1), Pos::new(1, 1))
}

/// The smallest span holding both.
fn union(a: Span, b: Span) -> Span {
    Span::new(a.start.min(b.start), a.end.max(b.end))
}

/// The span holding all of `spans`, or `fallback` when there are none.
fn union_all(spans: impl IntoIterator<Item = Span>, fallback: Span) -> Span {
    spans.into_iter().reduce(union).unwrap_or(fallback)
}

/// One instruction's text with continuations joined, and where each character was written.
#[derive(Default)]
struct Logical {
    text: String,
    /// Byte offset in `text` and source position of every character.
    chars: Vec<(usize, Pos)>,
}

impl Logical {
    fn push(&mut self, c: char, at: Pos) {
        self.chars.push((self.text.len(), at));
        self.text.push(c);
    }

    /// Just past the last character so far.
    fn after_last(&self) -> Pos {
        self.chars.last().map_or(Pos::new(1, 1), |(_, p)| {
            Pos::new(p.line, p.col.saturating_add(1))
        })
    }

    fn trim_end(&mut self) {
        while self.text.ends_with(char::is_whitespace) {
            self.text.pop();
            self.chars.pop();
        }
    }

    /// Adds a physical line; returns whether it continues on the next line.
    fn append_line(&mut self, line: &str, line_no: u32, escape: char) -> bool {
        let body = line.trim_start();
        let lead = line.len() - body.len();
        let mut col = num(line.get(..lead).map_or(0, |p| p.chars().count()) + 1);
        let (content, more) = match continuation_at(body, escape) {
            Some(i) => (body.get(..i).unwrap_or(""), true),
            None => (body, false),
        };
        if !self.text.is_empty() {
            let gap = lead > 0 || self.text.ends_with(char::is_whitespace);
            self.trim_end();
            if gap {
                let at = self.after_last();
                self.push(' ', at);
            }
        }
        for c in content.chars() {
            self.push(c, Pos::new(line_no, col));
            col = col.saturating_add(1);
        }
        more
    }

    /// Where the character at byte `byte` was written (just past the end for the end).
    fn pos_at(&self, byte: usize) -> Pos {
        let i = self.chars.partition_point(|(o, _)| *o < byte);
        self.chars
            .get(i)
            .map_or_else(|| self.after_last(), |(_, p)| *p)
    }

    /// Where the bytes `r` of the text were written.
    fn span(&self, r: Range<usize>) -> Span {
        let start = self.pos_at(r.start);
        if r.end <= r.start {
            return Span::new(start, start);
        }
        let i = self.chars.partition_point(|(o, _)| *o < r.end);
        let end = i
            .checked_sub(1)
            .and_then(|j| self.chars.get(j))
            .map_or(start, |(_, p)| Pos::new(p.line, p.col.saturating_add(1)));
        Span::new(start, end)
    }
}

/// Byte index of the escape character that continues `line` (only spaces or tabs after it).
fn continuation_at(line: &str, escape: char) -> Option<usize> {
    line.trim_end_matches([' ', '\t'])
        .strip_suffix(escape)
        .map(str::len)
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

// ---------------------------------------------------------------------------------------------
// Reading lines into instructions

/// A parser directive at the top of the file.
struct Directive {
    name: String,
    value: String,
    key: Span,
    value_span: Span,
}

/// A heredoc with its body.
struct Heredoc {
    name: String,
    marker: Span,
    body: String,
    body_span: Span,
    span: Span,
    end_line: usize,
}

/// One instruction as read: joined text, heredocs and extent.
struct RawInstr {
    logical: Logical,
    kw: Range<usize>,
    heredocs: Vec<Heredoc>,
    span: Span,
}

struct Reader<'a> {
    lines: &'a [&'a str],
    next: usize,
    escape: char,
}

impl Reader<'_> {
    /// Reads the parser directives at the top and sets the escape character.
    fn directives(&mut self) -> Result<Vec<Directive>, SyntaxError> {
        let mut out: Vec<Directive> = Vec::new();
        while let Some(d) = self
            .lines
            .get(self.next)
            .and_then(|l| directive(l, num(self.next + 1)))
        {
            if out.iter().any(|o| o.name == d.name) {
                let msg = format!("only one {} parser directive can be used", d.name);
                return Err(SyntaxError::new(d.key.start, msg));
            }
            if d.name == "escape" {
                self.escape = escape_token(&d)?;
            }
            out.push(d);
            self.next += 1;
        }
        Ok(out)
    }

    /// The next instruction, or `None` at the end of the file.
    fn next_raw(&mut self) -> Result<Option<RawInstr>, SyntaxError> {
        loop {
            while self
                .lines
                .get(self.next)
                .is_some_and(|l| is_blank_or_comment(l))
            {
                self.next += 1;
            }
            if self.next >= self.lines.len() {
                return Ok(None);
            }
            let (logical, last) = self.read_logical();
            if !logical.text.is_empty() {
                return self.complete(logical, last).map(Some);
            }
        }
    }

    /// Joins the lines of one instruction; returns it and the index of its last content line.
    fn read_logical(&mut self) -> (Logical, usize) {
        let mut logical = Logical::default();
        let mut last = self.next;
        let mut more = true;
        let mut first = true;
        while more {
            let Some(line) = self.lines.get(self.next) else {
                break;
            };
            if !first && is_blank_or_comment(line) {
                self.next += 1;
                continue;
            }
            more = logical.append_line(line, num(self.next + 1), self.escape);
            last = self.next;
            self.next += 1;
            first = false;
        }
        logical.trim_end();
        (logical, last)
    }

    /// Checks the keyword and reads the heredocs the instruction opens.
    fn complete(&mut self, logical: Logical, last: usize) -> Result<RawInstr, SyntaxError> {
        let kw = first_word(&logical.text, 0);
        let keyword = logical.text.get(kw.clone()).unwrap_or("");
        if !is_keyword(keyword) {
            let msg = format!("unknown instruction: {keyword}");
            return Err(SyntaxError::new(logical.pos_at(0), msg));
        }
        let heredocs = if HEREDOC_KEYWORDS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(keyword))
        {
            self.heredocs(&logical, kw.end)?
        } else {
            Vec::new()
        };
        let last = heredocs.last().map_or(last, |h| h.end_line);
        let span = Span::new(logical.pos_at(0), line_end(self.lines, last));
        Ok(RawInstr {
            logical,
            kw,
            heredocs,
            span,
        })
    }

    fn heredocs(&mut self, logical: &Logical, from: usize) -> Result<Vec<Heredoc>, SyntaxError> {
        let rest = logical.text.get(from..).unwrap_or("");
        let mut out = Vec::new();
        for word in quoted_words(rest, from, '\\') {
            let text = logical.text.get(word.clone()).unwrap_or("");
            if let Some((name, chomp)) = heredoc_word(text) {
                out.push(self.heredoc_body(name, chomp, logical.span(word))?);
            }
        }
        Ok(out)
    }

    /// Reads lines up to the delimiter (leading tabs stripped for `<<-`).
    fn heredoc_body(
        &mut self,
        name: String,
        chomp: bool,
        marker: Span,
    ) -> Result<Heredoc, SyntaxError> {
        let first = self.next;
        let mut body = String::new();
        while let Some(&line) = self.lines.get(self.next) {
            self.next += 1;
            let line = if chomp {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line == name {
                return Ok(self.heredoc(name, marker, body, first));
            }
            body.push_str(line);
            body.push('\n');
        }
        let msg = format!("unterminated heredoc: no line `{name}` closes it");
        Err(SyntaxError::new(marker.start, msg))
    }

    /// A heredoc whose body started at line index `first` and whose delimiter was just read.
    fn heredoc(&self, name: String, marker: Span, body: String, first: usize) -> Heredoc {
        let end_line = self.next.saturating_sub(1);
        let start = Pos::new(num(first + 1), 1);
        let body_span = if end_line > first {
            Span::new(start, line_end(self.lines, end_line - 1))
        } else {
            Span::new(start, start)
        };
        Heredoc {
            name,
            marker,
            body,
            body_span,
            span: Span::new(start, line_end(self.lines, end_line)),
            end_line,
        }
    }
}

/// A parser directive line: `# name=value`.
fn directive(line: &str, line_no: u32) -> Option<Directive> {
    let body = line.trim_start().strip_prefix('#')?;
    let after = body.trim_start_matches([' ', '\t']);
    let name_len = after
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(after.len());
    let name = after.get(..name_len)?;
    let rest = after.get(name_len..)?;
    let value = rest
        .trim_start_matches([' ', '\t'])
        .strip_prefix('=')?
        .trim_start_matches([' ', '\t']);
    let lower = name.to_ascii_lowercase();
    let trimmed = value.trim_end_matches([' ', '\t']);
    if trimmed.is_empty() || !DIRECTIVES.contains(&lower.as_str()) {
        return None;
    }
    let name_at = line.len() - after.len();
    let value_at = line.len() - value.len();
    let at = |a: usize, len: usize| {
        let col = |b: usize| num(line.get(..b).map_or(0, |p| p.chars().count()) + 1);
        Span::new(Pos::new(line_no, col(a)), Pos::new(line_no, col(a + len)))
    };
    Some(Directive {
        name: lower,
        value: trimmed.to_string(),
        key: at(name_at, name_len),
        value_span: at(value_at, trimmed.len()),
    })
}

fn escape_token(d: &Directive) -> Result<char, SyntaxError> {
    match d.value.as_str() {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        other => Err(SyntaxError::new(
            d.value_span.start,
            format!("invalid escape token '{other}': it must be ` or \\"),
        )),
    }
}

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// `[n]<<[-]WORD` → the delimiter (quotes removed) and whether tabs are stripped.
fn heredoc_word(word: &str) -> Option<(String, bool)> {
    let w = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let w = w.strip_prefix("<<")?;
    let (chomp, w) = match w.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    if w.is_empty() || w.contains('<') {
        return None;
    }
    let name = unquote(w, '\\');
    (!name.is_empty()).then_some((name, chomp))
}

// ---------------------------------------------------------------------------------------------
// Words

/// The first whitespace-delimited word of `text` at or after byte `from`.
fn first_word(text: &str, from: usize) -> Range<usize> {
    whitespace_words(text.get(from..).unwrap_or(""), from)
        .into_iter()
        .next()
        .unwrap_or(from..from)
}

/// Byte ranges (offset by `base`) of the whitespace-separated words of `s`.
fn whitespace_words(s: &str, base: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push(base + st..base + i);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(base + st..base + s.len());
    }
    out
}

/// Byte ranges (offset by `base`) of the shell words of `s`: whitespace inside quotes or after
/// the escape character does not split; quotes and escapes stay in the words.
fn quoted_words(s: &str, base: usize, escape: char) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let mut skip = false;
    for (i, c) in s.char_indices() {
        if skip {
            skip = false;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                skip = c == escape && q != '\'';
            }
        } else if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push(base + st..base + i);
            }
        } else {
            start.get_or_insert(i);
            if c == '\'' || c == '"' {
                quote = Some(c);
            } else {
                skip = c == escape;
            }
        }
    }
    if let Some(st) = start {
        out.push(base + st..base + s.len());
    }
    out
}

/// Values of variables: `Some` when known, `None` when declared without a default.
type Env = IndexMap<String, Option<String>>;

/// The word with quotes and escapes removed, variables left as written.
fn unquote(word: &str, escape: char) -> String {
    Lexer::new(word, escape, None, 0).run().0
}

/// The word with quotes and escapes removed and variables substituted from `env`; false when
/// some variable has no known value (its reference is then left as written).
fn expand(word: &str, escape: char, env: &Env) -> (String, bool) {
    Lexer::new(word, escape, Some(env), 0).run()
}

/// A small shell-word lexer: quotes, escapes and (with an environment) `$VAR`, `${VAR}`,
/// `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`.
struct Lexer<'e> {
    chars: Vec<char>,
    i: usize,
    escape: char,
    env: Option<&'e Env>,
    depth: usize,
    out: String,
    resolved: bool,
}

impl<'e> Lexer<'e> {
    fn new(word: &str, escape: char, env: Option<&'e Env>, depth: usize) -> Lexer<'e> {
        Lexer {
            chars: word.chars().collect(),
            i: 0,
            escape,
            env,
            depth,
            out: String::new(),
            resolved: true,
        }
    }

    fn run(mut self) -> (String, bool) {
        while let Some(&c) = self.chars.get(self.i) {
            match c {
                '\'' => self.single(),
                '"' => self.double(),
                '$' if self.env.is_some() => self.dollar(),
                c if c == self.escape => self.escaped(),
                c => {
                    self.out.push(c);
                    self.i += 1;
                }
            }
        }
        (self.out, self.resolved)
    }

    fn escaped(&mut self) {
        self.i += 1;
        match self.chars.get(self.i) {
            Some(&n) => {
                self.out.push(n);
                self.i += 1;
            }
            None => self.out.push(self.escape),
        }
    }

    fn single(&mut self) {
        self.i += 1;
        while let Some(&c) = self.chars.get(self.i) {
            self.i += 1;
            if c == '\'' {
                return;
            }
            self.out.push(c);
        }
    }

    fn double(&mut self) {
        self.i += 1;
        while let Some(&c) = self.chars.get(self.i) {
            let next = self.chars.get(self.i + 1).copied();
            let escaped = next.filter(|n| c == self.escape && (*n == '"' || *n == '$' || *n == c));
            if c == '"' {
                self.i += 1;
                return;
            } else if let Some(n) = escaped {
                self.out.push(n);
                self.i += 2;
            } else if c == '$' && self.env.is_some() {
                self.dollar();
            } else {
                self.out.push(c);
                self.i += 1;
            }
        }
    }

    fn dollar(&mut self) {
        let start = self.i;
        match self.chars.get(start + 1) {
            Some('{') => self.braced(start),
            Some(&c) if c == '_' || c.is_ascii_alphabetic() => self.simple(start),
            _ => {
                self.out.push('$');
                self.i += 1;
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.env.and_then(|e| e.get(name)).cloned().flatten()
    }

    /// Copies `chars[start..end]` as written and notes that something stayed unresolved.
    fn keep(&mut self, start: usize, end: usize) {
        let text: String = self.chars.get(start..end).unwrap_or(&[]).iter().collect();
        self.out.push_str(&text);
        self.resolved = false;
    }

    fn simple(&mut self, start: usize) {
        let mut end = start + 1;
        while self
            .chars
            .get(end)
            .is_some_and(|c| *c == '_' || c.is_ascii_alphanumeric())
        {
            end += 1;
        }
        let name: String = self
            .chars
            .get(start + 1..end)
            .unwrap_or(&[])
            .iter()
            .collect();
        self.i = end;
        match self.lookup(&name) {
            Some(v) => self.out.push_str(&v),
            None => self.keep(start, end),
        }
    }

    fn braced(&mut self, start: usize) {
        let Some(close) = self.closing(start + 2) else {
            self.keep(start, self.chars.len());
            self.i = self.chars.len();
            return;
        };
        self.i = close + 1;
        let inner: String = self
            .chars
            .get(start + 2..close)
            .unwrap_or(&[])
            .iter()
            .collect();
        let name_len = inner
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(inner.len());
        let (name, op) = inner.split_at(name_len);
        match self.substitute(name, op) {
            Some(v) => self.out.push_str(&v),
            None => self.keep(start, close + 1),
        }
    }

    /// Index of the `}` closing a `${` whose contents start at `from`.
    fn closing(&self, from: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut k = from;
        while let Some(&c) = self.chars.get(k) {
            if c == self.escape {
                k += 2;
                continue;
            }
            if c == '$' && self.chars.get(k + 1) == Some(&'{') {
                depth += 1;
                k += 2;
                continue;
            }
            if c == '}' {
                if depth == 0 {
                    return Some(k);
                }
                depth -= 1;
            }
            k += 1;
        }
        None
    }

    /// The value of `${name op}`, `None` when it cannot be known.
    fn substitute(&self, name: &str, op: &str) -> Option<String> {
        if name.is_empty() {
            return None;
        }
        let value = self.lookup(name);
        let (colon, op) = match op.strip_prefix(':') {
            Some(rest) => (true, rest),
            None => (false, op),
        };
        let set = value.clone().filter(|v| !colon || !v.is_empty());
        let mut chars = op.chars();
        let kind = chars.next();
        let word = chars.as_str();
        match kind {
            None if !colon => value,
            Some('-') => set.or_else(|| self.nested(word)),
            Some('+') if set.is_some() => self.nested(word),
            Some('+') => value.map(|_| String::new()),
            Some('?') => set,
            _ => None,
        }
    }

    /// A default or alternative word, expanded; `None` when it stays unresolved.
    fn nested(&self, word: &str) -> Option<String> {
        if self.depth >= MAX_EXPANSION_DEPTH {
            return None;
        }
        let (text, ok) = Lexer::new(word, self.escape, self.env, self.depth + 1).run();
        ok.then_some(text)
    }
}

// ---------------------------------------------------------------------------------------------
// Flags and JSON form

/// One `--name[=value]` flag.
struct Flag {
    name: String,
    value: Option<String>,
    range: Range<usize>,
}

/// The flags at the start of `text[from..]` and the byte where the arguments start.
fn extract_flags(text: &str, from: usize) -> (Vec<Flag>, usize) {
    let mut flags = Vec::new();
    let mut at = from;
    loop {
        let rest = text.get(at..).unwrap_or("");
        let trimmed = rest.trim_start();
        let start = at + (rest.len() - trimmed.len());
        if !trimmed.starts_with("--") {
            return (flags, start);
        }
        let (word, end) = flag_word(text, start);
        if word == "--" {
            return (flags, end);
        }
        let body = word.strip_prefix("--").unwrap_or(&word);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        flags.push(Flag {
            name,
            value,
            range: start..end,
        });
        at = end;
    }
}

/// The flag word starting at byte `start`, quotes and backslashes removed, and its end.
fn flag_word(text: &str, start: usize) -> (String, usize) {
    let s = text.get(start..).unwrap_or("");
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c.is_whitespace() => return (word, start + i),
            None if c == '"' || c == '\'' => quote = Some(c),
            _ if c == '\\' => word.extend(chars.next().map(|(_, n)| n)),
            _ => word.push(c),
        }
    }
    (word, text.len())
}

/// The fields of a `--mount` value (comma-separated, CSV quoting), keys lower-cased; a bare key
/// (`readonly`) reads as `"true"`.
fn mount_fields(value: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(|f| match f.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), v.to_string()),
            None => (f.to_ascii_lowercase(), "true".to_string()),
        })
        .collect()
}

/// How an instruction's arguments are written.
enum ArgForm {
    /// Not a JSON array: shell form.
    Shell,
    /// A JSON array of strings, each with its byte range.
    Exec(Vec<(String, Range<usize>)>),
    /// A JSON array holding something else (Docker refuses it).
    NonStrings,
}

/// Reads `text[range]` as a JSON array of strings.
fn json_form(text: &str, range: Range<usize>) -> ArgForm {
    let s = text.get(range.clone()).unwrap_or("");
    let t = s.trim_start();
    if !t.starts_with('[') {
        return ArgForm::Shell;
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(t) else {
        return ArgForm::Shell;
    };
    let ranges = string_literals(t, range.start + (s.len() - t.len()));
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let serde_json::Value::String(item) = v else {
            return ArgForm::NonStrings;
        };
        out.push((item, ranges.get(i).cloned().unwrap_or(range.clone())));
    }
    ArgForm::Exec(out)
}

/// Byte ranges (offset by `base`) of the string literals of a JSON text, quotes included.
fn string_literals(t: &str, base: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let mut escaped = false;
    for (i, c) in t.char_indices() {
        match start {
            None if c == '"' => start = Some(i),
            None => {}
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(s) if c == '"' => {
                out.push(base + s..base + i + 1);
                start = None;
            }
            Some(_) => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Nodes

fn str_node(p: &PositionsBuilder, text: impl Into<String>, span: Span) -> Node {
    Node::string(text, offsets(p, span))
}

fn unknown_node(p: &PositionsBuilder, text: &str, span: Span) -> Node {
    Node::unknown(text, offsets(p, span))
}

fn int_node(p: &PositionsBuilder, n: u64, span: Span) -> Node {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    Node::new(Value::Int(CelInt::from(n)), offsets(p, span))
}

fn bool_node(p: &PositionsBuilder, b: bool, span: Span) -> Node {
    Node::new(Value::Bool(CelBool::from(b)), offsets(p, span))
}

fn null_node(p: &PositionsBuilder, span: Span) -> Node {
    Node::new(Value::Null, offsets(p, span))
}

fn list_node(p: &PositionsBuilder, items: Vec<Node>, span: Span) -> Node {
    let span = offsets(p, span);
    Node::new(Value::List(ListNode::new(items, span)), span)
}

fn map_node(p: &PositionsBuilder, fields: Vec<Field>, span: Span) -> Node {
    let mut b = MapBuilder::new();
    for (key, key_span, value) in fields {
        b.insert(key, offsets(p, key_span), value);
    }
    let span = offsets(p, span);
    Node::new(Value::Map(b.finish(span)), span)
}

/// A map member: key, key span, value.
type Field = (String, Span, Node);

fn field(key: &str, key_span: Span, value: Node) -> Field {
    (key.to_string(), key_span, value)
}

// ---------------------------------------------------------------------------------------------
// Instructions

/// An instruction being turned into a node: keyword, flags, arguments and their form.
struct Instr<'r> {
    raw: &'r RawInstr,
    /// The file's position table, where nodes get their spans.
    p: &'r PositionsBuilder,
    kw: Range<usize>,
    keyword: String,
    flags: Vec<Flag>,
    args: Range<usize>,
    json: ArgForm,
}

impl<'r> Instr<'r> {
    fn new(
        raw: &'r RawInstr,
        kw: Range<usize>,
        p: &'r PositionsBuilder,
    ) -> Result<Instr<'r>, SyntaxError> {
        let text = &raw.logical.text;
        let keyword = text.get(kw.clone()).unwrap_or("").to_ascii_uppercase();
        let (flags, start) = extract_flags(text, kw.end);
        let args = start..text.len().max(start);
        let mut ins = Instr {
            raw,
            p,
            kw,
            keyword,
            flags,
            args,
            json: ArgForm::Shell,
        };
        if let Some(range) = ins.json_range() {
            ins.json = json_form(text, range);
        }
        if matches!(ins.json, ArgForm::NonStrings) {
            let msg = "when using JSON array syntax, arrays must be comprised of strings only";
            return Err(SyntaxError::new(ins.span(ins.args.clone()).start, msg));
        }
        Ok(ins)
    }

    /// The part of the arguments that may be a JSON array.
    fn json_range(&self) -> Option<Range<usize>> {
        if self.keyword == "HEALTHCHECK" {
            let words = self.words();
            let first = words.first()?;
            let is_cmd = self.text(first.clone()).eq_ignore_ascii_case("CMD");
            return is_cmd.then_some(first.end..self.args.end);
        }
        JSON_KEYWORDS
            .contains(&self.keyword.as_str())
            .then(|| self.args.clone())
    }

    fn text(&self, r: Range<usize>) -> &'r str {
        self.raw.logical.text.get(r).unwrap_or("")
    }

    fn span(&self, r: Range<usize>) -> Span {
        self.raw.logical.span(r)
    }

    fn kw_span(&self) -> Span {
        self.span(self.kw.clone())
    }

    fn args_span(&self) -> Span {
        self.span(self.args.clone())
    }

    /// Whitespace-separated words of the arguments.
    fn words(&self) -> Vec<Range<usize>> {
        whitespace_words(self.text(self.args.clone()), self.args.start)
    }

    /// The last value of flag `name`, with the flag's span.
    fn flag(&self, name: &str) -> Option<(&str, Span)> {
        let f = self.flags.iter().rev().find(|f| f.name == name)?;
        Some((f.value.as_deref().unwrap_or(""), self.span(f.range.clone())))
    }

    /// `exec` list items, when in exec form.
    fn exec(&self) -> Option<Vec<(String, Range<usize>)>> {
        match &self.json {
            ArgForm::Exec(items) => Some(items.clone()),
            _ => None,
        }
    }
}

/// The common members: keyword, arguments, form.
fn common_fields(ins: &Instr) -> Vec<Field> {
    let p = ins.p;
    let kw = ins.kw_span();
    let args = ins.args_span();
    let original = ins.text(ins.kw.clone());
    let mut out = vec![
        field("instruction", kw, str_node(p, ins.keyword.clone(), kw)),
        field("original", kw, str_node(p, original, kw)),
        field(
            "arguments",
            args,
            str_node(p, ins.text(ins.args.clone()), args),
        ),
    ];
    match ins.exec() {
        Some(items) => {
            let nodes = items
                .into_iter()
                .map(|(s, r)| str_node(p, s, ins.span(r)))
                .collect();
            out.push(field("form", args, str_node(p, "exec", args)));
            out.push(field("exec", args, list_node(p, nodes, args)));
        }
        None => out.push(field("form", args, str_node(p, "shell", args))),
    }
    out
}

/// The flag's value: a mount map, a boolean switch or a string.
fn flag_value(p: &PositionsBuilder, f: &Flag, span: Span) -> Node {
    let value = f.value.as_deref();
    if f.name == "mount" {
        let fields = mount_fields(value.unwrap_or(""))
            .into_iter()
            .map(|(k, v)| (k, span, str_node(p, v, span)))
            .collect();
        return map_node(p, fields, span);
    }
    match value {
        None => bool_node(p, true, span),
        Some(v) if BOOL_FLAGS.contains(&f.name.as_str()) && matches!(v, "true" | "false") => {
            bool_node(p, v == "true", span)
        }
        Some(v) => str_node(p, v, span),
    }
}

/// `flags`: one member per flag name; `mount` and `exclude` are lists.
fn flags_field(ins: &Instr) -> Field {
    let p = ins.p;
    let mut slots: IndexMap<&str, (Span, Vec<Node>)> = IndexMap::new();
    for f in &ins.flags {
        let span = ins.span(f.range.clone());
        let node = flag_value(p, f, span);
        let slot = slots.entry(f.name.as_str()).or_insert((span, Vec::new()));
        if LIST_FLAGS.contains(&f.name.as_str()) {
            slot.1.push(node);
        } else {
            *slot = (span, vec![node]);
        }
    }
    let fields: Vec<Field> = slots
        .into_iter()
        .filter_map(|(name, (key_span, mut nodes))| {
            if LIST_FLAGS.contains(&name) {
                let span = union_all(nodes.iter().map(|n| at(p, n)), key_span);
                return Some((name.to_string(), key_span, list_node(p, nodes, span)));
            }
            nodes.pop().map(|n| (name.to_string(), key_span, n))
        })
        .collect();
    let kw = ins.kw_span();
    let span = union_all(ins.flags.iter().map(|f| ins.span(f.range.clone())), kw);
    field("flags", span, map_node(p, fields, span))
}

/// `heredocs`: `[{delimiter, body}]`.
fn heredocs_field(p: &PositionsBuilder, heredocs: &[Heredoc], kw: Span) -> Field {
    let items: Vec<Node> = heredocs
        .iter()
        .map(|h| {
            let fields = vec![
                field("delimiter", h.marker, str_node(p, h.name.clone(), h.marker)),
                field(
                    "body",
                    h.body_span,
                    str_node(p, h.body.clone(), h.body_span),
                ),
            ];
            map_node(p, fields, h.span)
        })
        .collect();
    let span = union_all(heredocs.iter().map(|h| h.span), kw);
    field("heredocs", span, list_node(p, items, span))
}

/// `commands` of `RUN`: the shell command lists of the arguments and of each heredoc body, split
/// at `&&`, `||` and `;` outside quotes, each at the line it is written on (a command on a
/// continuation line or in a heredoc is found there); the exec form is one command.
fn commands_field(ins: &Instr, heredocs: &[Heredoc], kw: Span) -> Field {
    let p = ins.p;
    let mut items = Vec::new();
    match ins.exec() {
        Some(exec) => {
            let text: Vec<String> = exec.into_iter().map(|(s, _)| s).collect();
            items.push(str_node(p, text.join(" "), ins.args_span()));
        }
        None => {
            for r in command_ranges(ins.text(ins.args.clone()), ins.args.start) {
                items.push(str_node(p, ins.text(r.clone()), ins.span(r)));
            }
        }
    }
    for h in heredocs {
        for (i, line) in h.body.split('\n').enumerate() {
            let line_no = h.body_span.start.line.saturating_add(num(i));
            for r in command_ranges(line, 0) {
                let col = |b: usize| num(line.get(..b).map_or(0, |p| p.chars().count()) + 1);
                let span = Span::new(
                    Pos::new(line_no, col(r.start)),
                    Pos::new(line_no, col(r.end)),
                );
                items.push(str_node(p, line.get(r).unwrap_or(""), span));
            }
        }
    }
    let span = union_all(items.iter().map(|n: &Node| at(p, n)), kw);
    field("commands", span, list_node(p, items, span))
}

/// Byte ranges (offset by `base`) of the commands of a shell command list: split at `&&`, `||`
/// and `;` outside quotes and escapes, trimmed, empty ones and comments left out.
fn command_ranges(text: &str, base: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut push = |from: usize, to: usize| {
        let piece = text.get(from..to).unwrap_or("");
        let start = from + (piece.len() - piece.trim_start().len());
        let end = from + piece.trim_end().len();
        if end > start && !text[start..end].starts_with('#') {
            out.push(base + start..base + end);
        }
    };
    let bytes = text.as_bytes();
    let (mut quote, mut from, mut i) = (None::<u8>, 0, 0);
    while i < bytes.len() {
        let c = bytes[i];
        match (quote, c) {
            (_, b'\\') if quote != Some(b'\'') => i += 1,
            (None, b'\'' | b'"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b';') => {
                push(from, i);
                from = i + 1;
            }
            (None, b'&' | b'|') if bytes.get(i + 1) == Some(&c) => {
                push(from, i);
                i += 1;
                from = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push(from, text.len());
    out
}

/// `pairs` of `ENV` / `LABEL` (`K=V …` or legacy `K V`).
fn env_pairs(ins: &Instr, escape: char) -> Vec<Field> {
    let p = ins.p;
    let words = quoted_words(ins.text(ins.args.clone()), ins.args.start, escape);
    let legacy = words
        .first()
        .is_some_and(|w| !ins.text(w.clone()).contains('='));
    let fields = if legacy {
        legacy_pair(ins, escape)
    } else {
        words.into_iter().map(|w| pair(ins, w, escape)).collect()
    };
    let span = ins.args_span();
    vec![field("pairs", span, map_node(p, fields, span))]
}

/// `KEY value with spaces`: the rest of the line after the key is the value.
fn legacy_pair(ins: &Instr, escape: char) -> Vec<Field> {
    let p = ins.p;
    let words = ins.words();
    let Some(key) = words.first().cloned() else {
        return Vec::new();
    };
    let key_span = ins.span(key.clone());
    let value = match words.get(1) {
        Some(w) => {
            let r = w.start..ins.args.end;
            str_node(p, unquote(ins.text(r.clone()), escape), ins.span(r))
        }
        None => null_node(p, key_span),
    };
    vec![(unquote(ins.text(key), escape), key_span, value)]
}

/// `KEY=value` (quotes removed) or `KEY` (null value).
fn pair(ins: &Instr, word: Range<usize>, escape: char) -> Field {
    let p = ins.p;
    let span = ins.span(word.clone());
    let text = ins.text(word);
    match text.split_once('=') {
        Some((k, v)) => (
            unquote(k, escape),
            span,
            str_node(p, unquote(v, escape), span),
        ),
        None => (unquote(text, escape), span, null_node(p, span)),
    }
}

/// `ports` of `EXPOSE`, protocol lower-cased, `/tcp` added when none is given.
fn ports(ins: &Instr) -> Vec<Field> {
    let p = ins.p;
    let items = ins
        .words()
        .into_iter()
        .map(|r| {
            let port = ins.text(r.clone());
            let text = match port.split_once('/') {
                _ if port.contains('$') => port.to_string(),
                Some((n, proto)) => format!("{n}/{}", proto.to_ascii_lowercase()),
                None => format!("{port}/tcp"),
            };
            str_node(p, text, ins.span(r))
        })
        .collect();
    let span = ins.args_span();
    vec![field("ports", span, list_node(p, items, span))]
}

/// `sources` and `destination` of `COPY` / `ADD`.
fn copy_paths(ins: &Instr, escape: char) -> Vec<Field> {
    let p = ins.p;
    let mut items: Vec<Node> = match ins.exec() {
        Some(items) => items
            .into_iter()
            .map(|(s, r)| str_node(p, s, ins.span(r)))
            .collect(),
        None => ins
            .words()
            .into_iter()
            .map(|r| str_node(p, unquote(ins.text(r.clone()), escape), ins.span(r)))
            .collect(),
    };
    let span = ins.args_span();
    let destination = if items.len() >= 2 { items.pop() } else { None };
    let sources_span = union_all(items.iter().map(|n| at(p, n)), span);
    let destination = destination.unwrap_or_else(|| null_node(p, span));
    vec![
        field("sources", sources_span, list_node(p, items, sources_span)),
        field("destination", at(p, &destination), destination),
    ]
}

/// `user` and `group` of `USER user[:group]`.
fn user_fields(ins: &Instr) -> Vec<Field> {
    let p = ins.p;
    let text = ins.text(ins.args.clone());
    let start = ins.args.start;
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => {
            let g_start = start + u.len() + 1;
            let g_span = ins.span(g_start..g_start + g.len());
            (u, str_node(p, g, g_span))
        }
        None => (text, null_node(p, ins.args_span())),
    };
    let u_span = ins.span(start..start + user.len());
    vec![
        field("user", u_span, str_node(p, user, u_span)),
        field("group", at(p, &group), group),
    ]
}

/// `none` and `command` of `HEALTHCHECK NONE` / `HEALTHCHECK [flags] CMD command`.
fn healthcheck_fields(ins: &Instr) -> Vec<Field> {
    let p = ins.p;
    let words = ins.words();
    let first = words.first().map(|r| ins.text(r.clone())).unwrap_or("");
    let span = ins.args_span();
    let command = match words.get(1) {
        Some(w) if first.eq_ignore_ascii_case("CMD") => {
            let r = w.start..ins.args.end;
            str_node(p, ins.text(r.clone()), ins.span(r))
        }
        _ => null_node(p, span),
    };
    vec![
        field(
            "none",
            span,
            bool_node(p, first.eq_ignore_ascii_case("NONE"), span),
        ),
        field("command", at(p, &command), command),
    ]
}

/// The image map of a `FROM`.
fn image_node(
    p: &PositionsBuilder,
    raw: &str,
    resolved: bool,
    stage_ref: bool,
    span: Span,
) -> Node {
    let parts = split_image(raw);
    let text = |s: &str| {
        if !resolved && s.contains('$') {
            unknown_node(p, s, span)
        } else {
            str_node(p, s, span)
        }
    };
    let fields = vec![
        field("raw", span, text(raw)),
        field("registry", span, text(&parts.registry)),
        field("repository", span, text(&parts.repository)),
        field("tag", span, text(&parts.tag)),
        field("digest", span, text(&parts.digest)),
        field("resolved", span, bool_node(p, resolved, span)),
        field("stage_ref", span, bool_node(p, stage_ref, span)),
        field("scratch", span, bool_node(p, raw == "scratch", span)),
    ];
    map_node(p, fields, span)
}

// ---------------------------------------------------------------------------------------------
// The document

/// A build stage being collected.
struct Stage {
    name: Node,
    image: Node,
    platform: Node,
    /// Index of the earlier stage this one is built on.
    base: Option<usize>,
    user: Option<Node>,
    from_kw: Span,
    instructions: Vec<Node>,
}

struct DocBuilder<'a> {
    lines: &'a [&'a str],
    escape: char,
    /// The file's position table, where nodes get their spans.
    p: &'a PositionsBuilder,
    /// Global ARGs as known so far.
    env: Env,
    args: Vec<Field>,
    stages: Vec<Stage>,
    all: Vec<Node>,
}

impl<'a> DocBuilder<'a> {
    fn new(lines: &'a [&'a str], escape: char, p: &'a PositionsBuilder) -> DocBuilder<'a> {
        DocBuilder {
            lines,
            escape,
            p,
            env: Env::new(),
            args: Vec::new(),
            stages: Vec::new(),
            all: Vec::new(),
        }
    }

    fn add(&mut self, raw: &RawInstr) -> Result<(), SyntaxError> {
        let node = self.instruction(raw, raw.kw.clone(), false)?;
        if let Some(stage) = self.stages.last_mut() {
            stage.instructions.push(node.clone());
        }
        self.all.push(node);
        Ok(())
    }

    /// The instruction whose keyword is at `kw` (an `ONBUILD` trigger when `nested`).
    fn instruction(
        &mut self,
        raw: &RawInstr,
        kw: Range<usize>,
        nested: bool,
    ) -> Result<Node, SyntaxError> {
        let p = self.p;
        let ins = Instr::new(raw, kw, self.p)?;
        let kw_span = ins.kw_span();
        let mut fields = common_fields(&ins);
        fields.push(flags_field(&ins));
        let heredocs: &[Heredoc] = if nested { &[] } else { &raw.heredocs };
        fields.push(heredocs_field(p, heredocs, kw_span));
        if ins.keyword == "RUN" {
            fields.push(commands_field(&ins, heredocs, kw_span));
        }
        let extras = self.extras(&ins, nested)?;
        let stage = match self.stages.len().checked_sub(1) {
            Some(i) => int_node(p, i as u64, kw_span),
            None => null_node(p, kw_span),
        };
        fields.push(field("stage", kw_span, stage));
        let line = u64::from(raw.span.start.line);
        let end_line = u64::from(raw.span.end.line);
        fields.push(field("line", kw_span, int_node(p, line, raw.span)));
        fields.push(field("end_line", kw_span, int_node(p, end_line, raw.span)));
        fields.extend(extras);
        Ok(map_node(p, fields, Span::new(kw_span.start, raw.span.end)))
    }

    fn extras(&mut self, ins: &Instr, nested: bool) -> Result<Vec<Field>, SyntaxError> {
        Ok(match ins.keyword.as_str() {
            "FROM" if !nested => self.from(ins)?,
            "ARG" => self.arg(ins, nested),
            "ENV" | "LABEL" => env_pairs(ins, self.escape),
            "EXPOSE" => ports(ins),
            "COPY" | "ADD" => copy_paths(ins, self.escape),
            "USER" => self.user(ins, nested),
            "HEALTHCHECK" => healthcheck_fields(ins),
            "ONBUILD" if !nested => self.onbuild(ins)?,
            _ => Vec::new(),
        })
    }

    /// `FROM [--platform=…] image [AS name]`: starts a stage.
    fn from(&mut self, ins: &Instr) -> Result<Vec<Field>, SyntaxError> {
        let p = ins.p;
        let kw = ins.kw_span();
        let words = ins.words();
        let (image, alias) = match words.as_slice() {
            [] => return Err(SyntaxError::new(kw.start, "FROM requires an image")),
            [image] => (image.clone(), None),
            [image, as_kw, name] if ins.text(as_kw.clone()).eq_ignore_ascii_case("AS") => {
                (image.clone(), Some(name.clone()))
            }
            [_, second, ..] => {
                let msg = "FROM takes an image and an optional `AS name`";
                return Err(SyntaxError::new(ins.span(second.clone()).start, msg));
            }
        };
        let (image, base) = self.image(ins, image);
        let name = match alias {
            Some(r) => str_node(p, ins.text(r.clone()).to_ascii_lowercase(), ins.span(r)),
            None => null_node(p, kw),
        };
        self.stages.push(Stage {
            name: name.clone(),
            image: image.clone(),
            platform: self.platform(ins),
            base,
            user: None,
            from_kw: kw,
            instructions: Vec::new(),
        });
        Ok(vec![
            field("image", at(p, &image), image),
            field("alias", at(p, &name), name),
        ])
    }

    /// The image map, and the earlier stage it names if it names one.
    fn image(&self, ins: &Instr, range: Range<usize>) -> (Node, Option<usize>) {
        let p = ins.p;
        let span = ins.span(range.clone());
        let (raw, resolved) = expand(ins.text(range), self.escape, &self.env);
        let lower = raw.to_ascii_lowercase();
        let base = if resolved {
            self.stages
                .iter()
                .position(|s| s.name.as_str() == Some(lower.as_str()))
        } else {
            None
        };
        (image_node(p, &raw, resolved, base.is_some(), span), base)
    }

    /// `--platform` with global ARGs substituted, or null.
    fn platform(&self, ins: &Instr) -> Node {
        let p = ins.p;
        match ins.flag("platform") {
            Some((v, span)) => match expand(v, self.escape, &self.env) {
                (text, true) => str_node(p, text, span),
                (_, false) => unknown_node(p, v, span),
            },
            None => null_node(p, ins.kw_span()),
        }
    }

    /// `ARG NAME[=default] …`; before the first `FROM` these are global.
    fn arg(&mut self, ins: &Instr, nested: bool) -> Vec<Field> {
        let p = ins.p;
        let global = !nested && self.stages.is_empty();
        let words = quoted_words(ins.text(ins.args.clone()), ins.args.start, self.escape);
        let mut fields = Vec::new();
        for w in words {
            let f = pair(ins, w.clone(), self.escape);
            if global {
                let default = ins.text(w).split_once('=').map(|(_, v)| v);
                self.global_arg(&f.0, f.1, default);
            }
            fields.push(f);
        }
        let span = ins.args_span();
        vec![field("pairs", span, map_node(p, fields, span))]
    }

    /// Records a global ARG, its default expanded with the ARGs before it.
    fn global_arg(&mut self, name: &str, span: Span, default: Option<&str>) {
        let p = self.p;
        let Some(written) = default else {
            self.env.insert(name.to_string(), None);
            self.args.push((name.to_string(), span, null_node(p, span)));
            return;
        };
        let (value, resolved) = expand(written, self.escape, &self.env);
        let node = if resolved {
            str_node(p, value.clone(), span)
        } else {
            unknown_node(p, &unquote(written, self.escape), span)
        };
        self.env.insert(name.to_string(), resolved.then_some(value));
        self.args.push((name.to_string(), span, node));
    }

    /// `USER`: also the stage's user.
    fn user(&mut self, ins: &Instr, nested: bool) -> Vec<Field> {
        let fields = user_fields(ins);
        if let (false, Some(stage), Some(user)) = (nested, self.stages.last_mut(), fields.first()) {
            stage.user = Some(user.2.clone());
        }
        fields
    }

    /// `ONBUILD instruction`: the trigger, read as an instruction.
    fn onbuild(&mut self, ins: &Instr) -> Result<Vec<Field>, SyntaxError> {
        let p = ins.p;
        let span = ins.args_span();
        let Some(kw) = ins.words().into_iter().next() else {
            return Ok(vec![field("trigger", span, null_node(p, span))]);
        };
        let word = ins.text(kw.clone());
        let word_at = ins.span(kw.clone()).start;
        if !is_keyword(word) {
            return Err(SyntaxError::new(
                word_at,
                format!("unknown instruction: {word}"),
            ));
        }
        let upper = word.to_ascii_uppercase();
        if NOT_TRIGGERS.contains(&upper.as_str()) {
            let msg = format!("{upper} isn't allowed as an ONBUILD trigger");
            return Err(SyntaxError::new(word_at, msg));
        }
        let node = self.instruction(ins.raw, kw, true)?;
        Ok(vec![field("trigger", at(p, &node), node)])
    }

    /// Every stage's map and effective user.
    fn stage_nodes(&self) -> (Vec<Node>, Vec<Node>) {
        let p = self.p;
        let mut users: Vec<Node> = Vec::new();
        let mut nodes = Vec::new();
        for (index, st) in self.stages.iter().enumerate() {
            let inherited = st.base.and_then(|b| users.get(b)).cloned();
            let user = st
                .user
                .clone()
                .or(inherited)
                .unwrap_or_else(|| null_node(p, st.from_kw));
            let span = union_all(st.instructions.iter().map(|n| at(p, n)), st.from_kw);
            let fields = vec![
                field("index", st.from_kw, int_node(p, index as u64, st.from_kw)),
                field("name", at(p, &st.name), st.name.clone()),
                field("from", at(p, &st.image), st.image.clone()),
                field("platform", at(p, &st.platform), st.platform.clone()),
                field("user", at(p, &user), user.clone()),
                field(
                    "instructions",
                    span,
                    list_node(p, st.instructions.clone(), span),
                ),
            ];
            nodes.push(map_node(p, fields, span));
            users.push(user);
        }
        (nodes, users)
    }

    fn directives_field(p: &PositionsBuilder, directives: &[Directive]) -> Field {
        let mut fields: Vec<Field> = directives
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.key,
                    str_node(p, d.value.clone(), d.value_span),
                )
            })
            .collect();
        if !directives.iter().any(|d| d.name == "escape") {
            fields.insert(0, field("escape", origin(), str_node(p, "\\", origin())));
        }
        let span = union_all(
            directives.iter().map(|d| union(d.key, d.value_span)),
            origin(),
        );
        field("directives", span, map_node(p, fields, span))
    }

    fn finish(self, directives: &[Directive]) -> Node {
        let p = self.p;
        let (stages, users) = self.stage_nodes();
        let stages_span = union_all(stages.iter().map(|n| at(p, n)), origin());
        let all_span = union_all(self.all.iter().map(|n| at(p, n)), origin());
        let args_span = union_all(self.args.iter().map(|a| a.1), origin());
        let final_stage = stages
            .last()
            .cloned()
            .unwrap_or_else(|| null_node(p, origin()));
        let final_user = users
            .last()
            .cloned()
            .unwrap_or_else(|| null_node(p, origin()));
        let end = match self.lines.len().checked_sub(1) {
            Some(last) => line_end(self.lines, last),
            None => Pos::new(1, 1),
        };
        let fields = vec![
            field("stages", stages_span, list_node(p, stages, stages_span)),
            field("instructions", all_span, list_node(p, self.all, all_span)),
            field("args", args_span, map_node(p, self.args, args_span)),
            field("final_stage", at(p, &final_stage), final_stage),
            field("final_user", at(p, &final_user), final_user),
            Self::directives_field(p, directives),
        ];
        map_node(p, fields, Span::new(Pos::new(1, 1), end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The position table of the file [`doc`] parsed last, which [`wide`] reads.
        static LAST: std::cell::RefCell<Positions> = std::cell::RefCell::default();
    }

    fn doc(text: &str) -> Node {
        match parse(text) {
            Ok((n, positions)) => {
                LAST.set(positions);
                n
            }
            Err(e) => panic!("parse failed: {e:?}"),
        }
    }

    /// A span of the file [`doc`] parsed last, as positions.
    fn wide(span: crate::doc::Span) -> Span {
        LAST.with_borrow(|p| Span::new(p.start(span), p.end(span)))
    }

    /// The node at a dotted path (`instructions.2.flags.mount.0`).
    fn at<'a>(n: &'a Node, path: &str) -> &'a Node {
        path.split('.').fold(n, |n, k| match k.parse::<usize>() {
            Ok(i) => n
                .as_list()
                .and_then(|l| l.items().get(i))
                .unwrap_or_else(|| panic!("no item {k} in {path}")),
            Err(_) => n.get(k).unwrap_or_else(|| panic!("no key {k} in {path}")),
        })
    }

    fn json(n: &Node, path: &str) -> serde_json::Value {
        at(n, path).to_json()
    }

    fn span(l1: u32, c1: u32, l2: u32, c2: u32) -> Span {
        Span::new(Pos::new(l1, c1), Pos::new(l2, c2))
    }

    fn err(text: &str) -> SyntaxError {
        match parse(text) {
            Ok((n, _)) => panic!("expected an error, got {}", n.to_json()),
            Err(e) => e,
        }
    }

    #[test]
    fn line_ranges_with_continuations_heredoc_and_escape_directive() {
        let text = "# escape=\\\n\
                    FROM alpine:3.20\n\
                    RUN apk add \\\n    curl \\\n    git\n\
                    COPY <<EOF /etc/motd\n\
                    hello\n\
                    EOF\n\
                    CMD [\"sh\"]\n";
        let d = doc(text);
        let lines: Vec<(i64, i64)> = (0..4)
            .map(|i| {
                let l = json(&d, &format!("instructions.{i}.line"));
                let e = json(&d, &format!("instructions.{i}.end_line"));
                (l.as_i64().unwrap_or(0), e.as_i64().unwrap_or(0))
            })
            .collect();
        assert_eq!(lines, vec![(2, 2), (3, 5), (6, 8), (9, 9)]);
        assert_eq!(wide(at(&d, "instructions.0").span), span(2, 1, 2, 17));
        assert_eq!(wide(at(&d, "instructions.1").span), span(3, 1, 5, 8));
        assert_eq!(wide(at(&d, "instructions.2").span), span(6, 1, 8, 4));
        assert_eq!(wide(at(&d, "instructions.3").span), span(9, 1, 9, 11));
        assert_eq!(json(&d, "instructions.1.arguments"), "apk add curl git");
        // `curl` on line 4, column 5; `git` on line 5
        assert_eq!(
            wide(at(&d, "instructions.1.arguments").span),
            span(3, 5, 5, 8)
        );
        assert_eq!(json(&d, "instructions.2.heredocs.0.body"), "hello\n");
        assert_eq!(
            wide(at(&d, "instructions.2.heredocs.0").span),
            span(7, 1, 8, 4)
        );
        let m = at(&d, "instructions.1")
            .as_map()
            .map(|m| m.entry("instruction"));
        assert_eq!(
            m.flatten().map(|e| wide(e.key_span)),
            Some(span(3, 1, 3, 4))
        );
        assert_eq!(json(&d, "directives"), serde_json::json!({"escape": "\\"}));
        assert_eq!(wide(at(&d, "stages.0").span), span(2, 1, 9, 11));
    }

    #[test]
    fn mount_flags_are_parsed_out() {
        let d = doc(
            "FROM node\nRUN --mount=type=secret,id=npm,target=/root/.npmrc \
                     --mount=type=cache,target=/root/.npm,readonly --network=none npm ci\n",
        );
        let run = at(&d, "instructions.1");
        assert_eq!(json(run, "arguments"), "npm ci");
        assert_eq!(
            json(run, "flags"),
            serde_json::json!({
                "mount": [
                    {"type": "secret", "id": "npm", "target": "/root/.npmrc"},
                    {"type": "cache", "target": "/root/.npm", "readonly": "true"}
                ],
                "network": "none"
            })
        );
        assert_eq!(wide(at(run, "flags.mount.0").span), span(2, 5, 2, 51));
        assert_eq!(wide(at(run, "arguments").span), span(2, 113, 2, 119));
        assert_eq!(json(run, "form"), "shell");
    }

    #[test]
    fn copy_flags_and_paths() {
        let d = doc("FROM a AS build\nFROM b\n\
                     COPY --from=build --chown=app:app --chmod=0755 --link /out/a /out/b /app/\n");
        let copy = at(&d, "instructions.2");
        assert_eq!(
            json(copy, "flags"),
            serde_json::json!({"from": "build", "chown": "app:app", "chmod": "0755", "link": true})
        );
        assert_eq!(
            json(copy, "sources"),
            serde_json::json!(["/out/a", "/out/b"])
        );
        assert_eq!(json(copy, "destination"), "/app/");
        assert_eq!(json(copy, "stage"), 1);
    }

    #[test]
    fn multi_stage_with_global_args() {
        let text = "ARG REGISTRY=ghcr.io/acme\n\
                    ARG BASE=${REGISTRY}/base\n\
                    ARG TAG=1.2\n\
                    ARG VARIANT\n\
                    FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS Builder\n\
                    ARG INNER=x\n\
                    FROM $BASE:${VARIANT:-slim}@sha256:abc\n\
                    FROM builder\n\
                    FROM scratch\n";
        let d = doc(text);
        assert_eq!(
            json(&d, "args"),
            serde_json::json!({"REGISTRY": "ghcr.io/acme", "BASE": "ghcr.io/acme/base",
                               "TAG": "1.2", "VARIANT": null})
        );
        assert_eq!(
            json(&d, "stages.0.from"),
            serde_json::json!({"raw": "ghcr.io/acme/base:1.2", "registry": "ghcr.io",
                "repository": "acme/base", "tag": "1.2", "digest": "", "resolved": true,
                "stage_ref": false, "scratch": false})
        );
        assert_eq!(json(&d, "stages.0.name"), "builder");
        assert_eq!(json(&d, "stages.0.platform"), "$BUILDPLATFORM");
        assert_eq!(
            json(&d, "stages.1.from.raw"),
            "ghcr.io/acme/base:slim@sha256:abc"
        );
        assert_eq!(json(&d, "stages.1.from.digest"), "sha256:abc");
        assert_eq!(json(&d, "stages.2.from.stage_ref"), true);
        assert_eq!(json(&d, "stages.3.from.scratch"), true);
        assert_eq!(json(&d, "instructions.0.stage"), serde_json::Value::Null);
        assert_eq!(json(&d, "instructions.5.stage"), 0);
        assert_eq!(
            json(&d, "stages.0.instructions.1.pairs"),
            serde_json::json!({"INNER": "x"})
        );
        assert_eq!(json(&d, "final_stage.index"), 3);
        assert_eq!(json(&d, "instructions").as_array().map(Vec::len), Some(9));
    }

    #[test]
    fn unresolved_args_stay_as_written() {
        let d = doc("ARG TAG\nFROM ubuntu:${TAG}\nFROM $UNDECLARED AS x\n");
        let image = at(&d, "stages.0.from");
        assert_eq!(json(image, "raw"), "ubuntu:${TAG}");
        assert_eq!(json(image, "resolved"), false);
        assert_eq!(json(image, "repository"), "ubuntu");
        assert!(matches!(at(image, "tag").value, Value::Unknown(_)));
        assert!(matches!(at(image, "repository").value, Value::Str(_)));
        assert_eq!(json(&d, "stages.1.from.raw"), "$UNDECLARED");
        assert_eq!(json(&d, "stages.1.from.stage_ref"), false);
    }

    #[test]
    fn effective_and_final_user() {
        let text = "FROM golang AS build\nUSER builder\nUSER 1000:1000\n\
                    FROM build AS test\nRUN go test\n\
                    FROM alpine\nRUN true\n";
        let d = doc(text);
        assert_eq!(json(&d, "stages.0.user"), "1000");
        assert_eq!(wide(at(&d, "stages.0.user").span), span(3, 6, 3, 10));
        assert_eq!(json(&d, "instructions.2.group"), "1000");
        assert_eq!(
            json(&d, "stages.1.user"),
            "1000",
            "inherited from its base stage"
        );
        assert_eq!(json(&d, "stages.2.user"), serde_json::Value::Null);
        assert_eq!(json(&d, "final_user"), serde_json::Value::Null);
        let d = doc("FROM alpine\nUSER root\nRUN x\nUSER app:app\n");
        assert_eq!(json(&d, "final_user"), "app");
        assert_eq!(json(&d, "final_stage.user"), "app");
    }

    #[test]
    fn crlf_input() {
        let d = doc("FROM alpine\r\nRUN echo a \\\r\n  && echo b\r\nUSER app\r\n");
        assert_eq!(json(&d, "instructions.1.arguments"), "echo a && echo b");
        assert_eq!(wide(at(&d, "instructions.1").span), span(2, 1, 3, 12));
        assert_eq!(json(&d, "final_user"), "app");
        let d = doc("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n");
        assert_eq!(json(&d, "instructions.1.heredocs.0.body"), "x\n");
    }

    #[test]
    fn bom_is_skipped() {
        let d = doc("\u{feff}# syntax=docker/dockerfile:1\nFROM alpine\n");
        assert_eq!(json(&d, "directives.syntax"), "docker/dockerfile:1");
        assert_eq!(wide(at(&d, "instructions.0").span), span(2, 1, 2, 12));
        let e = err("\u{feff}FROMM x");
        assert_eq!(e.pos, Pos::new(1, 1));
    }

    #[test]
    fn empty_and_fromless_files() {
        for text in ["", "\n", "# just a comment\n\n", "\\", "  \\\n\\\n"] {
            let d = doc(text);
            assert_eq!(json(&d, "stages"), serde_json::json!([]), "{text:?}");
            assert_eq!(json(&d, "final_stage"), serde_json::Value::Null);
            assert_eq!(json(&d, "final_user"), serde_json::Value::Null);
        }
        let d = doc("ARG X=1\nLABEL a=b\n");
        assert_eq!(json(&d, "instructions.1.stage"), serde_json::Value::Null);
        assert_eq!(json(&d, "args"), serde_json::json!({"X": "1"}));
    }

    #[test]
    fn unknown_instruction_is_an_error_at_its_word() {
        let e = err("FROM alpine\n\nRUNN apt-get update\n");
        assert_eq!(e.pos, Pos::new(3, 1));
        assert!(e.message.contains("RUNN"), "{}", e.message);
        let e = err("FROM alpine\n   frobnicate x\n");
        assert_eq!(e.pos, Pos::new(2, 4));
        let e = err("FROM alpine\nONBUILD RUNN x\n");
        assert_eq!(e.pos, Pos::new(2, 9));
    }

    #[test]
    fn unterminated_heredoc_is_an_error_at_its_opening() {
        let e = err("FROM alpine\nRUN --network=none cat <<EOF >/x\nhello\n");
        assert_eq!(e.pos, Pos::new(2, 24));
        assert!(e.message.contains("EOF"));
        let e = err("FROM a\nRUN <<A <<B\na\nA\nb\n");
        assert_eq!(e.pos, Pos::new(2, 9));
    }

    #[test]
    fn heredoc_variants() {
        let text = "FROM alpine\n\
                    RUN <<-\"EOT\" bash\n\
                    \t\techo $HOME\n\
                    \tEOT\n\
                    RUN python3 <<'PY' && cat 2<<END\n\
                    print(1)\n\
                    PY\n\
                    end\n\
                    END\n\
                    COPY <<EOF /dst\n\
                    EOF\n\
                    RUN echo \"<<NOT\" && echo a<<b\n";
        let d = doc(text);
        assert_eq!(
            json(&d, "instructions.1.heredocs"),
            serde_json::json!([{"delimiter": "EOT", "body": "echo $HOME\n"}])
        );
        assert_eq!(json(&d, "instructions.1.end_line"), 4);
        assert_eq!(
            json(&d, "instructions.2.heredocs"),
            serde_json::json!([{"delimiter": "PY", "body": "print(1)\n"},
                               {"delimiter": "END", "body": "end\n"}])
        );
        assert_eq!(json(&d, "instructions.2.end_line"), 9);
        assert_eq!(json(&d, "instructions.3.heredocs.0.body"), "");
        assert_eq!(
            json(&d, "instructions.3.sources"),
            serde_json::json!(["<<EOF"])
        );
        assert_eq!(json(&d, "instructions.3.destination"), "/dst");
        assert_eq!(json(&d, "instructions.4.heredocs"), serde_json::json!([]));
        assert_eq!(json(&d, "instructions.4.line"), 12);
    }

    #[test]
    fn exec_and_shell_forms() {
        let text = "FROM a\n\
                    CMD [\"nginx\", \"-g\", \"daemon off;\"]\n\
                    ENTRYPOINT /bin/sh -c start\n\
                    RUN [\"broken\", ]\n\
                    SHELL [\"powershell\", \"-Command\"]\n\
                    HEALTHCHECK --interval=30s --timeout=3s CMD [\"curl\", \"-f\", \"http://x/\"]\n\
                    HEALTHCHECK NONE\n";
        let d = doc(text);
        assert_eq!(json(&d, "instructions.1.form"), "exec");
        assert_eq!(
            json(&d, "instructions.1.exec"),
            serde_json::json!(["nginx", "-g", "daemon off;"])
        );
        assert_eq!(
            wide(at(&d, "instructions.1.exec.2").span),
            span(2, 21, 2, 34)
        );
        assert_eq!(json(&d, "instructions.2.form"), "shell");
        assert!(at(&d, "instructions.2").get("exec").is_none());
        assert_eq!(json(&d, "instructions.3.form"), "shell");
        assert_eq!(json(&d, "instructions.3.arguments"), "[\"broken\", ]");
        assert_eq!(json(&d, "instructions.4.form"), "exec");
        let hc = at(&d, "instructions.5");
        assert_eq!(json(hc, "form"), "exec");
        assert_eq!(json(hc, "exec.0"), "curl");
        assert_eq!(json(hc, "none"), false);
        assert_eq!(
            json(hc, "flags"),
            serde_json::json!({"interval": "30s", "timeout": "3s"})
        );
        assert_eq!(json(&d, "instructions.6.none"), true);
        let e = err("FROM a\nCMD [\"a\", 1]\n");
        assert_eq!(e.pos, Pos::new(2, 5));
    }

    #[test]
    fn windows_escape() {
        let text = "# escape=`\n\
                    FROM mcr.microsoft.com/windows/servercore:ltsc2022\n\
                    COPY testfile.txt c:\\\n\
                    RUN dir c:\\ `\n    && echo done\n\
                    WORKDIR C:\\app\n";
        let d = doc(text);
        assert_eq!(json(&d, "directives.escape"), "`");
        assert_eq!(json(&d, "instructions.1.destination"), "c:\\");
        assert_eq!(
            json(&d, "instructions.2.arguments"),
            "dir c:\\ && echo done"
        );
        assert_eq!(json(&d, "instructions.2.end_line"), 5);
        assert_eq!(json(&d, "instructions.3.arguments"), "C:\\app");
        assert_eq!(json(&d, "stages.0.from.registry"), "mcr.microsoft.com");
        let e = err("# escape=x\nFROM a\n");
        assert_eq!(e.pos, Pos::new(1, 10));
    }

    #[test]
    fn comments_and_blank_lines_inside_continuations() {
        let text = "FROM a\nRUN apt-get update \\\n  # a comment\n\n    && apt-get install -y \\\n\
                    \t  curl\\\n  # trailing comment\n";
        let d = doc(text);
        assert_eq!(
            json(&d, "instructions.1.arguments"),
            "apt-get update && apt-get install -y curl"
        );
        assert_eq!(wide(at(&d, "instructions.1").span), span(2, 1, 6, 9));
        let d = doc("FROM a\nRUN echo foo\\\nbar\n");
        assert_eq!(json(&d, "instructions.1.arguments"), "echo foobar");
    }

    #[test]
    fn directives_only_at_the_top() {
        let d = doc(
            "# syntax=docker/dockerfile:1.7\n# check=skip=all\n# escape=`\n\
                     FROM a\n# escape=\\\n",
        );
        assert_eq!(
            json(&d, "directives"),
            serde_json::json!({"syntax": "docker/dockerfile:1.7", "check": "skip=all",
                               "escape": "`"})
        );
        let d = doc("# hello\n# escape=`\nFROM a\nRUN a \\\n b\n");
        assert_eq!(json(&d, "directives.escape"), "\\");
        assert_eq!(json(&d, "instructions.1.arguments"), "a b");
        let e = err("# syntax=a\n# syntax=b\nFROM x\n");
        assert_eq!(e.pos, Pos::new(2, 3));
    }

    #[test]
    fn env_label_arg_pairs() {
        let text = "FROM a\n\
                    ENV K=V K2=\"a b\" K3=c\\ d\n\
                    ENV LEGACY some value here\n\
                    LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0\n\
                    ARG A B=2\n";
        let d = doc(text);
        assert_eq!(
            json(&d, "instructions.1.pairs"),
            serde_json::json!({"K": "V", "K2": "a b", "K3": "c d"})
        );
        let m = at(&d, "instructions.1.pairs")
            .as_map()
            .and_then(|m| m.entry("K2"));
        assert_eq!(m.map(|e| wide(e.key_span)), Some(span(2, 9, 2, 17)));
        assert_eq!(
            json(&d, "instructions.2.pairs"),
            serde_json::json!({"LEGACY": "some value here"})
        );
        assert_eq!(
            json(&d, "instructions.3.pairs"),
            serde_json::json!({"com.example.vendor": "ACME Inc", "version": "1.0"})
        );
        assert_eq!(
            json(&d, "instructions.4.pairs"),
            serde_json::json!({"A": null, "B": "2"})
        );
        assert_eq!(json(&d, "args"), serde_json::json!({}));
    }

    #[test]
    fn expose_user_onbuild_and_case() {
        let d = doc("from alpine as Base\nexpose 22 53/UDP 8080/tcp\nuser app\n\
                     ONBUILD RUN --mount=type=cache,target=/c make\n");
        assert_eq!(json(&d, "instructions.0.instruction"), "FROM");
        assert_eq!(json(&d, "instructions.0.original"), "from");
        assert_eq!(json(&d, "instructions.0.alias"), "base");
        assert_eq!(
            json(&d, "instructions.1.ports"),
            serde_json::json!(["22/tcp", "53/udp", "8080/tcp"])
        );
        assert_eq!(json(&d, "instructions.2.group"), serde_json::Value::Null);
        assert_eq!(json(&d, "instructions.3.trigger.instruction"), "RUN");
        assert_eq!(json(&d, "instructions.3.trigger.arguments"), "make");
        assert_eq!(
            json(&d, "instructions.3.trigger.flags.mount.0.type"),
            "cache"
        );
        assert_eq!(
            wide(at(&d, "instructions.3.trigger").span),
            span(4, 9, 4, 46)
        );
        assert_eq!(json(&d, "final_user"), "app");
        assert_eq!(err("FROM a\nONBUILD FROM b\n").pos, Pos::new(2, 9));
    }

    #[test]
    fn from_errors() {
        let e = err("FROM\n");
        assert_eq!(e.pos, Pos::new(1, 1));
        let e = err("FROM a\nFROM --platform=linux/amd64\n");
        assert_eq!(e.pos, Pos::new(2, 1));
        let e = err("FROM a b\n");
        assert_eq!(e.pos, Pos::new(1, 8));
        let e = err("FROM a AS\n");
        assert_eq!(e.pos, Pos::new(1, 8));
    }

    #[test]
    fn trailing_escape_at_eof_and_tabs() {
        let d = doc("FROM a\nRUN echo \\");
        assert_eq!(json(&d, "instructions.1.arguments"), "echo");
        assert_eq!(wide(at(&d, "instructions.1").span), span(2, 1, 2, 11));
        let d = doc("FROM a\n\tRUN\techo\t\\\n\n# c\n");
        assert_eq!(json(&d, "instructions.1.arguments"), "echo");
        assert_eq!(wide(at(&d, "instructions.1").span), span(2, 2, 2, 12));
        assert_eq!(
            wide(at(&d, "instructions.1.arguments").span),
            span(2, 6, 2, 10)
        );
    }

    #[test]
    fn no_panic_on_truncations_and_big_files() {
        let sample = "\u{feff}# syntax=docker/dockerfile:1\n# escape=\\\nARG B=alpine\n\
                      FROM --platform=$P ${B:-x}:${T:+y} AS b\n\
                      RUN --mount=type=secret,id=\"a,b\" <<-E1 cat <<'E2' \\\n  # c\n  && ls\n\
                      \tone\n\tE1\ntwo\nE2\nENV A=\"x\\\" K B\nLABEL 'a'=\"b\nCOPY [\"a\", \"b\"] /\n\
                      HEALTHCHECK CMD\nUSER :\nEXPOSE $P\nONBUILD\nCMD [\"é\", \"\\u00e9\"]\r\n\
                      FROM b\nRUN ${\nRUN echo \\`\\";
        for (i, _) in sample.char_indices() {
            let _ = parse(&sample[..i]);
            let _ = parse(&sample[i..]);
        }
        for text in [
            "FROM ${A:-${B:-${C",
            "FROM a\nRUN <<",
            "FROM a\nRUN <<-\"\"",
            "\r",
            "\t\\",
        ] {
            let _ = parse(text);
        }
        let deep = format!(
            "ARG A=1\nFROM {}x{}\n",
            "${A:-".repeat(5000),
            "}".repeat(5000)
        );
        assert!(parse(&deep).is_ok());
        let mut big = String::from("FROM alpine\n");
        for i in 0..10_000 {
            big.push_str(&format!("RUN echo {i} \\\n  && true\n"));
        }
        let d = doc(&big);
        assert_eq!(json(&d, "instructions.10000.line"), 20_000);
        assert_eq!(
            json(&d, "stages.0.instructions").as_array().map(Vec::len),
            Some(10_001)
        );
    }
}
