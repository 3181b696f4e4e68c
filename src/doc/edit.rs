//! Edited copies of a document tree: a member taken away, spans kept everywhere else. The
//! location convention uses them to find the member that decides a verdict (`*` in `at:`
//! paths, and the check `isms-lint test` makes on fixtures).

use super::{ListNode, MapBuilder, Node, Span, Value};

/// One step from a container to one of its members: a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

impl Node {
    /// The members of a map or list, each with the span a finding at it shows: a map member's
    /// key, a list item itself. Scalars have none.
    pub fn members(&self) -> Vec<(Step, Span)> {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .map(|(k, e)| (Step::Key(k.to_string()), e.key_span))
                .collect(),
            Value::List(l) => l
                .items()
                .iter()
                .enumerate()
                .map(|(i, n)| (Step::Index(i), n.span))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The node at `route` below this one.
    pub fn at_route(&self, route: &[Step]) -> Option<&Node> {
        let mut node = self;
        for step in route {
            node = match step {
                Step::Key(k) => node.get(k)?,
                Step::Index(i) => node.as_list()?.items().get(*i)?,
            };
        }
        Some(node)
    }

    /// A copy of this node with the member at the end of `route` taken away.
    pub fn without(&self, route: &[Step]) -> Node {
        self.edited(route, &|_| None)
    }

    /// A copy of this node where the container at `route` keeps only the members `keep`
    /// accepts.
    pub fn keeping(&self, route: &[Step], keep: &dyn Fn(&Step) -> bool) -> Node {
        match route.split_first() {
            None => self.filtered(keep),
            Some(_) => self.edited(route, &|n: &Node| Some(n.filtered(keep))),
        }
    }

    /// This container with only the members `keep` accepts.
    fn filtered(&self, keep: &dyn Fn(&Step) -> bool) -> Node {
        let value = match &self.value {
            Value::Map(m) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    if keep(&Step::Key(k.to_string())) {
                        b.insert(k.to_string(), e.key_span, e.value.clone());
                    }
                }
                Value::Map(b.finish(m.span()))
            }
            Value::List(l) => Value::List(ListNode::new(
                l.items()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| keep(&Step::Index(*i)))
                    .map(|(_, n)| n.clone())
                    .collect(),
                l.span(),
            )),
            _ => return self.clone(),
        };
        Node::new(value, self.span)
    }

    /// A copy with the member at the end of `route` replaced by `change` of it (taken away
    /// when `change` gives `None`).
    fn edited(&self, route: &[Step], change: &dyn Fn(&Node) -> Option<Node>) -> Node {
        let Some((first, rest)) = route.split_first() else {
            return self.clone();
        };
        let replace = |n: &Node| {
            if rest.is_empty() {
                change(n)
            } else {
                Some(n.edited(rest, change))
            }
        };
        let value = match (&self.value, first) {
            (Value::Map(m), Step::Key(key)) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    let value = if k == key {
                        replace(&e.value)
                    } else {
                        Some(e.value.clone())
                    };
                    if let Some(v) = value {
                        b.insert(k.to_string(), e.key_span, v);
                    }
                }
                Value::Map(b.finish(m.span()))
            }
            (Value::List(l), Step::Index(i)) => Value::List(ListNode::new(
                l.items()
                    .iter()
                    .enumerate()
                    .filter_map(|(j, n)| if j == *i { replace(n) } else { Some(n.clone()) })
                    .collect(),
                l.span(),
            )),
            _ => return self.clone(),
        };
        Node::new(value, self.span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    #[test]
    fn members_are_taken_away_and_kept() {
        let mut stream = yaml::parse("a:\n  b: 1\n  c: [x, y]\nd: 2\n").unwrap();
        let doc = stream.documents.remove(0);
        let route = [Step::Key("a".into()), Step::Key("c".into()), Step::Index(0)];
        let cut = doc.without(&route);
        assert_eq!(
            cut.to_json(),
            serde_json::json!({"a": {"b": 1, "c": ["y"]}, "d": 2})
        );
        let kept = doc.keeping(&[Step::Key("a".into())], &|s| *s == Step::Key("b".into()));
        assert_eq!(kept.to_json(), serde_json::json!({"a": {"b": 1}, "d": 2}));
        let whole = doc.keeping(&[], &|s| *s == Step::Key("d".into()));
        assert_eq!(whole.to_json(), serde_json::json!({"d": 2}));
        // Spans stay: the member `d` is still shown on line 4.
        let (step, span) = cut.members().pop().unwrap();
        let line = stream.positions.start(span).line;
        assert_eq!((step, line), (Step::Key("d".into()), 4));
        assert_eq!(
            doc.at_route(&route[..2]).map(|n| n.members().len()),
            Some(2)
        );
    }
}
