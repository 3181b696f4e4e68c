//! The strict form of an expression: how it runs again after reading an unknown value, so that
//! the unknown fails every operation it decides (see [`crate::doc::reads`]).

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::ExecutionError;

use super::args::{bool_ret, Args, Ret};
use super::{Helper, HelperGate};

/// The functions strict forms call; registered with the environment like helpers, but not
/// offered to rule authors.
pub const FUNCTIONS: &[Helper] = &[
    Helper {
        name: STRICT,
        signature: "",
        doc: "",
        arity: 1,
        function: strict_value,
        gate: HelperGate::None,
    },
    Helper {
        name: STRICT_EQ,
        signature: "",
        doc: "",
        arity: 2,
        function: strict_eq,
        gate: HelperGate::None,
    },
    Helper {
        name: STRICT_NE,
        signature: "",
        doc: "",
        arity: 2,
        function: strict_ne,
        gate: HelperGate::None,
    },
];

/// The guard [`strict_form`] wraps around operands: it fails on an unresolved value.
const STRICT: &str = "@isms_strict";

/// `==` in strict reading (see [`crate::doc::reads::strict_equals`]).
const STRICT_EQ: &str = "@isms_eq";
/// `!=` in strict reading.
const STRICT_NE: &str = "@isms_ne";

fn strict_compare<'b, 'v>(args: &Args<'b, 'v>, equal: bool) -> Ret<'b, 'v> {
    let [a, b] = args.as_slice() else {
        return Err(ExecutionError::function_error(STRICT_EQ, "two arguments"));
    };
    match crate::doc::reads::strict_equals(a.as_ref(), b.as_ref()) {
        Some(same) => bool_ret(same == equal),
        None => Err(crate::doc::reads::error()),
    }
}

fn strict_eq<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    strict_compare(&args, true)
}

fn strict_ne<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    strict_compare(&args, false)
}

fn strict_value<'b, 'v>(mut args: Args<'b, 'v>) -> Ret<'b, 'v> {
    match args.pop() {
        Some(v) if !crate::doc::reads::is_unresolved(v.as_ref()) => Ok(v),
        Some(_) => Err(crate::doc::reads::error()),
        None => Err(ExecutionError::function_error(STRICT, "missing argument")),
    }
}

/// The expression as it runs in strict reading: `==` and `!=` become comparisons that fail on
/// an unresolved value (unless a reference is compared with `null` or `""`), and the operands
/// of `in` and `type()` are guarded so that an unresolved value makes them fail instead of
/// comparing unequal (every other operation already fails on it). The result then depends on an unknown value
/// exactly when evaluating it fails, except where `&&`, `||`, `all()` or `exists()` decide
/// without it.
pub fn strict_form(e: &IdedExpr) -> IdedExpr {
    use cel::common::ast::operators;
    let guard = |x: &IdedExpr| IdedExpr {
        id: x.id,
        expr: Expr::Call(cel::common::ast::CallExpr {
            func_name: STRICT.to_string(),
            target: None,
            args: vec![strict_form(x)],
        }),
    };
    let expr = match &e.expr {
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let renamed = match (name, call.target.is_some(), call.args.len()) {
                (operators::EQUALS, false, 2) => STRICT_EQ,
                (operators::NOT_EQUALS, false, 2) => STRICT_NE,
                _ => name,
            };
            let guarded: &[usize] = match (name, call.target.is_some(), call.args.len()) {
                (operators::IN, false, 2) => &[0],
                ("type", false, 1) => &[0],
                _ => &[],
            };
            let args = call
                .args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if guarded.contains(&i) {
                        guard(a)
                    } else {
                        strict_form(a)
                    }
                })
                .collect();
            Expr::Call(cel::common::ast::CallExpr {
                func_name: renamed.to_string(),
                target: call.target.as_ref().map(|t| Box::new(strict_form(t))),
                args,
            })
        }
        Expr::Comprehension(c) => {
            let mut c = (**c).clone();
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                *part = strict_form(part);
            }
            Expr::Comprehension(Box::new(c))
        }
        Expr::List(l) => {
            let mut l = l.clone();
            for x in &mut l.elements {
                *x = strict_form(x);
            }
            Expr::List(l)
        }
        Expr::Map(m) => {
            let mut m = m.clone();
            for entry in &mut m.entries {
                if let EntryExpr::MapEntry(me) = &mut entry.expr {
                    me.key = strict_form(&me.key);
                    me.value = strict_form(&me.value);
                }
            }
            Expr::Map(m)
        }
        Expr::Select(sel) => {
            let mut sel = sel.clone();
            *sel.operand = strict_form(&sel.operand);
            Expr::Select(sel)
        }
        other => other.clone(),
    };
    IdedExpr { id: e.id, expr }
}
