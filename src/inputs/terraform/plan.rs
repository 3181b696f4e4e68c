//! `terraform show -json` plans into the module document shape: every resource of
//! `planned_values` (child modules flattened) under `resource.<type>` or `data.<type>`, its
//! `values` plus `_type`, `_name`, `_address` and `_mode`. The plan's own nodes are reused, so
//! findings point into the JSON file.

use cel::common::types::CelString;

use super::body::Pending;
use crate::doc::tree::{Node, Value};

/// Deepest `child_modules` nesting followed.
const MAX_MODULE_DEPTH: u32 = 64;

/// The document of a plan; `None` when `plan` has neither `planned_values` nor
/// `resource_changes`.
pub(super) fn document(plan: &Node) -> Option<Node> {
    let m = plan.as_map()?;
    let planned = m.get("planned_values");
    if planned.is_none() && m.get("resource_changes").is_none() {
        return None;
    }
    let mut doc = Pending::default();
    if let Some(root) = planned.and_then(|p| p.get("root_module")) {
        add_module(&mut doc, root, 0);
    }
    for key in ["resource_changes", "terraform_version"] {
        if let Some(e) = m.entry(key) {
            doc.set(key, e.key_span, e.value.clone());
        }
    }
    Some(Node::new(Value::Map(doc.finish(plan.span)), plan.span))
}

/// The resources of a module and, recursively, of its child modules.
fn add_module(doc: &mut Pending, module: &Node, depth: u32) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    for r in items(module.get("resources")) {
        add_resource(doc, r);
    }
    for child in items(module.get("child_modules")) {
        add_module(doc, child, depth + 1);
    }
}

fn items(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_list).map_or(&[], |l| l.items())
}

/// One resource of `planned_values`, keyed under its type by its address without the
/// `<type>.` / `data.<type>.` prefix (root module) or by its full address (child modules).
fn add_resource(doc: &mut Pending, r: &Node) -> Option<()> {
    let m = r.as_map()?;
    let address = m.entry("address")?;
    let ty = m.entry("type")?;
    let (address_text, ty_text) = (address.value.as_str()?, ty.value.as_str()?);
    let mode = m.get("mode").and_then(Node::as_str).unwrap_or("managed");
    let section = if mode == "data" { "data" } else { "resource" };
    let mut p = Pending::default();
    if let Some(values) = m.get("values").and_then(Node::as_map) {
        for (k, e) in values.iter() {
            p.set(k, e.key_span, e.value.clone());
        }
    }
    p.set("_type", ty.key_span, ty.value.clone());
    if let Some(name) = m.entry("name") {
        p.set("_name", name.key_span, name.value.clone());
    }
    p.set("_address", address.key_span, address.value.clone());
    let mode_span = m.entry("mode").map_or(r.span, |e| e.value.span);
    let mode_node = Node::new(Value::Str(CelString::from(mode.to_string())), mode_span);
    p.set("_mode", mode_span, mode_node);
    let node = Node::new(Value::Map(p.finish(r.span)), r.span);
    let prefix = if mode == "data" {
        format!("data.{ty_text}.")
    } else {
        format!("{ty_text}.")
    };
    let key = address_text.strip_prefix(&prefix).unwrap_or(address_text);
    let path = [(section, r.span), (ty_text, ty.value.span)];
    if let Some(t) = doc.path(&path, r.span) {
        t.set(key, address.value.span, node);
    }
    Some(())
}
