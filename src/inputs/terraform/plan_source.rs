//! A plan read next to its `.tf` sources: each root-module resource of the plan is shown at its
//! block in the source (found by address), so findings point at the line to change rather than
//! into the JSON. A value the source writes is shown at that attribute (nested blocks item by
//! item); a value the source leaves out (a provider default in the plan) at the block's header.
//! Resources of child modules, and plans without sources beside them, keep the plan's lines.
//!
//! The source files are added to the document's files after the plan (files 1, 2, … of its
//! position table).

use std::path::Path;

use super::plan::without_keys;
use super::{module_files, parse_module};
use crate::doc::positions::Import;
use crate::doc::tree::{ListNode, MapBuilder, Node, Span, Value};
use crate::doc::PositionsBuilder;
use crate::inputs::TreeInfo;

/// The plan document `doc` with its resources placed at their blocks in the `.tf` files beside
/// the plan file; the files used are recorded in `info.added`.
pub(super) fn locate(doc: Node, info: &TreeInfo) -> Node {
    let Some(dir) = info.path.parent() else {
        return doc;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let shown_dir = Path::new(&info.display)
        .parent()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let display = |p: &Path| {
        let name = super::super::file_name(p);
        if shown_dir.is_empty() {
            name
        } else {
            format!("{shown_dir}/{name}")
        }
    };
    let files = module_files(dir, &display, true);
    if files.tf.is_empty() {
        return doc;
    }
    let (source, _, source_positions) = parse_module(&files.tf, &files.tfvars);
    let Some(map) = doc.as_map() else {
        return doc;
    };
    let mut added = info.added.borrow_mut();
    let added = &mut *added;
    // The module's files are `tf` then `tfvars`; the document shows the `tf` files (a tfvars
    // value is never where a resource is shown).
    added.files.extend(files.tf.iter().map(|s| s.path.clone()));
    added
        .files
        .extend(files.tfvars.iter().map(|s| s.path.clone()));
    let import = added.positions.import(&source_positions);
    let shift = Shift {
        import,
        to: &added.positions,
    };
    let shift = &shift;
    let mut b = MapBuilder::new();
    for (key, entry) in map.iter() {
        let value = match key {
            "resource" | "data" => section(&entry.value, source.get(key), shift),
            _ => entry.value.clone(),
        };
        b.insert(key.to_string(), entry.key_span, value);
    }
    Node::new(Value::Map(b.finish(doc.span)), doc.span)
}

/// How spans of the module's files read in the plan document.
struct Shift<'a> {
    import: Import<'a>,
    to: &'a PositionsBuilder,
}

fn shifted(span: Span, shift: &Shift<'_>) -> Span {
    shift.import.span(shift.to, span)
}

/// `resource` or `data` of the plan (`<type>.<key>`), each resource found in the source's
/// section of the same name placed there.
fn section(plan: &Node, source: Option<&Node>, shift: &Shift<'_>) -> Node {
    let (Some(types), Some(source)) = (plan.as_map(), source) else {
        return plan.clone();
    };
    let mut b = MapBuilder::new();
    for (ty, by_key) in types.iter() {
        let Some(resources) = by_key.value.as_map() else {
            b.insert(ty.to_string(), by_key.key_span, by_key.value.clone());
            continue;
        };
        let mut t = MapBuilder::new();
        for (key, r) in resources.iter() {
            // Root-module resources only: `logs`, `logs[0]`, `logs["a"]`.
            let name = without_keys(key);
            let block = (!name.contains('.'))
                .then(|| source.get(ty)?.get(&name))
                .flatten();
            match block {
                Some(block) => {
                    let header = header(block, shift);
                    t.insert(key.to_string(), header, overlay(&r.value, block, shift));
                }
                None => {
                    t.insert(key.to_string(), r.key_span, r.value.clone());
                }
            }
        }
        b.insert(
            ty.to_string(),
            by_key.key_span,
            Node::new(Value::Map(t.finish(by_key.value.span)), by_key.value.span),
        );
    }
    Node::new(Value::Map(b.finish(plan.span)), plan.span)
}

/// The `resource "type" "name"` labels of a block: where the block is shown.
fn header(block: &Node, shift: &Shift<'_>) -> Span {
    let labels = block
        .as_map()
        .and_then(|m| m.entry("_address"))
        .map_or(block.span, |e| e.value.span);
    shifted(labels, shift)
}

/// The plan's value `plan` written where the source writes it (`source`); what the source
/// leaves out is written at the enclosing block (its first line is the block's header).
fn overlay(plan: &Node, source: &Node, shift: &Shift<'_>) -> Node {
    let at = shifted(source.span, shift);
    match (&plan.value, &source.value) {
        (Value::Map(p), Value::Map(s)) => {
            let mut b = MapBuilder::new();
            for (k, e) in p.iter() {
                let (key_span, value) = match s.entry(k) {
                    Some(se) => (
                        shifted(se.key_span, shift),
                        overlay(&e.value, &se.value, shift),
                    ),
                    None => (at, e.value.relocated(at)),
                };
                b.insert(k.to_string(), key_span, value);
            }
            Node::new(Value::Map(b.finish(at)), at)
        }
        // Item by item only when the source writes as many blocks as the plan has: otherwise
        // (blocks from `dynamic`, a set the plan reorders and merges) all at the first block.
        (Value::List(p), Value::List(s)) if p.items().len() != s.items().len() => {
            plan.relocated(at)
        }
        (Value::List(p), Value::List(s)) => {
            let items = p
                .items()
                .iter()
                .enumerate()
                .map(|(i, item)| match s.items().get(i) {
                    Some(si) => overlay(item, si, shift),
                    None => item.relocated(at),
                })
                .collect();
            Node::new(Value::List(ListNode::new(items, at)), at)
        }
        _ => plan.relocated(at),
    }
}
