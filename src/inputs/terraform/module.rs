//! The module document: the top-level blocks of every `.tf` file of a directory grouped by kind
//! (`resource`, `data`, `module`, `variable`, `output`, `locals`, `provider`, `terraform`), with
//! `var.*` and `local.*` references resolved where their values are known.

use std::collections::HashSet;

use cel::common::types::CelString;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span as _;

use super::body::{add_block, add_body, block_map, block_map_of, label, Pending};
use super::expr::{Cx, Scope};
use super::source::Source;
use crate::doc::tree::{Node, Span, Value};

/// One parsed file.
pub(super) struct Parsed {
    /// Its text and index.
    pub src: Source,
    /// Its top-level body.
    pub body: Body,
}

/// The document of a module from its `.tf` files, its tfvars files (in override order) and the
/// arguments of the module call that evaluates it (which win over both).
pub(super) fn document(tf: &[Parsed], tfvars: &[Parsed], bindings: &[(String, Node)]) -> Node {
    let scope = scope(tf, tfvars, bindings);
    let mut doc = Pending::default();
    for f in tf {
        let cx = Cx {
            src: &f.src,
            scope: &scope,
            iterators: Vec::new(),
        };
        for b in f.body.blocks() {
            top_block(&mut doc, b, &cx);
        }
    }
    let Some(first) = tf.first() else {
        return Node::new(Value::Map(doc.finish(Span::default())), Span::default());
    };
    let span = first.src.whole();
    Node::new(
        Value::Map(doc.finish_in(span, Some(&first.src.positions))),
        span,
    )
}

/// Variables (defaults, then tfvars in order, then a call's arguments) and locals of the module.
fn scope<'a>(tf: &'a [Parsed], tfvars: &'a [Parsed], bindings: &[(String, Node)]) -> Scope<'a> {
    let literal = Scope::default();
    let mut scope = Scope::default();
    let mut declared = HashSet::new();
    for f in tf {
        let cx = Cx {
            src: &f.src,
            scope: &literal,
            iterators: Vec::new(),
        };
        for b in f.body.blocks() {
            match (b.ident.as_str(), b.labels.as_slice()) {
                ("variable", [name]) if declared.insert(name.as_str()) => {
                    if let Some(d) = b.body.get_attribute("default") {
                        scope.set_var(name.as_str(), cx.convert(&d.value, 0));
                    }
                }
                ("locals", []) => {
                    for a in b.body.attributes() {
                        scope.add_local(a.key.as_str(), &a.value, &f.src);
                    }
                }
                _ => {}
            }
        }
    }
    for f in tfvars {
        let cx = Cx {
            src: &f.src,
            scope: &literal,
            iterators: Vec::new(),
        };
        for a in f.body.attributes() {
            scope.set_var(a.key.as_str(), cx.convert(&a.value, 0));
        }
    }
    for (name, value) in bindings {
        scope.bind_var(name, value.clone());
    }
    scope
}

/// Places one top-level block in the document; malformed ones (wrong label count) are skipped.
fn top_block(doc: &mut Pending, b: &Block, cx: &Cx) {
    let labels: Vec<(&str, Span)> = b.labels.iter().map(|l| label(l, cx)).collect();
    let kind = (b.ident.as_str(), cx.span(b.ident.span()));
    let span = cx.span(b.span());
    match (kind.0, labels.as_slice()) {
        ("resource", [t, n]) => place(doc, &[kind, *t], *n, span, resource(b, cx, *t, *n, "")),
        ("data", [t, n]) => place(doc, &[kind, *t], *n, span, resource(b, cx, *t, *n, "data.")),
        ("module", [n]) => place(doc, &[kind], *n, span, module(b, cx, *n)),
        ("variable", [n]) => place(doc, &[kind], *n, span, variable(b, cx)),
        ("output", [_]) => add_block(doc, b, cx),
        ("provider", [n]) => {
            if let Some(m) = doc.map(kind.0, kind.1, span) {
                m.push(n.0, n.1, block_map(b, cx, |_| {}));
            }
        }
        ("locals", []) => {
            if let Some(m) = doc.map(kind.0, kind.1, span) {
                for a in b.body.attributes() {
                    m.set(
                        a.key.as_str(),
                        cx.span(a.key.span()),
                        cx.convert(&a.value, 0),
                    );
                }
            }
        }
        ("terraform", []) => {
            if let Some(m) = doc.map(kind.0, kind.1, span) {
                terraform(m, &b.body, cx);
            }
        }
        (
            "resource" | "data" | "module" | "variable" | "output" | "provider" | "locals"
            | "terraform",
            _,
        ) => {}
        _ => add_block(doc, b, cx),
    }
}

/// Sets `node` under the maps of `path`, keyed by `leaf`; the first definition wins.
fn place(doc: &mut Pending, path: &[(&str, Span)], leaf: (&str, Span), span: Span, node: Node) {
    if let Some(m) = doc.path(path, span) {
        m.set(leaf.0, leaf.1, node);
    }
}

fn string(text: String, span: Span) -> Node {
    Node::new(Value::Str(CelString::from(text)), span)
}

/// A resource or data source: its body plus `_type`, `_name` and `_address`.
fn resource(b: &Block, cx: &Cx, t: (&str, Span), n: (&str, Span), prefix: &str) -> Node {
    let both = t.1.to(n.1);
    block_map(b, cx, |p| {
        p.set("_type", t.1, string(t.0.to_string(), t.1));
        p.set("_name", n.1, string(n.0.to_string(), n.1));
        let address = format!("{prefix}{}.{}", t.0, n.0);
        p.set("_address", both, string(address, both));
    })
}

/// A module call: its arguments plus `_name` and `_address`.
fn module(b: &Block, cx: &Cx, n: (&str, Span)) -> Node {
    block_map(b, cx, |p| {
        p.set("_name", n.1, string(n.0.to_string(), n.1));
        p.set("_address", n.1, string(format!("module.{}", n.0), n.1));
    })
}

/// A variable declaration; its `type` is kept as source text.
fn variable(b: &Block, cx: &Cx) -> Node {
    block_map_of(b, cx, |p| {
        if let Some(t) = b.body.get_attribute("type") {
            let text = cx.text(&t.value);
            p.set(
                "type",
                cx.span(t.key.span()),
                string(text, cx.span(t.value.span())),
            );
        }
        add_body(p, &b.body, cx);
    })
}

/// A `terraform` block merged into `m`; `required_providers` blocks merge into one map.
fn terraform(m: &mut Pending, body: &Body, cx: &Cx) {
    for structure in body.iter() {
        match structure {
            Structure::Block(b)
                if b.ident.as_str() == "required_providers" && b.labels.is_empty() =>
            {
                let key_span = cx.span(b.ident.span());
                if let Some(rp) = m.map("required_providers", key_span, cx.span(b.span())) {
                    add_body(rp, &b.body, cx);
                }
            }
            Structure::Block(b) => add_block(m, b, cx),
            Structure::Attribute(a) => {
                m.set(
                    a.key.as_str(),
                    cx.span(a.key.span()),
                    cx.convert(&a.value, 0),
                );
            }
        }
    }
}
