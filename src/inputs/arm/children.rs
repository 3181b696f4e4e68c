//! `armChildren(doc, item, type)`: the resources of a template that belong to one resource —
//! its auditing settings, firewall rules, diagnostic settings — however the template writes
//! the relation:
//!
//! - nested in the resource's own `resources`;
//! - at top level, named `<parent name>/<child name>` (`"[concat(parameters('server'),
//!   '/default')]"`): the child's name starts with the parent's resolved name and `/`, or its
//!   expression contains the parent's name expression;
//! - an extension resource (`Microsoft.Insights/diagnosticSettings`) whose `scope` names the
//!   parent's type and its name (resolved, as a quoted literal, or as the same expression).
//!
//! Matching by name text is a heuristic: two resources named by the same expression are the
//! same resource to it, which is what a deployment would make of them too.

use crate::cel::args::{arg_map, arg_str, charge, list_of, text_of, Args, Ret};
use crate::doc::{MapNode, Node, Value};
use crate::inputs::{type_matches, Input};

use super::{collect, INPUT};

/// `armChildren(doc, item, type)`.
pub(super) fn children<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "armChildren")?;
    let item = arg_map(&args, 1, "armChildren")?;
    let wanted = arg_str(&args, 2, "armChildren")?;
    let (Some(doc), Some(item)) = (doc, item) else {
        return list_of(Vec::new());
    };
    let (hits, walked) = children_of(doc, item, wanted);
    charge(walked)?;
    list_of(hits)
}

/// The resources of `doc` of type `wanted` that belong to `item`, each once, in template order
/// (nested ones first), and how many resources were looked at.
fn children_of(doc: &MapNode, item: &MapNode, wanted: &str) -> (Vec<Node>, usize) {
    let Some(all) = INPUT.resources(doc) else {
        return (Vec::new(), 0);
    };
    let mut walked = 0;
    let mut hits: Vec<Node> = Vec::new();
    let mut nested = Vec::new();
    if let Some(r) = item.get("resources") {
        collect(r, &mut nested);
    }
    let owner = Owner::of(item);
    let candidates = nested
        .into_iter()
        .map(|r| (r.get("_type").and_then(Node::as_str), r))
        .chain(all.filter(|(_, r)| owner.owns(r)));
    for (t, r) in candidates {
        walked += 1;
        if t.is_some_and(|t| type_matches(t, wanted)) && !hits.iter().any(|h| h.span == r.span) {
            hits.push(r.clone());
        }
    }
    (hits, walked)
}

/// What identifies a parent resource in its children's names and scopes.
struct Owner {
    /// Its full type, lower case (`microsoft.sql/servers`).
    kind: String,
    /// Its name where known, lower case.
    name: Option<String>,
    /// The expression inside `[…]` that names it, lower case, where its name is one.
    expr: Option<String>,
}

impl Owner {
    fn of(item: &MapNode) -> Owner {
        let lower = |n: Option<&Node>| n.and_then(Node::as_str).map(str::to_ascii_lowercase);
        Owner {
            kind: lower(item.get("_type")).unwrap_or_default(),
            name: lower(item.get("name")).filter(|n| !n.is_empty()),
            expr: lower(item.get("_nameExpr")).filter(|e| !e.is_empty()),
        }
    }

    /// Whether `r`, a resource of the same template, is a child of this one by name or scope.
    fn owns(&self, r: &Node) -> bool {
        if self.kind.is_empty() {
            return false;
        }
        let lower = |k: &str| r.get(k).and_then(text_of).map(str::to_ascii_lowercase);
        let child_type = lower("_type").unwrap_or_default();
        let by_name =
            child_type.starts_with(&format!("{}/", self.kind))
                && (self.name.as_ref().is_some_and(|n| {
                    lower("_name").is_some_and(|c| c.starts_with(&format!("{n}/")))
                }) || self
                    .expr
                    .as_ref()
                    .is_some_and(|e| lower("_nameExpr").is_some_and(|c| c.contains(e.as_str()))));
        by_name || self.scopes(r.get("scope"))
    }

    /// Whether an extension resource's `scope` is this resource.
    fn scopes(&self, scope: Option<&Node>) -> bool {
        let Some(scope) = scope else {
            return false;
        };
        let Some(text) = text_of(scope).map(str::to_ascii_lowercase) else {
            return false;
        };
        if !text.contains(&self.kind) {
            return false;
        }
        let named = self.name.as_ref().is_some_and(|n| match &scope.value {
            Value::Str(_) => text.ends_with(&format!("/{n}")),
            _ => text.contains(&format!("'{n}'")),
        });
        named
            || self
                .expr
                .as_ref()
                .is_some_and(|e| text.contains(e.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    const TEMPLATE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {"server": {"type": "string"}, "vault": {"type": "string"}},
  "resources": [
    {"type": "Microsoft.Sql/servers", "name": "[parameters('server')]",
     "resources": [{"type": "auditingSettings", "name": "default"}]},
    {"type": "Microsoft.Sql/servers/auditingSettings", "name": "[concat(parameters('server'), '/default')]"},
    {"type": "Microsoft.Sql/servers/auditingSettings", "name": "other/default"},
    {"type": "Microsoft.Sql/servers", "name": "sql2"},
    {"type": "Microsoft.Sql/servers/auditingSettings", "name": "sql2/default"},
    {"type": "Microsoft.Sql/servers/auditingSettings", "name": "sql22/default"},
    {"type": "Microsoft.KeyVault/vaults", "name": "[parameters('vault')]",
     "resources": [{"type": "providers/diagnosticSettings", "name": "Microsoft.Insights/d"}]},
    {"type": "Microsoft.Insights/diagnosticSettings", "name": "a",
     "scope": "[format('Microsoft.KeyVault/vaults/{0}', parameters('vault'))]"},
    {"type": "Microsoft.Insights/diagnosticSettings", "name": "b",
     "scope": "[format('Microsoft.Storage/storageAccounts/{0}', parameters('vault'))]"},
    {"type": "Microsoft.Insights/diagnosticSettings", "name": "c",
     "scope": "[resourceId('Microsoft.Sql/servers', 'sql2')]"}
  ]
}"#;

    fn names(doc: &Node, parent: usize, wanted: &str) -> Vec<String> {
        let m = doc.as_map().unwrap();
        let item = INPUT.resources(m).unwrap().nth(parent).unwrap().1;
        children_of(m, item.as_map().unwrap(), wanted)
            .0
            .iter()
            .map(|n| n.get("_name").unwrap().to_display())
            .collect()
    }

    #[test]
    fn children_are_found_nested_by_name_and_by_scope() {
        let doc = super::super::normalize(&yaml::parse(TEMPLATE).unwrap().documents.remove(0));
        let audit = "Microsoft.Sql/servers/auditingSettings";
        let diag = "Microsoft.Insights/diagnosticSettings";
        // Resource 0 is the server named by a parameter, 1 its nested child.
        assert_eq!(
            names(&doc, 0, audit),
            ["default", "[concat(parameters('server'), '/default')]"]
        );
        assert_eq!(names(&doc, 0, diag), Vec::<String>::new());
        assert_eq!(names(&doc, 4, audit), ["sql2/default"]);
        assert_eq!(names(&doc, 4, diag), ["c"]);
        assert_eq!(names(&doc, 7, diag), ["a"]);
        let nested = "Microsoft.KeyVault/vaults/providers/diagnosticSettings";
        assert_eq!(names(&doc, 7, nested), ["Microsoft.Insights/d"]);
    }
}
