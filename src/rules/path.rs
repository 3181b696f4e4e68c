//! `at:` paths inside an element (`securityContext.privileged`, `ports[0]`, `"a.b".c`, or
//! alternatives such as `actions|Action` for documents that spell a key two ways), and how they
//! find the most precise span that exists. A `*` step (`env.*`, `Statement.*.Principal.*`)
//! stands for the member that decides the verdict, found by the caller.

use crate::doc::edit::Step;
use crate::doc::{Node, Span};

/// Finds, for the container at a route inside the element, the member that decides the verdict.
pub type Decide<'a> = dyn FnMut(&[Step], &Node) -> Option<(Step, Span)> + 'a;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
    /// `*`: the member that decides the verdict (the engine tries each; see
    /// docs/rule-format.md).
    Decider,
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
        let key = |k: String| {
            if k == "*" {
                Segment::Decider
            } else {
                Segment::Key(k)
            }
        };
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
                        segments.push(key(std::mem::take(&mut current)));
                    } else if expect_segment {
                        return Err(format!("empty key in path '{text}'"));
                    }
                    expect_segment = true;
                }
                '[' => {
                    if !current.is_empty() {
                        segments.push(key(std::mem::take(&mut current)));
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
            segments.push(key(current));
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
        self.locate_with(element, &mut |_, _| None)
    }

    /// [`KeyPath::locate`], with `decide` naming the member a `*` step stands for (a `*` that
    /// finds none ends the path there).
    pub fn locate_with(&self, element: &Node, decide: &mut Decide<'_>) -> (Span, usize) {
        let mut best = (element.span, 0);
        for segments in &self.alternatives {
            let found = Self::locate_one(segments, element, decide);
            if found.1 > best.1 {
                best = found;
            }
        }
        best
    }

    /// Whether some alternative of the path exists in full inside `element` (the value it
    /// names is set); a `*` step asks only that the path up to it exists.
    pub fn resolves(&self, element: &Node) -> bool {
        self.alternatives.iter().any(|segments| {
            let known = segments
                .iter()
                .position(|s| *s == Segment::Decider)
                .unwrap_or(segments.len());
            let prefix = &segments[..known];
            Self::locate_one(prefix, element, &mut |_, _| None).1 == prefix.len()
        })
    }

    /// Whether the path has a `*` step.
    pub fn has_decider(&self) -> bool {
        self.alternatives
            .iter()
            .flatten()
            .any(|s| *s == Segment::Decider)
    }

    fn locate_one(segments: &[Segment], element: &Node, decide: &mut Decide<'_>) -> (Span, usize) {
        let mut node = element;
        let mut span = element.span;
        let mut depth = 0;
        let mut route: Vec<Step> = Vec::new();
        for seg in segments {
            let step = match seg {
                Segment::Key(k) => Step::Key(k.clone()),
                Segment::Index(i) => Step::Index(*i),
                Segment::Decider => match decide(&route, node) {
                    Some((step, _)) => step,
                    None => break,
                },
            };
            let next = match &step {
                Step::Key(k) => node
                    .as_map()
                    .and_then(|m| m.entry(k))
                    .map(|e| (e.key_span, &e.value)),
                Step::Index(i) => node
                    .as_list()
                    .and_then(|l| l.items().get(*i))
                    .map(|n| (n.span, n)),
            };
            let Some((s, n)) = next else {
                break;
            };
            span = s;
            node = n;
            route.push(step);
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
        let mut stream = yaml::parse("name: x\nsecurityContext:\n  runAsUser: 0\n").unwrap();
        let (doc, at) = (stream.documents.remove(0), stream.positions);
        let full = KeyPath::parse("securityContext.runAsUser").unwrap();
        assert_eq!(at.start(full.locate(&doc).0).line, 3);
        let partial = KeyPath::parse("securityContext.privileged").unwrap();
        let (span, depth) = partial.locate(&doc);
        assert_eq!((at.start(span).line, depth), (2, 1));
        let missing = KeyPath::parse("resources.limits").unwrap();
        assert_eq!(missing.locate(&doc), (doc.span, 0));
        let either = KeyPath::parse("Action|securityContext.runAsUser|name").unwrap();
        assert_eq!(either.alternatives.len(), 3);
        assert_eq!(at.start(either.locate(&doc).0).line, 3);
        assert!(KeyPath::parse("a|").is_err());
        assert_eq!(KeyPath::parse("\"a|b\"").unwrap().alternatives.len(), 1);
    }

    #[test]
    fn a_star_step_is_the_member_the_caller_names() {
        let mut stream = yaml::parse(
            "env:
  A: 1
  B: 2
other: 3
",
        )
        .unwrap();
        let (doc, at) = (stream.documents.remove(0), stream.positions);
        let p = KeyPath::parse("env.*").unwrap();
        assert_eq!(p.alternatives[0][1], Segment::Decider);
        assert!(p.has_decider());
        assert_eq!(
            KeyPath::parse("'*'").unwrap().alternatives[0][0],
            Segment::Key("*".into())
        );
        let (span, depth) = p.locate_with(&doc, &mut |route, node| {
            assert_eq!(route, [Step::Key("env".into())]);
            node.members().into_iter().nth(1)
        });
        assert_eq!((at.start(span).line, depth), (3, 2));
        // No deciding member: the path ends at the container.
        let (span, depth) = p.locate_with(&doc, &mut |_, _| None);
        assert_eq!((at.start(span).line, depth), (1, 1));
    }
}
