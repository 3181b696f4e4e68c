//! Bodies and blocks into maps. Attributes become entries (an attribute set to `null` is unset,
//! as Terraform reads it: the provider's default applies); unlabelled nested blocks become lists
//! of maps (even a single block, as in Terraform's JSON plan); labelled blocks become maps under
//! their labels; a `dynamic "x"` block over a known collection becomes one element of the `x`
//! list per item, and over an unknown one a single element whose iterator values are unknown;
//! both are marked `_dynamic`.

use cel::common::types::{CelBool, CelInt, CelString};
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::Span as _;
use indexmap::IndexMap;

use super::expr::{is_known, Cx, Iterator};
use crate::doc::tree::{Entry, ListNode, MapBuilder, MapNode, Node, Span, Value};
use crate::doc::PositionsBuilder;

/// One member of a map being assembled.
enum Slot {
    /// An attribute, or a labelled block under its last label.
    Value(Entry),
    /// Repeated blocks.
    List { key_span: Span, items: Vec<Node> },
    /// A level of labels, or a block merged from several (`terraform`, `locals`).
    Map {
        key_span: Span,
        span: Span,
        inner: Pending,
    },
}

/// A map being assembled from one or more bodies; the first definition of a key wins.
#[derive(Default)]
pub(super) struct Pending {
    slots: IndexMap<String, Slot>,
}

impl Pending {
    /// Sets `key` unless it is already present.
    pub fn set(&mut self, key: &str, key_span: Span, value: Node) {
        self.slots
            .entry(key.to_string())
            .or_insert(Slot::Value(Entry { key_span, value }));
    }

    /// Appends to the list under `key` (ignored when `key` holds something else).
    pub fn push(&mut self, key: &str, key_span: Span, value: Node) {
        let slot = self.slots.entry(key.to_string()).or_insert(Slot::List {
            key_span,
            items: Vec::new(),
        });
        if let Slot::List { items, .. } = slot {
            items.push(value);
        }
    }

    /// The map under `key`, created written at `span` if absent; `None` when `key` holds
    /// something else.
    pub fn map(&mut self, key: &str, key_span: Span, span: Span) -> Option<&mut Pending> {
        let slot = self.slots.entry(key.to_string()).or_insert(Slot::Map {
            key_span,
            span,
            inner: Pending::default(),
        });
        match slot {
            Slot::Map { inner, .. } => Some(inner),
            _ => None,
        }
    }

    /// Walks (creating) the maps under `path`, each `(key, key span)`; all new maps are written
    /// at `span`.
    pub fn path(&mut self, path: &[(&str, Span)], span: Span) -> Option<&mut Pending> {
        let mut here = self;
        for (key, key_span) in path {
            here = here.map(key, *key_span, span)?;
        }
        Some(here)
    }

    /// The finished map of a document of one file, written at `span`.
    pub fn finish(self, span: Span) -> MapNode {
        self.finish_in(span, None)
    }

    /// The finished map, written at `span`; `positions` tells the files of a document of
    /// several files apart.
    pub fn finish_in(self, span: Span, positions: Option<&PositionsBuilder>) -> MapNode {
        let mut b = MapBuilder::new();
        for (key, slot) in self.slots {
            let (key_span, value) = match slot {
                Slot::Value(e) => (e.key_span, e.value),
                Slot::List { key_span, items } => (key_span, list(items, positions)),
                Slot::Map {
                    key_span,
                    span,
                    inner,
                } => (
                    key_span,
                    Node::new(Value::Map(inner.finish_in(span, positions)), span),
                ),
            };
            b.insert(key, key_span, value);
        }
        b.finish(span)
    }
}

/// A list of blocks, spanning from the first to the last when they share a file (`positions`
/// tells; without it, the document has one file).
fn list(items: Vec<Node>, positions: Option<&PositionsBuilder>) -> Node {
    let same_file = |a: Span, b: Span| positions.is_none_or(|p| p.file(a) == p.file(b));
    let span = match (items.first(), items.last()) {
        (Some(first), Some(last)) if same_file(first.span, last.span) => first.span.to(last.span),
        (Some(first), _) => first.span,
        _ => Span::default(),
    };
    Node::new(Value::List(ListNode::new(items, span)), span)
}

/// Adds the attributes and nested blocks of `body`.
pub(super) fn add_body(p: &mut Pending, body: &Body, cx: &Cx) {
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) => {
                let value = cx.convert(&a.value, 0);
                if !matches!(value.value, Value::Null) {
                    p.set(a.key.as_str(), cx.span(a.key.span()), value);
                }
            }
            Structure::Block(b) => add_block(p, b, cx),
        }
    }
}

/// Adds one nested block: to a list, under its labels, or as a `dynamic` element.
pub(super) fn add_block(p: &mut Pending, b: &Block, cx: &Cx) {
    if let ("dynamic", [label]) = (b.ident.as_str(), b.labels.as_slice()) {
        let key_span = cx.span(label.span());
        match expansion(b, cx) {
            Some(items) => {
                for it in items {
                    let inner = Cx {
                        src: cx.src,
                        scope: cx.scope,
                        iterators: cx.iterators.iter().cloned().chain([it]).collect(),
                    };
                    p.push(label.as_str(), key_span, dynamic(b, &inner));
                }
            }
            None => p.push(label.as_str(), key_span, dynamic(b, cx)),
        }
        return;
    }
    let ident = (b.ident.as_str(), cx.span(b.ident.span()));
    match b.labels.split_last() {
        None => p.push(ident.0, ident.1, block_map(b, cx, |_| {})),
        Some((last, rest)) => {
            let mut path = vec![ident];
            path.extend(rest.iter().map(|l| label(l, cx)));
            if let Some(m) = p.path(&path, cx.span(b.span())) {
                let (name, name_span) = label(last, cx);
                m.set(name, name_span, block_map(b, cx, |_| {}));
            }
        }
    }
}

/// A label's text and span.
pub(super) fn label<'b>(l: &'b BlockLabel, cx: &Cx) -> (&'b str, Span) {
    (l.as_str(), cx.span(l.span()))
}

/// A block's body as a map written at the block, with `extra` members added after its own.
pub(super) fn block_map(b: &Block, cx: &Cx, extra: impl FnOnce(&mut Pending)) -> Node {
    block_map_of(b, cx, |p| {
        add_body(p, &b.body, cx);
        extra(p);
    })
}

/// The iterator values of a `dynamic` block whose `for_each` is a known list or map: the key
/// (index for a list) and value of each item; `None` when the collection is not known.
fn expansion(b: &Block, cx: &Cx) -> Option<Vec<Iterator>> {
    let collection = cx.convert(&b.body.get_attribute("for_each")?.value, 0);
    if !is_known(&collection) {
        return None;
    }
    let name = match b.body.get_attribute("iterator") {
        Some(a) => cx.text(&a.value),
        None => b.labels.first()?.as_str().to_string(),
    };
    let span = collection.span;
    let items = match &collection.value {
        Value::List(l) => l
            .items()
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    Node::new(Value::Int(CelInt::from(i as i64)), span),
                    v.clone(),
                )
            })
            .collect::<Vec<_>>(),
        Value::Map(m) => m
            .iter()
            .map(|(k, e)| (Node::string(k, e.key_span), e.value.clone()))
            .collect(),
        _ => return None,
    };
    Some(
        items
            .into_iter()
            .map(|(key, value)| Iterator {
                name: name.clone(),
                key,
                value,
            })
            .collect(),
    )
}

/// `dynamic "x" { for_each = …, content { … } }`: the content's members plus `_dynamic: true` and
/// `_for_each: "<source text>"`.
fn dynamic(b: &Block, cx: &Cx) -> Node {
    block_map_of(b, cx, |p| {
        if let Some(content) = b.body.get_blocks("content").next() {
            add_body(p, &content.body, cx);
        }
        let ident_span = cx.span(b.ident.span());
        p.set(
            "_dynamic",
            ident_span,
            Node::new(Value::Bool(CelBool::from(true)), ident_span),
        );
        if let Some(fe) = b.body.get_attribute("for_each") {
            let text = cx.text(&fe.value);
            let span = cx.span(fe.value.span());
            p.set(
                "_for_each",
                cx.span(fe.key.span()),
                Node::new(Value::Str(CelString::from(text)), span),
            );
        }
    })
}

/// A map written at block `b` whose members `fill` supplies.
pub(super) fn block_map_of(b: &Block, cx: &Cx, fill: impl FnOnce(&mut Pending)) -> Node {
    let mut p = Pending::default();
    fill(&mut p);
    let span = cx.span(b.span());
    Node::new(Value::Map(p.finish_in(span, Some(&cx.src.positions))), span)
}
