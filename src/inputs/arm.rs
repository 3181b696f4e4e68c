//! Azure Resource Manager templates: JSON (or YAML) whose `$schema` is a deployment template
//! schema (`…/deploymentTemplate.json#`, and the subscription, management-group and tenant
//! ones) with `resources`.
//!
//! Rules read resources the way a deployment with default parameters would create them:
//!
//! - Template expressions (`"[…]"` strings; `"[[…"` is a literal `[`) are evaluated where the
//!   template gives their value: `parameters('x')` with a literal `defaultValue`,
//!   `variables('y')`, `concat`, `format`, `toLower`/`toUpper`, `string`/`int`/`bool`,
//!   `equals`/`not`/`and`/`or`, `if`, `true()`/`false()`/`null()`, property access and indexes.
//!   `if` on a condition that is not known keeps both branches (judged one by one).
//! - `resourceId`, `reference`, `resourceGroup`, `subscription`, `uniqueString`, `guid`,
//!   `list*` … give values known only at deployment but set (a reference); a parameter without
//!   default and any other function are **unknown**.
//! - Nested resources (`resources` inside a resource) are resources too, with their full type
//!   (`Microsoft.Sql/servers/firewallRules`, `Microsoft.KeyVault/vaults/providers/diagnosticSettings`
//!   for a nested `providers/diagnosticSettings`); every resource gets `_type` (its full type),
//!   `_name` and, when an expression names it, `_nameExpr` (the text inside `[…]`). Resource
//!   types compare case-insensitively, as Azure does.
//! - `armChildren(doc, item, type)` relates a resource to its children and extension resources
//!   (see [`children`]).
//! - A resource whose `condition` is decided false is not deployed and not judged.

mod children;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use super::{Input, Kind, Resources, TreeFormat};
use crate::cel::{Helper, HelperGate};
use crate::doc::{ChoiceNode, ListNode, MapBuilder, MapNode, Node, Span, Value};
use cel::common::types::{CelBool, CelInt};

/// ARM templates.
pub struct Arm;

/// The one instance the registry lists.
pub static INPUT: Arm = Arm;

impl Input for Arm {
    fn name(&self) -> &'static str {
        "arm"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Arm]
    }

    fn recognize(&self, _path: &Path, _format: TreeFormat, root: &Node) -> Option<Kind> {
        let schema = root.get("$schema").and_then(Node::as_str)?;
        (schema.contains("DeploymentTemplate.json") || schema.contains("deploymentTemplate.json"))
            .then_some(())
            .and(root.get("resources"))
            .map(|_| Kind::Arm)
    }

    fn sniff(&self, _path: &Path, text: &str) -> bool {
        text.contains("eploymentTemplate.json")
    }

    fn documents(
        &self,
        _kind: Kind,
        root: Node,
        name: String,
        _tree: &super::TreeInfo,
    ) -> Vec<(String, Node)> {
        vec![(name, normalize(&root))]
    }

    fn resources<'a>(&self, doc: &'a MapNode) -> Option<Resources<'a>> {
        doc.get("$schema")?;
        let mut all = Vec::new();
        collect(doc.get("resources")?, &mut all);
        Some(Box::new(
            all.into_iter()
                .map(|r| (r.get("_type").and_then(Node::as_str), r)),
        ))
    }

    fn fence(&self, _path: &Path) -> &'static str {
        "json"
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
    }
}

const HELPERS: &[Helper] = &[Helper {
    name: "armChildren",
    signature: "armChildren(doc, item, type) -> list<map>",
    doc: "ARM: resources of `type` that belong to the resource `item`: nested in it, named `<item's name>/…` at top level, or extension resources (`Microsoft.Insights/diagnosticSettings`) whose `scope` names it.",
    arity: 3,
    function: children::children,
    gate: HelperGate::None,
}];

/// Every resource map under `resources` (a list, or a map of symbolic names), nested ones too.
fn collect<'a>(resources: &'a Node, out: &mut Vec<&'a Node>) {
    let items: Vec<&Node> = match &resources.value {
        Value::List(l) => l.items().iter().collect(),
        Value::Map(m) => m.iter().map(|(_, e)| &e.value).collect(),
        _ => Vec::new(),
    };
    for r in items.into_iter().filter(|r| r.as_map().is_some()) {
        out.push(r);
        if let Some(nested) = r.get("resources") {
            collect(nested, out);
        }
    }
}

/// The template with its resources' expressions evaluated as far as the template allows.
pub fn normalize(root: &Node) -> Node {
    let Some(template) = root.as_map() else {
        return root.clone();
    };
    let cx = Template {
        parameters: template.get("parameters").and_then(Node::as_map),
        variables: template.get("variables").and_then(Node::as_map),
        resolving: RefCell::new(Vec::new()),
        memo: RefCell::new(HashMap::new()),
    };
    let mut b = MapBuilder::new();
    for (key, entry) in template.iter() {
        let value = if key == "resources" {
            cx.resources(&entry.value, "")
        } else {
            entry.value.clone()
        };
        b.insert(key.to_string(), entry.key_span, value);
    }
    Node::new(Value::Map(b.finish(root.span)), root.span)
}

/// What an expression gives before deployment.
#[derive(Clone, Debug)]
enum Ev {
    /// A value (possibly a choice of two).
    Known(Node),
    /// Not known; `set` when it is known not to be null or empty (a reference).
    Unknown { set: bool },
}

struct Template<'t> {
    parameters: Option<&'t MapNode>,
    variables: Option<&'t MapNode>,
    /// Variables being resolved (cycles resolve to unknown).
    resolving: RefCell<Vec<String>>,
    memo: RefCell<HashMap<String, Ev>>,
}

/// Functions whose value exists only after deployment but is never empty: references.
const REFERENCES: &[&str] = &[
    "resourceid",
    "subscriptionresourceid",
    "tenantresourceid",
    "extensionresourceid",
    "managementgroupresourceid",
    "reference",
    "resourcegroup",
    "subscription",
    "tenant",
    "managementgroup",
    "deployment",
    "environment",
    "uniquestring",
    "guid",
    "newguid",
    "utcnow",
];

impl Template<'_> {
    /// `resources`: each resource rewritten, with `_type` and `_name`; nested ones under their
    /// parent's type. A resource whose `condition` is false is left out.
    fn resources(&self, node: &Node, parent: &str) -> Node {
        match &node.value {
            Value::List(l) => {
                let items = l
                    .items()
                    .iter()
                    .filter_map(|r| self.resource(r, parent))
                    .collect();
                Node::new(Value::List(ListNode::new(items, l.span())), node.span)
            }
            Value::Map(m) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    if let Some(r) = self.resource(&e.value, parent) {
                        b.insert(k.to_string(), e.key_span, r);
                    }
                }
                Node::new(Value::Map(b.finish(m.span())), node.span)
            }
            _ => node.clone(),
        }
    }

    fn resource(&self, r: &Node, parent: &str) -> Option<Node> {
        let Some(m) = r.as_map() else {
            return Some(r.clone());
        };
        if let Some(c) = m.get("condition")
            && let Ev::Known(n) = self.value(c, 0)
            && matches!(n.value, Value::Bool(b) if !*b)
        {
            return None;
        }
        let own = m.get("type").and_then(Node::as_str).unwrap_or("");
        // A nested resource may give its type relative to its parent (`firewallRules`,
        // `providers/diagnosticSettings`); a full type starts with a namespace (`Microsoft.Sql`).
        let full = if parent.is_empty() || own.split('/').next().is_some_and(|ns| ns.contains('.'))
        {
            own.to_string()
        } else {
            format!("{parent}/{own}")
        };
        let mut b = MapBuilder::new();
        for (k, e) in m.iter() {
            let v = if k == "resources" {
                self.resources(&e.value, &full)
            } else {
                self.rewrite(&e.value, 0)
            };
            b.insert(k.to_string(), e.key_span, v);
        }
        let type_span = m.entry("type").map_or(r.span, |e| e.value.span);
        b.insert("_type".into(), type_span, Node::string(full, type_span));
        let name = match m.get("name").map(|n| self.value(n, 0)) {
            Some(Ev::Known(n)) => n.to_display(),
            _ => m.get("name").map(Node::to_display).unwrap_or_default(),
        };
        let name_span = m.entry("name").map_or(r.span, |e| e.value.span);
        b.insert("_name".into(), name_span, Node::string(name, name_span));
        // The expression that names it, for relating children written at top level.
        if let Some(expr) = m.get("name").and_then(Node::as_str).and_then(expression) {
            b.insert("_nameExpr".into(), name_span, Node::string(expr, name_span));
        }
        Some(Node::new(Value::Map(b.finish(m.span())), r.span))
    }

    /// A value with every expression string in it evaluated.
    fn rewrite(&self, node: &Node, depth: u32) -> Node {
        if depth > 64 {
            return node.clone();
        }
        match &node.value {
            Value::Str(_) => match self.value(node, depth) {
                Ev::Known(n) => n,
                Ev::Unknown { set: true } => Node::reference(node.to_display(), node.span),
                Ev::Unknown { set: false } => Node::unknown(node.to_display(), node.span),
            },
            Value::Map(m) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    b.insert(k.to_string(), e.key_span, self.rewrite(&e.value, depth + 1));
                }
                Node::new(Value::Map(b.finish(m.span())), node.span)
            }
            Value::List(l) => Node::new(
                Value::List(ListNode::new(
                    l.items()
                        .iter()
                        .map(|i| self.rewrite(i, depth + 1))
                        .collect(),
                    l.span(),
                )),
                node.span,
            ),
            _ => node.clone(),
        }
    }

    /// The value of a node: an expression string evaluated, a literal as it is.
    fn value(&self, node: &Node, depth: u32) -> Ev {
        let Some(s) = node.as_str() else {
            return Ev::Known(node.clone());
        };
        let t = s.trim();
        if !(t.starts_with('[') && t.ends_with(']')) || t.starts_with("[[") {
            let literal = t
                .strip_prefix("[[")
                .map_or_else(|| s.to_string(), |r| format!("[{r}"));
            return Ev::Known(Node::string(literal, node.span));
        }
        let Some(expr) = parse(&t[1..t.len() - 1]) else {
            return Ev::Unknown { set: false };
        };
        self.eval(&expr, node.span, depth + 1)
    }

    fn eval(&self, e: &Expr, span: Span, depth: u32) -> Ev {
        if depth > 64 {
            return Ev::Unknown { set: false };
        }
        let known = |v: Value| Ev::Known(Node::new(v, span));
        match e {
            Expr::Str(s) => Ev::Known(Node::string(s.clone(), span)),
            Expr::Int(i) => known(Value::Int(CelInt::from(*i))),
            Expr::Member(base, field) => match self.eval(base, span, depth + 1) {
                Ev::Known(n) => n
                    .as_map()
                    .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)))
                    .map_or(Ev::Unknown { set: false }, |(_, e)| {
                        Ev::Known(e.value.relocated(span))
                    }),
                u => u,
            },
            Expr::Index(base, index) => {
                match (
                    self.eval(base, span, depth + 1),
                    self.eval(index, span, depth + 1),
                ) {
                    (Ev::Known(b), Ev::Known(i)) => {
                        let item = match (&b.value, &i.value) {
                            (Value::List(l), Value::Int(i)) => usize::try_from(**i)
                                .ok()
                                .and_then(|i| l.items().get(i))
                                .cloned(),
                            (Value::Map(m), Value::Str(k)) => m.get(k.inner()).cloned(),
                            _ => None,
                        };
                        item.map_or(Ev::Unknown { set: false }, |n| Ev::Known(n.relocated(span)))
                    }
                    (Ev::Unknown { set }, _) => Ev::Unknown { set },
                    _ => Ev::Unknown { set: false },
                }
            }
            Expr::Call(name, args) => self.call(&name.to_ascii_lowercase(), args, span, depth),
        }
    }

    fn call(&self, name: &str, args: &[Expr], span: Span, depth: u32) -> Ev {
        let arg = |i: usize| {
            args.get(i).map_or(Ev::Unknown { set: false }, |a| {
                self.eval(a, span, depth + 1)
            })
        };
        let text = |ev: &Ev| match ev {
            Ev::Known(n) => scalar(n),
            Ev::Unknown { .. } => None,
        };
        let truth = |ev: &Ev| match ev {
            Ev::Known(n) => match &n.value {
                Value::Bool(b) => Some(**b),
                Value::Str(s) => s.inner().parse::<bool>().ok(),
                _ => None,
            },
            Ev::Unknown { .. } => None,
        };
        let known = |v: Value| Ev::Known(Node::new(v, span));
        let boolean = |b: bool| known(Value::Bool(CelBool::from(b)));
        match name {
            "parameters" => match text(&arg(0)) {
                Some(p) => self.parameter(&p, span, depth),
                None => Ev::Unknown { set: false },
            },
            "variables" => match text(&arg(0)) {
                Some(v) => self.variable(&v, span, depth),
                None => Ev::Unknown { set: false },
            },
            "concat" => {
                let evs: Vec<Ev> = (0..args.len()).map(arg).collect();
                let lists: Option<Vec<Node>> = evs
                    .iter()
                    .map(|e| match e {
                        Ev::Known(n) if n.as_list().is_some() => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                if let Some(lists) = lists.filter(|l| !l.is_empty()) {
                    let items = lists
                        .iter()
                        .flat_map(|l| l.as_list().map(|l| l.items().to_vec()).unwrap_or_default())
                        .collect();
                    return known(Value::List(ListNode::new(items, span)));
                }
                let texts: Option<Vec<String>> = evs.iter().map(text).collect();
                match texts {
                    Some(t) => Ev::Known(Node::string(t.concat(), span)),
                    None if evs.iter().any(|e| matches!(e, Ev::Unknown { set: true })) => {
                        Ev::Unknown { set: true }
                    }
                    None => Ev::Unknown { set: false },
                }
            }
            "format" => {
                let Some(template) = text(&arg(0)) else {
                    return Ev::Unknown { set: false };
                };
                let values: Option<Vec<String>> = (1..args.len()).map(|i| text(&arg(i))).collect();
                match values {
                    Some(v) => {
                        let mut out = template;
                        for (i, x) in v.iter().enumerate() {
                            out = out.replace(&format!("{{{i}}}"), x);
                        }
                        Ev::Known(Node::string(out, span))
                    }
                    None => Ev::Unknown { set: true },
                }
            }
            "tolower" | "toupper" | "string" => match arg(0) {
                Ev::Known(n) => match scalar(&n) {
                    Some(s) => Ev::Known(Node::string(
                        match name {
                            "tolower" => s.to_lowercase(),
                            "toupper" => s.to_uppercase(),
                            _ => s,
                        },
                        span,
                    )),
                    None => Ev::Unknown { set: false },
                },
                u => u,
            },
            "int" => match text(&arg(0)).and_then(|s| s.parse::<i64>().ok()) {
                Some(i) => known(Value::Int(CelInt::from(i))),
                None => Ev::Unknown { set: false },
            },
            "bool" => match truth(&arg(0)) {
                Some(b) => boolean(b),
                None => Ev::Unknown { set: false },
            },
            "true" => boolean(true),
            "false" => boolean(false),
            "null" => known(Value::Null),
            "equals" => match (arg(0), arg(1)) {
                (Ev::Known(a), Ev::Known(b)) => boolean(a.to_json() == b.to_json()),
                _ => Ev::Unknown { set: false },
            },
            "not" => match truth(&arg(0)) {
                Some(b) => boolean(!b),
                None => Ev::Unknown { set: false },
            },
            "and" | "or" => {
                let deciding = name == "or";
                let values: Vec<Option<bool>> = (0..args.len()).map(|i| truth(&arg(i))).collect();
                if values.contains(&Some(deciding)) {
                    boolean(deciding)
                } else if values.iter().all(Option::is_some) {
                    boolean(!deciding)
                } else {
                    Ev::Unknown { set: false }
                }
            }
            "if" => match truth(&arg(0)) {
                Some(true) => arg(1),
                Some(false) => arg(2),
                None => {
                    let branch = |ev: Ev| match ev {
                        Ev::Known(n) if !matches!(n.value, Value::Null) => Some(n),
                        _ => None,
                    };
                    let condition = args.first().map(Expr::text).unwrap_or_default();
                    let choice = ChoiceNode::new(condition, branch(arg(1)), branch(arg(2)));
                    known(Value::Choice(choice))
                }
            },
            n if REFERENCES.contains(&n) || n.starts_with("list") => Ev::Unknown { set: true },
            _ => Ev::Unknown { set: false },
        }
    }

    /// `parameters('x')`: the parameter's literal default, or unknown.
    fn parameter(&self, name: &str, span: Span, depth: u32) -> Ev {
        let default = self
            .parameters
            .and_then(|p| p.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, e)| e.value.get("defaultValue"));
        match default {
            Some(d) => match self.value(d, depth + 1) {
                Ev::Known(n) => Ev::Known(self.rewrite(&n, depth + 1).relocated(span)),
                u => u,
            },
            None => Ev::Unknown { set: false },
        }
    }

    /// `variables('y')`: the variable's value, its expressions evaluated.
    fn variable(&self, name: &str, span: Span, depth: u32) -> Ev {
        let key = name.to_ascii_lowercase();
        if let Some(done) = self.memo.borrow().get(&key) {
            return relocate(done.clone(), span);
        }
        if self.resolving.borrow().contains(&key) {
            return Ev::Unknown { set: false };
        }
        let Some(v) = self
            .variables
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, e)| e.value.clone())
        else {
            return Ev::Unknown { set: false };
        };
        self.resolving.borrow_mut().push(key.clone());
        let ev = match self.value(&v, depth + 1) {
            Ev::Known(n) => {
                let n = self.rewrite(&n, depth + 1);
                if is_known(&n) {
                    Ev::Known(n)
                } else {
                    Ev::Unknown { set: false }
                }
            }
            u => u,
        };
        self.resolving.borrow_mut().retain(|k| k != &key);
        self.memo.borrow_mut().insert(key, ev.clone());
        relocate(ev, span)
    }
}

fn relocate(ev: Ev, span: Span) -> Ev {
    match ev {
        Ev::Known(n) => Ev::Known(n.relocated(span)),
        u => u,
    }
}

fn is_known(n: &Node) -> bool {
    match &n.value {
        Value::Unknown(_) => false,
        Value::Map(m) => m.iter().all(|(_, e)| is_known(&e.value)),
        Value::List(l) => l.items().iter().all(is_known),
        _ => true,
    }
}

fn scalar(n: &Node) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.inner().to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An ARM template expression.
#[derive(Clone, Debug, PartialEq)]
enum Expr {
    /// `'text'`.
    Str(String),
    /// `42`.
    Int(i64),
    /// `f(a, b)`.
    Call(String, Vec<Expr>),
    /// `x.field`.
    Member(Box<Expr>, String),
    /// `x[i]`.
    Index(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The expression written back, for messages.
    fn text(&self) -> String {
        match self {
            Expr::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Expr::Int(i) => i.to_string(),
            Expr::Call(n, args) => format!(
                "{n}({})",
                args.iter().map(Expr::text).collect::<Vec<_>>().join(", ")
            ),
            Expr::Member(b, f) => format!("{}.{f}", b.text()),
            Expr::Index(b, i) => format!("{}[{}]", b.text(), i.text()),
        }
    }
}

/// The inside of an expression string `[…]` (not of a `[[…` literal).
fn expression(s: &str) -> Option<String> {
    let t = s.trim();
    (t.starts_with('[') && t.ends_with(']') && !t.starts_with("[["))
        .then(|| t[1..t.len() - 1].trim().to_string())
}

/// Parses the inside of `[…]`; `None` when it is not a well-formed expression.
fn parse(text: &str) -> Option<Expr> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let e = p.expr(0)?;
    p.skip_ws();
    (p.at == p.chars.len()).then_some(e)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn expr(&mut self, depth: u32) -> Option<Expr> {
        if depth > 64 {
            return None;
        }
        self.skip_ws();
        let mut e = match self.peek()? {
            '\'' => Expr::Str(self.string()?),
            c if c.is_ascii_digit() || c == '-' => {
                let start = self.at;
                self.at += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
                Expr::Int(
                    self.chars[start..self.at]
                        .iter()
                        .collect::<String>()
                        .parse()
                        .ok()?,
                )
            }
            c if c.is_alphabetic() || c == '_' => {
                let name = self.ident();
                self.skip_ws();
                if self.peek() != Some('(') {
                    return None;
                }
                self.at += 1;
                let mut args = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(')') {
                        self.at += 1;
                        break;
                    }
                    args.push(self.expr(depth + 1)?);
                    self.skip_ws();
                    match self.peek()? {
                        ',' => self.at += 1,
                        ')' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                Expr::Call(name, args)
            }
            _ => return None,
        };
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.at += 1;
                    let field = self.ident();
                    if field.is_empty() {
                        return None;
                    }
                    e = Expr::Member(Box::new(e), field);
                }
                Some('[') => {
                    self.at += 1;
                    let index = self.expr(depth + 1)?;
                    self.skip_ws();
                    if self.peek() != Some(']') {
                        return None;
                    }
                    self.at += 1;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => return Some(e),
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// A `'…'` string; `''` is a quote.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek()? {
                '\'' if self.chars.get(self.at + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.at += 2;
                }
                '\'' => {
                    self.at += 1;
                    return Some(out);
                }
                c => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    const TEMPLATE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "tls": {"type": "string", "defaultValue": "TLS1_0"},
    "name": {"type": "string"},
    "public": {"type": "bool", "defaultValue": false}
  },
  "variables": {
    "prefix": "[concat('st', toLower('ACME'))]",
    "rules": [{"start": "0.0.0.0", "end": "255.255.255.255"}]
  },
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2023-01-01",
      "name": "[concat(variables('prefix'), 'logs')]",
      "properties": {
        "minimumTlsVersion": "[parameters('tls')]",
        "allowBlobPublicAccess": "[parameters('public')]",
        "owner": "[parameters('name')]",
        "id": "[resourceId('Microsoft.Storage/storageAccounts', 'x')]",
        "mode": "[if(equals(parameters('name'), 'prod'), 'a', 'b')]",
        "literal": "[[not an expression]"
      }
    },
    {
      "type": "Microsoft.Sql/servers",
      "apiVersion": "2023-01-01",
      "name": "sql",
      "properties": {},
      "resources": [
        {"type": "firewallRules", "name": "all", "properties": {"startIpAddress": "[variables('rules')[0].start]"}}
      ]
    },
    {"type": "Microsoft.Web/sites", "name": "off", "condition": "[parameters('public')]"}
  ]
}"#;

    fn doc() -> Node {
        normalize(&yaml::parse(TEMPLATE).unwrap().documents.remove(0))
    }

    #[test]
    fn expressions_resolve_from_defaults_and_variables() {
        let d = doc();
        let st = &d.get("resources").unwrap().as_list().unwrap().items()[0];
        let p = st.get("properties").unwrap();
        assert_eq!(st.get("_name").and_then(Node::as_str), Some("stacmelogs"));
        assert_eq!(
            p.get("minimumTlsVersion").and_then(Node::as_str),
            Some("TLS1_0")
        );
        // The default is shown where the parameter is used.
        let at = crate::doc::Positions::of_text(TEMPLATE);
        assert_eq!(at.start(p.get("minimumTlsVersion").unwrap().span).line, 19);
        assert!(matches!(p.get("allowBlobPublicAccess").unwrap().value, Value::Bool(b) if !*b));
        assert!(matches!(&p.get("owner").unwrap().value, Value::Unknown(u) if !u.is_set()));
        assert!(matches!(&p.get("id").unwrap().value, Value::Unknown(u) if u.is_set()));
        assert!(matches!(&p.get("mode").unwrap().value, Value::Choice(_)));
        assert_eq!(
            p.get("literal").and_then(Node::as_str),
            Some("[not an expression]")
        );
    }

    #[test]
    fn nested_resources_get_full_types_and_false_conditions_drop_resources() {
        let d = doc();
        let m = d.as_map().unwrap();
        let types: Vec<&str> = INPUT.resources(m).unwrap().filter_map(|(t, _)| t).collect();
        assert_eq!(
            types,
            [
                "Microsoft.Storage/storageAccounts",
                "Microsoft.Sql/servers",
                "Microsoft.Sql/servers/firewallRules"
            ]
        );
        let rule = INPUT.resources(m).unwrap().nth(2).unwrap().1;
        assert_eq!(
            rule.get("properties")
                .and_then(|p| p.get("startIpAddress"))
                .and_then(Node::as_str),
            Some("0.0.0.0")
        );
    }

    #[test]
    fn expressions_parse_and_bad_ones_are_unknown() {
        assert_eq!(
            parse("concat('a''b', parameters('x').y[0])").map(|e| e.text()),
            Some("concat('a''b', parameters('x').y[0])".to_string())
        );
        assert!(parse("concat('a'").is_none());
        assert!(parse("1 +").is_none());
    }
}

#[cfg(test)]
mod twins;
