//! YAML (and JSON, its subset) into spanned trees: anchors, aliases and `<<` merge keys expanded,
//! CloudFormation short tags turned into their long form, nesting and alias expansion bounded.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YSpan, Tag};

use super::keys;
use super::positions::{Positions, PositionsBuilder};
use super::tree::{ListNode, MapBuilder, Node, Pos, Span, Value};
use cel::common::types::{CelBool, CelDouble, CelInt, CelString};

/// Deepest nesting of maps and lists accepted before the file is refused.
pub const MAX_DEPTH: usize = 200;
/// Most nodes that aliases may add by expansion before the file is refused (alias bombs).
pub const MAX_ALIAS_EXPANSION: u64 = 1_000_000;

/// Why a YAML text could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What it said.
    pub message: String,
}

/// Something suspicious but readable, such as a repeated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
}

/// The documents of one YAML stream.
#[derive(Debug, Default)]
pub struct YamlStream {
    /// One root node per document (`---`), in order; empty documents are skipped.
    pub documents: Vec<Node>,
    /// Non-fatal findings of the reader.
    pub warnings: Vec<Warning>,
    /// Start offsets of the plain (unquoted, untagged) scalars spelled as YAML 1.1 booleans
    /// (`yes`, `off`, `Y`…): strings here, booleans to YAML 1.1 readers such as kubectl (see
    /// [`super::yaml11`]).
    pub yaml11_plain: HashSet<u32>,
    /// Where the spans of its trees point (file 0, the text).
    pub positions: Positions,
}

fn pos(m: &saphyr_parser::Marker) -> Pos {
    Pos::new(m.line() as u32, m.col() as u32 + 1)
}

fn scan_error(e: &ScanError) -> SyntaxError {
    SyntaxError {
        pos: pos(e.marker()),
        message: e.info().to_string(),
    }
}

enum Frame {
    Map {
        builder: MapBuilder,
        key: Option<(keys::Key, Span, bool)>,
        start: Span,
        anchor: usize,
        tag: Option<Tag>,
        size: u64,
    },
    List {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
        tag: Option<Tag>,
        size: u64,
    },
}

struct Builder<'p> {
    positions: &'p PositionsBuilder,
    file: u32,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, u64)>,
    documents: Vec<Node>,
    warnings: Vec<Warning>,
    yaml11_plain: HashSet<u32>,
    expanded: u64,
}

/// Parses a YAML stream (JSON included) into spanned trees.
pub fn parse(text: &str) -> Result<YamlStream, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut positions = PositionsBuilder::new();
    let file = positions.add_text(text);
    let mut stream = parse_in(text, &positions, file)?;
    stream.positions = positions.finish();
    Ok(stream)
}

/// Parses a YAML stream as file `file` of `positions` (which has its line table); the stream's
/// own `positions` are left empty.
pub fn parse_in(
    text: &str,
    positions: &PositionsBuilder,
    file: u32,
) -> Result<YamlStream, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        positions,
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        warnings: Vec::new(),
        yaml11_plain: HashSet::new(),
        expanded: 0,
    };
    while let Some(ev) = parser.next_event() {
        let (ev, sp) = ev.map_err(|e| scan_error(&e))?;
        b.event(ev, sp)?;
    }
    Ok(YamlStream {
        documents: b.documents,
        warnings: b.warnings,
        yaml11_plain: b.yaml11_plain,
        positions: Positions::default(),
    })
}

impl Builder<'_> {
    fn span(&self, s: &YSpan) -> Span {
        self.positions.span(self.file, pos(&s.start), pos(&s.end))
    }

    fn event(&mut self, ev: Event<'_>, sp: YSpan) -> Result<(), SyntaxError> {
        match ev {
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain && tag.is_none();
                let merge = plain && text == "<<";
                let node = scalar(&text, style, tag.as_deref(), self.span(&sp));
                if plain && yaml11_bool(&text).is_some() {
                    self.yaml11_plain.insert(node.span.start);
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.push(node, 1, merge)?;
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    return Err(SyntaxError {
                        pos: pos(&sp.start),
                        message: "alias to an unknown anchor".into(),
                    });
                };
                self.expanded += size;
                if self.expanded > MAX_ALIAS_EXPANSION {
                    return Err(SyntaxError {
                        pos: pos(&sp.start),
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (alias bomb?)"
                        ),
                    });
                }
                self.push(node, size, false)?;
            }
            Event::MappingStart(anchor, tag) => {
                self.check_depth(&sp)?;
                self.stack.push(Frame::Map {
                    builder: MapBuilder::new(),
                    key: None,
                    start: self.span(&sp),
                    anchor,
                    tag: tag.map(|t| t.into_owned()),
                    size: 1,
                });
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_depth(&sp)?;
                self.stack.push(Frame::List {
                    items: Vec::new(),
                    start: self.span(&sp),
                    anchor,
                    tag: tag.map(|t| t.into_owned()),
                    size: 1,
                });
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    builder,
                    start,
                    anchor,
                    tag,
                    size,
                    ..
                }) = self.stack.pop()
                {
                    let end = self.positions.at(self.file, pos(&sp.end));
                    let whole = self.positions.later(start, end);
                    let node = Node::new(Value::Map(builder.finish(whole)), whole);
                    let node = apply_tag(tag.as_ref(), node);
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.push(node, size, false)?;
                }
            }
            Event::SequenceEnd => {
                if let Some(Frame::List {
                    items,
                    start,
                    anchor,
                    tag,
                    size,
                }) = self.stack.pop()
                {
                    let end = items.last().map_or(start.end, |n| n.span.end);
                    let whole = self.positions.later(start, end);
                    let node = Node::new(Value::List(ListNode::new(items, whole)), whole);
                    let node = apply_tag(tag.as_ref(), node);
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.push(node, size, false)?;
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn check_depth(&self, sp: &YSpan) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                pos: pos(&sp.start),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn push(&mut self, node: Node, size: u64, merge_key: bool) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => {
                if !matches!(node.value, Value::Null) || self.documents.is_empty() {
                    self.documents.push(node);
                }
            }
            Some(Frame::List {
                items, size: total, ..
            }) => {
                items.push(node);
                *total += size;
            }
            Some(Frame::Map {
                builder,
                key,
                size: total,
                ..
            }) => match key.take() {
                None => {
                    *key = Some((key_text(&node), node.span, merge_key));
                }
                Some((k, key_span, merge)) => {
                    *total += size;
                    if merge {
                        merge_into(builder, &node);
                    } else if builder.insert_key(k.clone(), key_span, node) {
                        self.warnings.push(Warning {
                            span: key_span,
                            message: format!(
                                "key '{}' is repeated; the last value wins",
                                k.inner()
                            ),
                        });
                    }
                }
            },
        }
        Ok(())
    }
}

/// A key as the map holds it: a string's text interned (no copy when it is shared), any
/// other scalar as it displays.
fn key_text(node: &Node) -> keys::Key {
    match &node.value {
        Value::Str(s) => keys::intern_str(s.inner()),
        Value::Null => keys::intern_str(""),
        _ => keys::intern(node.to_display()),
    }
}

fn merge_into(builder: &mut MapBuilder, node: &Node) {
    match &node.value {
        Value::Map(m) => {
            for (k, e) in m.iter() {
                builder.insert_if_absent(k, e);
            }
        }
        Value::List(l) => {
            for item in l.items() {
                if let Some(m) = item.as_map() {
                    for (k, e) in m.iter() {
                        builder.insert_if_absent(k, e);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The boolean a YAML 1.1 word stands for (`yes`, `On`, `n`, … in any case); readers of
/// YAML 1.1 kinds (Kubernetes, Compose) use it where they read booleans.
pub fn yaml11_bool(word: &str) -> Option<bool> {
    // Compared in place: most plain scalars are no such word, and copying each to lower case
    // was an allocation per scalar.
    const TRUE: [&str; 3] = ["y", "yes", "on"];
    const FALSE: [&str; 3] = ["n", "no", "off"];
    if word.len() > 3 {
        return None;
    }
    if TRUE.iter().any(|t| word.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| word.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// Resolves a scalar by the YAML 1.2 core schema (quoted scalars stay strings).
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, sp: Span) -> Node {
    let forced_str = tag.is_some_and(|t| t.suffix == "str");
    let value = if style != ScalarStyle::Plain || forced_str {
        Value::Str(CelString::compact(text))
    } else {
        plain_value(text)
    };
    apply_tag(tag, Node::new(value, sp))
}

fn plain_value(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(CelBool::from(true)),
        "false" | "False" | "FALSE" => return Value::Bool(CelBool::from(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(CelDouble::from(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(CelDouble::from(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(CelDouble::from(f64::NAN)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Some(i) = parse_int(text) {
            return Value::Int(CelInt::from(i));
        }
        if is_float(text)
            && let Ok(f) = text.parse::<f64>()
        {
            return Value::Float(CelDouble::from(f));
        }
    }
    Value::Str(CelString::compact(text))
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut seen_digit = false;
    let mut seen_exp = false;
    let mut prev = ' ';
    for c in t.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_exp => {}
            'e' | 'E' if seen_digit && !seen_exp => seen_exp = true,
            '+' | '-' if prev == 'e' || prev == 'E' => {}
            _ => return false,
        }
        prev = c;
    }
    seen_digit
}

/// CloudFormation's short-form intrinsic functions, read as their long form.
const CFN_FUNCTIONS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "ToJsonString",
    "Length",
];

fn apply_tag(tag: Option<&Tag>, node: Node) -> Node {
    let Some(tag) = tag else { return node };
    if tag.handle != "!" {
        return node;
    }
    let sp = node.span;
    let (key, value) = match tag.suffix.as_str() {
        "Ref" => ("Ref".to_string(), node),
        "Condition" => ("Condition".to_string(), node),
        "GetAtt" => {
            let value = match node.as_str() {
                Some(s) => {
                    let (res, attr) = s.split_once('.').unwrap_or((s, ""));
                    Node::new(
                        Value::List(ListNode::new(
                            vec![Node::string(res, sp), Node::string(attr, sp)],
                            sp,
                        )),
                        sp,
                    )
                }
                None => node,
            };
            ("Fn::GetAtt".to_string(), value)
        }
        f if CFN_FUNCTIONS.contains(&f) => (format!("Fn::{f}"), node),
        // AWS Rain's `!Rain::Module ./x.yml` (and other `!Rain::` directives) keep their tag
        // as a one-key map, like the long form of a CloudFormation function.
        f if f.starts_with("Rain::") => (f.to_string(), node),
        _ => return node,
    };
    let mut b = MapBuilder::new();
    b.insert(key, sp, value);
    Node::new(Value::Map(b.finish(sp)), sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_words_are_read_in_any_case_and_nothing_else_is() {
        for (word, value) in [
            ("y", true),
            ("Y", true),
            ("yes", true),
            ("Yes", true),
            ("YES", true),
            ("yEs", true),
            ("on", true),
            ("On", true),
            ("ON", true),
            ("n", false),
            ("N", false),
            ("no", false),
            ("No", false),
            ("NO", false),
            ("off", false),
            ("Off", false),
            ("OFF", false),
        ] {
            assert_eq!(yaml11_bool(word), Some(value), "{word}");
        }
        for word in [
            "", "ye", "yess", "o", "of", "offf", "true", "false", "nope", "1", "é", "ÿes",
        ] {
            assert_eq!(yaml11_bool(word), None, "{word}");
        }
    }

    fn one(text: &str) -> (Node, Positions) {
        let mut s = parse(text).unwrap();
        (s.documents.remove(0), s.positions)
    }

    #[test]
    fn positions_are_one_based() {
        let (doc, at) = one("a: 1\nb:\n  c: true\n");
        let m = doc.as_map().unwrap();
        let b = m.entry("b").unwrap();
        assert_eq!(at.start(b.key_span), Pos::new(2, 1));
        let c = b.value.as_map().unwrap().entry("c").unwrap();
        assert_eq!(at.start(c.key_span), Pos::new(3, 3));
        assert!(matches!(c.value.value, Value::Bool(_)));
    }

    #[test]
    fn sequence_items_start_at_their_first_key() {
        let (doc, at) = one("items:\n  - name: a\n    x: 1\n  - name: b\n");
        let items = doc.get("items").unwrap().as_list().unwrap();
        assert_eq!(at.start(items.items()[1].span), Pos::new(4, 5));
    }

    /// The position table counts lines and characters as the YAML parser does, so a file's
    /// spans are offsets of its text (none pinned), multi-byte characters and CRLF included.
    #[test]
    fn spans_are_offsets_of_the_text() {
        let text = "é: \"ü€\"\r\nb:\r\n  - 😀x\r\n  - {k: v}\r\n";
        let (doc, at) = one(text);
        assert_eq!(at.pinned(), 0);
        let e = doc.as_map().unwrap().entry("é").unwrap();
        assert_eq!(
            (at.start(e.value.span), at.end(e.value.span)),
            (Pos::new(1, 4), Pos::new(1, 8))
        );
        assert_eq!(
            (e.value.span.start, e.value.span.end),
            (3, 7),
            "character offsets"
        );
        let items = doc.get("b").unwrap().as_list().unwrap().items();
        assert_eq!(at.start(items[0].span), Pos::new(3, 5));
        assert_eq!(at.end(items[0].span), Pos::new(3, 7));
        let k = items[1].as_map().unwrap().entry("k").unwrap();
        assert_eq!(at.start(k.key_span), Pos::new(4, 6));
        assert_eq!(at.start(k.value.span), Pos::new(4, 9));
    }

    #[test]
    fn merge_keys_and_aliases_expand() {
        let (doc, _) = one("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n");
        let u = doc.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().to_display(), "1");
        assert_eq!(u.get("y").unwrap().to_display(), "3");
    }

    #[test]
    fn quoted_merge_key_is_a_plain_key() {
        let (doc, _) = one("m:\n  '<<': 1\n");
        assert!(doc.get("m").unwrap().get("<<").is_some());
    }

    #[test]
    fn cloudformation_short_tags() {
        let (doc, _) = one("a: !Ref Bucket\nb: !GetAtt Role.Arn\nc: !Sub 'x-${AWS::Region}'\n");
        assert_eq!(doc.get("a").unwrap().to_display(), r#"{"Ref":"Bucket"}"#);
        assert_eq!(
            doc.get("b").unwrap().to_display(),
            r#"{"Fn::GetAtt":["Role","Arn"]}"#
        );
        assert_eq!(
            doc.get("c").unwrap().to_display(),
            r#"{"Fn::Sub":"x-${AWS::Region}"}"#
        );
    }

    #[test]
    fn core_schema_scalars() {
        let (doc, _) = one("a: 010\nb: 1.5\nc: '1'\nd: on\ne: ~\nf: 0x1F\ng: 1e3\n");
        assert!(matches!(doc.get("a").unwrap().value, Value::Int(_)));
        assert!(matches!(doc.get("b").unwrap().value, Value::Float(_)));
        assert!(matches!(doc.get("c").unwrap().value, Value::Str(_)));
        assert_eq!(doc.get("d").unwrap().as_str(), Some("on"));
        assert!(matches!(doc.get("e").unwrap().value, Value::Null));
        assert_eq!(doc.get("f").unwrap().to_display(), "31");
        assert!(matches!(doc.get("g").unwrap().value, Value::Float(_)));
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                std::iter::repeat_n(prev.as_str(), 10)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let flow = "[".repeat(10_000);
        let err = parse(&flow).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
        let block: String = (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let err = parse(&block).unwrap_err();
        assert!(err.message.contains("nesting"), "{err:?}");
        assert_eq!(err.pos.line, 201);
    }

    #[test]
    fn overriding_a_merged_key_is_not_a_duplicate() {
        let s = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let s = parse("use:\n  y: 3\n  y: 4\n").unwrap();
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn duplicate_keys_warn() {
        let s = parse("a: 1\na: 2\n").unwrap();
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.positions.start(s.warnings[0].span), Pos::new(2, 1));
    }

    #[test]
    fn truncated_yaml_reports_line() {
        let err = parse("a:\n  b: [1, 2\n").unwrap_err();
        assert!(err.pos.line >= 2, "{err:?}");
    }

    #[test]
    fn json_parses_with_positions() {
        let (doc, at) = one("{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}\n");
        let b = doc.get("a").unwrap().as_map().unwrap().entry("b").unwrap();
        assert_eq!(at.start(b.key_span), Pos::new(3, 5));
    }

    #[test]
    fn multi_document_streams() {
        let s = parse("a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(s.documents.len(), 2);
        assert_eq!(s.positions.start(s.documents[1].span).line, 3);
    }
}
