//! `terraform show -json` plans into the module document shape: every resource of
//! `planned_values` (child modules flattened) under `resource.<type>` or `data.<type>`, its
//! `values` plus `_type`, `_name`, `_address` and `_mode`. The plan's own nodes are reused, so
//! findings point into the JSON file.
//!
//! An attribute whose value is not known at plan time (absent from `values`, or null) but whose
//! `configuration` expression references other objects becomes a reference to the first of them
//! (unknown, but set), prefixed with the resource's module path: companions are then linked to
//! their resource as in the `.tf` sources (`bucket = aws_s3_bucket.logs.id`).

use std::collections::HashMap;

use cel::common::types::CelString;

use super::body::Pending;
use crate::doc::tree::{Node, Value};

/// `expressions` of each resource of `configuration`, by address with its module path and
/// without instance keys (`module.net.aws_s3_bucket.logs`).
type Expressions<'p> = HashMap<String, &'p crate::doc::MapNode>;

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
    let mut expressions = Expressions::new();
    if let Some(root) = m.get("configuration").and_then(|c| c.get("root_module")) {
        configured(&mut expressions, root, "", 0);
    }
    if let Some(root) = planned.and_then(|p| p.get("root_module")) {
        add_module(&mut doc, root, &expressions, 0);
    }
    for key in ["resource_changes", "terraform_version"] {
        if let Some(e) = m.entry(key) {
            doc.set(key, e.key_span, e.value.clone());
        }
    }
    Some(Node::new(Value::Map(doc.finish(plan.span)), plan.span))
}

/// The `expressions` of the resources of a `configuration` module and, recursively, of the
/// modules it calls (`prefix` is the module path, `module.net.`).
fn configured<'p>(out: &mut Expressions<'p>, module: &'p Node, prefix: &str, depth: u32) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    for r in items(module.get("resources")) {
        let address = r.get("address").and_then(Node::as_str);
        let expressions = r.get("expressions").and_then(Node::as_map);
        if let (Some(a), Some(e)) = (address, expressions) {
            out.insert(format!("{prefix}{a}"), e);
        }
    }
    let calls = module.get("module_calls").and_then(Node::as_map);
    for (name, call) in calls.into_iter().flat_map(|c| c.iter()) {
        if let Some(child) = call.value.get("module") {
            configured(out, child, &format!("{prefix}module.{name}."), depth + 1);
        }
    }
}

/// An address without its instance keys: `module.a["x"].aws_s3_bucket.b[0]` →
/// `module.a.aws_s3_bucket.b`.
pub(super) fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0u32;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        } else if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// The resources of a module and, recursively, of its child modules.
fn add_module(doc: &mut Pending, module: &Node, expressions: &Expressions<'_>, depth: u32) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    for r in items(module.get("resources")) {
        add_resource(doc, r, expressions);
    }
    for child in items(module.get("child_modules")) {
        add_module(doc, child, expressions, depth + 1);
    }
}

/// `"<module path>.<first reference>"` of a configured expression that references something.
fn reference(expression: &Node, module: &str) -> Option<Node> {
    let refs = expression.get("references")?.as_list()?;
    let first = refs.items().first()?;
    Some(Node::reference(
        format!("{module}{}", first.as_str()?),
        first.span,
    ))
}

fn items(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_list).map_or(&[], |l| l.items())
}

/// One resource of `planned_values`, keyed under its type by its address without the
/// `<type>.` / `data.<type>.` prefix (root module) or by its full address (child modules).
fn add_resource(doc: &mut Pending, r: &Node, expressions: &Expressions<'_>) -> Option<()> {
    let m = r.as_map()?;
    let address = m.entry("address")?;
    let ty = m.entry("type")?;
    let (address_text, ty_text) = (address.value.as_str()?, ty.value.as_str()?);
    let mode = m.get("mode").and_then(Node::as_str).unwrap_or("managed");
    let section = if mode == "data" { "data" } else { "resource" };
    let local = if mode == "data" {
        format!("data.{ty_text}.")
    } else {
        format!("{ty_text}.")
    };
    // `module.net[0].` for `module.net[0].aws_s3_bucket.logs`, empty in the root module.
    let module = address_text
        .rfind(&format!(".{local}"))
        .map_or("", |i| &address_text[..=i]);
    let configured = expressions.get(&without_keys(address_text));
    let referenced = |k: &str| {
        configured
            .and_then(|e| e.get(k))
            .and_then(|x| reference(x, module))
    };
    let mut p = Pending::default();
    let values = m.get("values").and_then(Node::as_map);
    if let Some(values) = values {
        for (k, e) in values.iter() {
            let value = match (&e.value.value, referenced(k)) {
                (Value::Null, Some(r)) => r,
                _ => e.value.clone(),
            };
            p.set(k, e.key_span, value);
        }
    }
    for (k, e) in configured.into_iter().flat_map(|c| c.iter()) {
        if values.is_none_or(|v| v.get(k).is_none())
            && let Some(r) = referenced(k)
        {
            p.set(k, e.key_span, r);
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
    let key = address_text.strip_prefix(&local).unwrap_or(address_text);
    let path = [(section, r.span), (ty_text, ty.value.span)];
    if let Some(t) = doc.path(&path, r.span) {
        t.set(key, address.value.span, node);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::without_keys;

    #[test]
    fn instance_keys_are_dropped_from_addresses() {
        assert_eq!(
            without_keys(r#"module.a["x.y"].aws_s3_bucket.b[0]"#),
            "module.a.aws_s3_bucket.b"
        );
        assert_eq!(
            without_keys(r#"aws_s3_bucket.b["a]\"b"]"#),
            "aws_s3_bucket.b"
        );
        assert_eq!(without_keys("aws_s3_bucket.b"), "aws_s3_bucket.b");
    }
}
