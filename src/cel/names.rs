//! Which names an expression uses that the environment does not know: typos in variables and
//! functions are rule-load errors at the rule's line, never run-time surprises.

use std::collections::BTreeSet;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// Type names CEL lets an expression mention as identifiers (`type(x) == string`).
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// Identifiers and functions an expression uses that the environment does not know.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UnknownNames {
    /// Variables that are not declared.
    pub variables: BTreeSet<String>,
    /// Functions that are not declared.
    pub functions: BTreeSet<String>,
}

/// Walks a compiled expression for names that are neither declared variables, variables bound
/// by a comprehension, type names, nor known functions.
pub fn unknown_names(
    expr: &IdedExpr,
    allowed_vars: &[&str],
    is_known_function: &dyn Fn(&str) -> bool,
) -> UnknownNames {
    let mut out = UnknownNames::default();
    let mut bound: Vec<String> = Vec::new();
    walk(expr, allowed_vars, is_known_function, &mut bound, &mut out);
    out
}

fn walk(
    e: &IdedExpr,
    allowed: &[&str],
    known: &dyn Fn(&str) -> bool,
    bound: &mut Vec<String>,
    out: &mut UnknownNames,
) {
    match &e.expr {
        Expr::Ident(name) => {
            if !allowed.contains(&name.as_str())
                && !bound.iter().any(|b| b == name)
                && !TYPE_NAMES.contains(&name.as_str())
            {
                out.variables.insert(name.clone());
            }
        }
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let operator = name.starts_with('_') || name.starts_with('@') || name.starts_with('!');
            let namespaced = match call.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns)) if !bound.contains(ns) && !allowed.contains(&ns.as_str()) => {
                    known(&format!("{ns}.{name}"))
                }
                _ => false,
            };
            if !operator && !namespaced && !known(name) {
                out.functions.insert(name.to_string());
            }
            if !namespaced && let Some(t) = &call.target {
                walk(t, allowed, known, bound, out);
            }
            for a in &call.args {
                walk(a, allowed, known, bound, out);
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, allowed, known, bound, out);
            walk(&c.accu_init, allowed, known, bound, out);
            let n = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            bound.push(c.accu_var.clone());
            walk(&c.loop_cond, allowed, known, bound, out);
            walk(&c.loop_step, allowed, known, bound, out);
            walk(&c.result, allowed, known, bound, out);
            bound.truncate(n);
        }
        Expr::List(l) => {
            for x in &l.elements {
                walk(x, allowed, known, bound, out);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    walk(&me.key, allowed, known, bound, out);
                    walk(&me.value, allowed, known, bound, out);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => walk(&f.value, allowed, known, bound, out),
                    EntryExpr::MapEntry(me) => walk(&me.value, allowed, known, bound, out),
                }
            }
        }
        Expr::Select(s) => walk(&s.operand, allowed, known, bound, out),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}
