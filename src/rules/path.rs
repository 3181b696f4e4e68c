//! `at:` paths inside an element (`securityContext.privileged`, `ports[0]`, `"a.b".c`, or
//! alternatives such as `actions|Action` for documents that spell a key two ways), and how they
//! find the most precise span that exists.

use crate::doc::{Node, Span};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A parsed `at:` path: one or more alternatives separated by `|`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPath {
    /// The path as written.
    pub text: String,
    /// The steps of each alternative.
    pub alternatives: Vec<Vec<Segment>>,
}

impl KeyPath {
    /// Parses `a.b[0]."c.d"` (keys with dots or brackets are quoted), or alternatives `a.b|c`.
    pub fn parse(text: &str) -> Result<KeyPath, String> {
        let mut alternatives = Vec::new();
        let mut start = 0;
        let mut quote: Option<char> = None;
        for (i, c) in text.char_indices() {
            match (c, quote) {
                ('"' | '\'', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                ('|', None) => {
                    alternatives.push(Self::parse_one(&text[start..i], text)?);
                    start = i + 1;
                }
                _ => {}
            }
        }
        alternatives.push(Self::parse_one(&text[start..], text)?);
        Ok(KeyPath {
            text: text.to_string(),
            alternatives,
        })
    }

    /// Parses one alternative.
    fn parse_one(part: &str, text: &str) -> Result<Vec<Segment>, String> {
        let part = part.trim();
        let mut segments = Vec::new();
        let mut chars = part.chars().peekable();
        let mut current = String::new();
        let mut expect_segment = true;
        while let Some(c) = chars.next() {
            match c {
                '"' | '\'' => {
                    let mut quoted = String::new();
                    loop {
                        match chars.next() {
                            Some(q) if q == c => break,
                            Some(other) => quoted.push(other),
                            None => return Err(format!("unterminated quote in path '{text}'")),
                        }
                    }
                    segments.push(Segment::Key(quoted));
                    expect_segment = false;
                }
                '.' => {
                    if !current.is_empty() {
                        segments.push(Segment::Key(std::mem::take(&mut current)));
                    } else if expect_segment {
                        return Err(format!("empty key in path '{text}'"));
                    }
                    expect_segment = true;
                }
                '[' => {
                    if !current.is_empty() {
                        segments.push(Segment::Key(std::mem::take(&mut current)));
                    }
                    let mut num = String::new();
                    loop {
                        match chars.next() {
                            Some(']') => break,
                            Some(d) => num.push(d),
                            None => return Err(format!("unterminated '[' in path '{text}'")),
                        }
                    }
                    let i = num
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("'[{num}]' is not a list index in path '{text}'"))?;
                    segments.push(Segment::Index(i));
                    expect_segment = false;
                }
                c => {
                    current.push(c);
                    expect_segment = false;
                }
            }
        }
        if !current.is_empty() {
            segments.push(Segment::Key(current));
        }
        if segments.is_empty() || expect_segment {
            return Err(format!("path '{text}' is empty or ends with '.'"));
        }
        Ok(segments)
    }

    /// The span of the deepest part of the path present in `element`: the key of the last
    /// member found (or the item of the last index), and how many segments matched. Of several
    /// alternatives, the one that matches deepest wins (the first on a tie).
    pub fn locate(&self, element: &Node) -> (Span, usize) {
        let mut best = (element.span, 0);
        for segments in &self.alternatives {
            let found = Self::locate_one(segments, element);
            if found.1 > best.1 {
                best = found;
            }
        }
        best
    }

    /// Whether some alternative of the path exists in full inside `element` (the value it
    /// names is set).
    pub fn resolves(&self, element: &Node) -> bool {
        self.alternatives
            .iter()
            .any(|segments| Self::locate_one(segments, element).1 == segments.len())
    }

    fn locate_one(segments: &[Segment], element: &Node) -> (Span, usize) {
        let mut node = element;
        let mut span = element.span;
        let mut depth = 0;
        for seg in segments {
            match seg {
                Segment::Key(k) => match node.as_map().and_then(|m| m.entry(k)) {
                    Some(entry) => {
                        span = entry.key_span;
                        node = &entry.value;
                    }
                    None => break,
                },
                Segment::Index(i) => match node.as_list().and_then(|l| l.items().get(*i)) {
                    Some(item) => {
                        span = item.span;
                        node = item;
                    }
                    None => break,
                },
            }
            depth += 1;
        }
        (span, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    #[test]
    fn parses_paths() {
        let p = KeyPath::parse("a.b[2].\"c.d\"").unwrap();
        assert_eq!(
            p.alternatives[0],
            vec![
                Segment::Key("a".into()),
                Segment::Key("b".into()),
                Segment::Index(2),
                Segment::Key("c.d".into())
            ]
        );
        assert!(KeyPath::parse("a..b").is_err());
        assert!(KeyPath::parse("a.").is_err());
        assert!(KeyPath::parse("a[x]").is_err());
    }

    #[test]
    fn locates_deepest_present_key() {
        let doc = yaml::parse("name: x\nsecurityContext:\n  runAsUser: 0\n")
            .unwrap()
            .documents
            .remove(0);
        let full = KeyPath::parse("securityContext.runAsUser").unwrap();
        assert_eq!(full.locate(&doc).0.start.line, 3);
        let partial = KeyPath::parse("securityContext.privileged").unwrap();
        let (span, depth) = partial.locate(&doc);
        assert_eq!((span.start.line, depth), (2, 1));
        let missing = KeyPath::parse("resources.limits").unwrap();
        assert_eq!(missing.locate(&doc), (doc.span, 0));
        let either = KeyPath::parse("Action|securityContext.runAsUser|name").unwrap();
        assert_eq!(either.alternatives.len(), 3);
        assert_eq!(either.locate(&doc).0.start.line, 3);
        assert!(KeyPath::parse("a|").is_err());
        assert_eq!(KeyPath::parse("\"a|b\"").unwrap().alternatives.len(), 1);
    }
}
