//! isms-lint patch (see ISMS-LINT-PATCH.md): expressions compiled once into a
//! tree of resolved operations, evaluated without the interpreter's lookups.
//!
//! [`Value::resolve_val`](crate::Value::resolve_val) walks the parsed AST and,
//! at every node, matches the function's name against the operators, looks
//! identifiers up by name through the chain of scopes (joining qualified names
//! into new strings), finds function declarations by name, and boxes an
//! optional for each step of `a.?b.?c`. [`Program::compile`] does all of that
//! once:
//!
//! - operators become their own operations, decided at compile time;
//! - variables become slots: the program's variables by their index in the
//!   list given to the compiler, comprehension variables by a number walked
//!   on a short chain of stack frames (nothing is cloned into a scope);
//! - a call holds its function's declaration, found by name once (the
//!   overload is still chosen by the arguments' types, as in the interpreter);
//! - `x.?a.?b.orValue(d)` and `x.?a.?b.hasValue()` are one path lookup that
//!   borrows from the document and builds no optional.
//!
//! Everything else is the interpreter's own code ([`index_into`],
//! [`select_field`], comparisons, the cost budget, the deferred errors of
//! `all`/`exists`), called in the same order, so a compiled program gives the
//! same value, the same error, the same [`cost`] and the same reads of
//! application values as the interpreter on every input. isms-lint tests that
//! difference by difference (its `tests/compiled_cel.rs`).
//!
//! What does not compile (struct literals, two-variable comprehensions, a
//! comprehension whose loop condition or result reads its iteration variable)
//! is a [`CompileError`].

use std::sync::Arc;

use crate::common::ast::{
    operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue,
};
use crate::common::decls::FunctionDecl;
use crate::common::types::optional::{unwrap_optional, Unwrapped};
use crate::common::types::MutableList;
use crate::common::types::{map, CelBool, CelList, CelMap, CelMapKey, CelOptional, CelString};
use crate::common::value::{CowVal, Val};
use crate::context::Context;
use crate::cost;
use crate::objects::{
    bool, boolean_operator_error, charge_result, compare_values, index_into, select_field,
    try_bool, DeferredErrors, LogicalFold,
};
use crate::{Env, ExecutionError};

use std::cmp::Ordering;
use std::collections::HashMap;

/// Why an expression could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

/// What the application runs in place of a call's overload, compiled when some of the call's
/// arguments were literals (isms-lint: `matches` with a literal pattern holds its compiled
/// regular expression). Given the call's arguments (a member call's target first), it returns
/// the result, or `None` when it does not apply to them (the declared overload then runs, as
/// without it).
pub type Special =
    Arc<dyn Fn(&[CowVal<'_, '_>]) -> Option<Result<Box<dyn Val>, ExecutionError>> + Send + Sync>;

/// Asked at compile time for every call: its function's name, whether it is a member call, and
/// its arguments that are literals (`None` for the others; a member call's target first).
/// Returns a [`Special`] for the call, or an error when a literal is invalid for the function
/// (a compile error).
pub type Specializer<'a> =
    &'a dyn Fn(&str, bool, &[Option<&LiteralValue>]) -> Result<Option<Special>, String>;

/// An expression compiled against an environment, with its variables as slots.
pub struct Program<'env> {
    root: Op<'env>,
}

/// The values of a program's variables, in the order of the names it was
/// compiled with; `None` for one that is not bound (reading it is an
/// undeclared reference, as in the interpreter).
pub type Vars<'s, 'v> = [Option<&'s (dyn Val + 'v)>];

impl<'env> Program<'env> {
    /// Compiles `expr` against `env`, where `variables` name the slots of
    /// [`Program::run`]'s values.
    pub fn compile(
        expr: &IdedExpr,
        env: &'env Arc<Env>,
        variables: &[&str],
    ) -> Result<Program<'env>, CompileError> {
        Program::compile_with(expr, env, variables, &|_, _, _| Ok(None))
    }

    /// [`Program::compile`], asking `specializer` about every call.
    pub fn compile_with(
        expr: &IdedExpr,
        env: &'env Arc<Env>,
        variables: &[&str],
        specializer: Specializer<'_>,
    ) -> Result<Program<'env>, CompileError> {
        let mut compiler = Compiler {
            env,
            root: Context::with_env(env.clone()),
            globals: variables.iter().map(|v| v.to_string()).collect(),
            locals: Vec::new(),
            next_slot: 0,
            specializer,
        };
        Ok(Program {
            root: compiler.compile(expr)?,
        })
    }

    /// Evaluates the program with `vars` bound to its variables.
    pub fn run<'s, 'v>(&'s self, vars: &'s Vars<'s, 'v>) -> Result<CowVal<'s, 'v>, ExecutionError> {
        self.root.eval(&Scope {
            globals: vars,
            locals: None,
        })
    }
}

/// Compile-time state: the names in scope.
struct Compiler<'env, 's> {
    env: &'env Arc<Env>,
    /// An empty root context of `env`, to resolve names as the interpreter does.
    root: Context<'static, 'static>,
    globals: Vec<String>,
    /// Comprehension variables in scope, innermost last, with their slots.
    locals: Vec<(String, u32)>,
    next_slot: u32,
    specializer: Specializer<'s>,
}

/// A function declaration and the name a call to it is reported under.
struct Callee<'env> {
    /// The resolved (qualified) name.
    name: String,
    decl: Option<&'env FunctionDecl>,
    /// What the application compiled for this call's literal arguments.
    special: Option<Special>,
}

enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

enum Cmp {
    Less,
    LessEquals,
    Greater,
    GreaterEquals,
}

/// What ends a fused optional path.
enum PathEnd<'env> {
    /// `.orValue(default)`.
    OrValue(Box<Op<'env>>),
    /// `.hasValue()`.
    HasValue,
}

/// A compiled comprehension.
struct Comprehension<'env> {
    range: Op<'env>,
    init: Op<'env>,
    cond: Op<'env>,
    step: Op<'env>,
    result: Op<'env>,
    iter_slot: u32,
    accu_slot: u32,
    fold: Option<LogicalFold>,
    /// The `map`/`filter` shape: `[guard ?] @result + [items]`, appended in place.
    append: Option<(Option<Op<'env>>, Op<'env>)>,
}

enum Op<'env> {
    Literal(LiteralValue),
    /// A program variable (index into [`Vars`]) with fields selected on it, and what the
    /// name is when the variable is not bound.
    Global {
        slot: usize,
        fields: Vec<String>,
        unbound: Box<Op<'env>>,
    },
    /// A comprehension variable.
    Local(u32),
    /// A name that is no variable but a type of the environment.
    Type(Box<dyn Val>),
    /// A list or map literal whose entries are all constants, built once when the expression
    /// compiles (evaluating one charges no cost, so the interpreter's cost is unchanged).
    Const(Box<dyn Val>),
    /// A name that is neither a variable nor a type.
    Undeclared(Arc<String>),
    Conditional(Box<[Op<'env>; 3]>),
    Or(Box<[Op<'env>; 2]>),
    And(Box<[Op<'env>; 2]>),
    Equals(Box<[Op<'env>; 2]>, bool),
    Index {
        operands: Box<[Op<'env>; 2]>,
        optional: bool,
    },
    OptSelect(Box<Op<'env>>, CelString<'static>),
    /// `base.?a.?b…` ended by `orValue`/`hasValue`.
    OptPath {
        base: Box<Op<'env>>,
        fields: Vec<CelString<'static>>,
        end: PathEnd<'env>,
    },
    Arith(Arith, Box<[Op<'env>; 2]>),
    Compare(Cmp, Box<[Op<'env>; 2]>),
    In(Box<[Op<'env>; 2]>),
    Not(Box<Op<'env>>),
    Negate(Box<Op<'env>>),
    NotStrictlyFalse(Box<Op<'env>>),
    Call {
        callee: Callee<'env>,
        args: Vec<Op<'env>>,
    },
    Member {
        callee: Callee<'env>,
        target: Box<Op<'env>>,
        args: Vec<Op<'env>>,
    },
    Select {
        operand: Box<Op<'env>>,
        field: String,
        test: bool,
    },
    List {
        items: Vec<Op<'env>>,
        optional: Vec<usize>,
    },
    Map {
        entries: Vec<(Op<'env>, Op<'env>, bool)>,
        /// The environment's `error_on_duplicate_map_keys`.
        unique: bool,
    },
    Comprehension(Box<Comprehension<'env>>),
}

impl<'env> Compiler<'env, '_> {
    fn compile(&mut self, expr: &IdedExpr) -> Result<Op<'env>, CompileError> {
        match &expr.expr {
            Expr::Literal(l) => Ok(Op::Literal(l.clone())),
            Expr::Ident(name) => Ok(self.name(&[name])),
            Expr::Select(select) => {
                // As the interpreter, a selection that spells a name resolves the name
                // (`a.b.c`: the variable `a`, else the type `a.b.c`); `has(a.b.c)` resolves
                // `a.b` and tests for `c`.
                if !select.test {
                    if let Some(segments) = expr.expr.qualified_name_segments() {
                        return Ok(self.name(&segments));
                    }
                }
                let operand = match select.operand.expr.qualified_name_segments() {
                    Some(segments) if select.test => self.name(&segments),
                    _ => self.compile(&select.operand)?,
                };
                Ok(Op::Select {
                    operand: Box::new(operand),
                    field: select.field.clone(),
                    test: select.test,
                })
            }
            Expr::Call(call) => self.call(call),
            Expr::List(list) => Ok(fold_constant(Op::List {
                items: self.all(&list.elements)?,
                optional: list.optional_indices.clone(),
            })),
            Expr::Map(m) => {
                let mut entries = Vec::with_capacity(m.entries.len());
                for entry in &m.entries {
                    let EntryExpr::MapEntry(e) = &entry.expr else {
                        return Err(CompileError("struct fields outside a struct".into()));
                    };
                    entries.push((self.compile(&e.key)?, self.compile(&e.value)?, e.optional));
                }
                Ok(fold_constant(Op::Map {
                    entries,
                    unique: self.env.error_on_duplicate_map_keys(),
                }))
            }
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Struct(s) => Err(CompileError(format!(
                "struct literals ({}{{…}}) are not supported",
                s.type_name
            ))),
            Expr::Unspecified => Err(CompileError("unspecified expression".into())),
        }
    }

    fn all(&mut self, exprs: &[IdedExpr]) -> Result<Vec<Op<'env>>, CompileError> {
        exprs.iter().map(|e| self.compile(e)).collect()
    }

    fn two(&mut self, args: &[IdedExpr]) -> Result<Box<[Op<'env>; 2]>, CompileError> {
        Ok(Box::new([self.compile(&args[0])?, self.compile(&args[1])?]))
    }

    /// The qualified name `segments[0].segments[1]…`, resolved as the interpreter does: the
    /// innermost variable named `segments[0]` with the other segments selected on it, else the
    /// type of the whole name, else an undeclared reference to `segments[0]`.
    fn name(&self, segments: &[&str]) -> Op<'env> {
        let root = segments[0];
        let fields: Vec<String> = segments[1..].iter().map(|s| s.to_string()).collect();
        let select = |op: Op<'env>| {
            fields.iter().fold(op, |operand, field| Op::Select {
                operand: Box::new(operand),
                field: field.clone(),
                test: false,
            })
        };
        if !root.starts_with('.') {
            if let Some((_, slot)) = self.locals.iter().rev().find(|(n, _)| n == root) {
                return select(Op::Local(*slot));
            }
            if let Some(i) = self.globals.iter().position(|g| g == root) {
                return Op::Global {
                    slot: i,
                    fields,
                    unbound: Box::new(self.root_name(segments)),
                };
            }
        }
        self.root_name(segments)
    }

    /// What a name is in the root scope, which has no variables: a type, or nothing.
    fn root_name(&self, segments: &[&str]) -> Op<'env> {
        match self.root.resolve_ident(&segments.join(".")) {
            Some(value) => Op::Type(value.into_owned()),
            None => Op::Undeclared(Arc::new(segments[0].to_string())),
        }
    }

    /// The callee `name`, with what the specializer makes of the literal ones of `args`.
    fn callee(
        &self,
        name: String,
        member: bool,
        args: &[&IdedExpr],
    ) -> Result<Callee<'env>, CompileError> {
        let literals: Vec<Option<&LiteralValue>> = args
            .iter()
            .map(|a| match &a.expr {
                Expr::Literal(l) => Some(l),
                _ => None,
            })
            .collect();
        let special = if literals.iter().any(Option::is_some) {
            (self.specializer)(&name, member, &literals).map_err(CompileError)?
        } else {
            None
        };
        Ok(Callee {
            decl: self.env.function_decl(&name),
            name,
            special,
        })
    }

    fn call(&mut self, call: &CallExpr) -> Result<Op<'env>, CompileError> {
        let name = call.func_name.as_str();
        let n = call.args.len();
        // As in the interpreter, these shapes are operators whatever the target.
        let op = match (n, name) {
            (3, operators::CONDITIONAL) => Some(Op::Conditional(Box::new([
                self.compile(&call.args[0])?,
                self.compile(&call.args[1])?,
                self.compile(&call.args[2])?,
            ]))),
            (2, operators::LOGICAL_OR) => Some(Op::Or(self.two(&call.args)?)),
            (2, operators::LOGICAL_AND) => Some(Op::And(self.two(&call.args)?)),
            (2, operators::EQUALS) => Some(Op::Equals(self.two(&call.args)?, true)),
            (2, operators::NOT_EQUALS) => Some(Op::Equals(self.two(&call.args)?, false)),
            (2, operators::INDEX) | (2, operators::OPT_INDEX) => Some(Op::Index {
                operands: self.two(&call.args)?,
                optional: name == operators::OPT_INDEX,
            }),
            (2, operators::OPT_SELECT) => {
                let operand = self.compile(&call.args[0])?;
                match &call.args[1].expr {
                    Expr::Literal(LiteralValue::String(field)) => Some(Op::OptSelect(
                        Box::new(operand),
                        CelString::from(field.inner().to_string()),
                    )),
                    _ => return Err(CompileError("_?._: field must be a string".into())),
                }
            }
            (2, operators::ADD) => Some(Op::Arith(Arith::Add, self.two(&call.args)?)),
            (2, operators::SUBSTRACT) => Some(Op::Arith(Arith::Sub, self.two(&call.args)?)),
            (2, operators::MULTIPLY) => Some(Op::Arith(Arith::Mul, self.two(&call.args)?)),
            (2, operators::DIVIDE) => Some(Op::Arith(Arith::Div, self.two(&call.args)?)),
            (2, operators::MODULO) => Some(Op::Arith(Arith::Mod, self.two(&call.args)?)),
            (2, operators::LESS) => Some(Op::Compare(Cmp::Less, self.two(&call.args)?)),
            (2, operators::LESS_EQUALS) => {
                Some(Op::Compare(Cmp::LessEquals, self.two(&call.args)?))
            }
            (2, operators::GREATER) => Some(Op::Compare(Cmp::Greater, self.two(&call.args)?)),
            (2, operators::GREATER_EQUALS) => {
                Some(Op::Compare(Cmp::GreaterEquals, self.two(&call.args)?))
            }
            (2, operators::IN) => Some(Op::In(self.two(&call.args)?)),
            (1, operators::LOGICAL_NOT) => Some(Op::Not(Box::new(self.compile(&call.args[0])?))),
            (1, operators::NEGATE) => Some(Op::Negate(Box::new(self.compile(&call.args[0])?))),
            (1, operators::NOT_STRICTLY_FALSE) => {
                Some(Op::NotStrictlyFalse(Box::new(self.compile(&call.args[0])?)))
            }
            _ => None,
        };
        if let Some(op) = op {
            return Ok(op);
        }
        let args: Vec<&IdedExpr> = call.args.iter().collect();
        let Some(target) = &call.target else {
            let resolved = self.root.resolve_function(name).into_owned();
            return Ok(Op::Call {
                callee: self.callee(resolved, false, &args)?,
                args: self.all(&call.args)?,
            });
        };
        if let Some(qualified) = self.root.resolve_qualified_function(target, name) {
            return Ok(Op::Call {
                callee: self.callee(qualified, false, &args)?,
                args: self.all(&call.args)?,
            });
        }
        if let Some(path) = self.opt_path(call)? {
            return Ok(path);
        }
        let with_target: Vec<&IdedExpr> = std::iter::once(&**target).chain(args).collect();
        let callee = self.callee(name.to_string(), true, &with_target)?;
        Ok(Op::Member {
            callee,
            target: Box::new(self.compile(target)?),
            args: self.all(&call.args)?,
        })
    }

    /// Whether `name` is the standard library's optional member of that name alone,
    /// so a fused path means the same as the call.
    fn is_stdlib_optional(&self, name: &str, id: &str) -> bool {
        self.env
            .function_decl(name)
            .is_some_and(|d| d.overload_ids(true).eq([id]) && d.overload_ids(false).count() == 0)
    }

    /// `base.?a.?b.orValue(d)` / `base.?a.?b.hasValue()` as one path lookup.
    fn opt_path(&mut self, call: &CallExpr) -> Result<Option<Op<'env>>, CompileError> {
        let end_kind = match (call.func_name.as_str(), call.args.len()) {
            ("orValue", 1) if self.is_stdlib_optional("orValue", "optional_or_value") => 0,
            ("hasValue", 0) if self.is_stdlib_optional("hasValue", "optional_has_value") => 1,
            _ => return Ok(None),
        };
        let mut fields = Vec::new();
        let mut expr = call.target.as_deref().expect("a member call");
        loop {
            match &expr.expr {
                Expr::Call(c)
                    if c.target.is_none()
                        && c.func_name == operators::OPT_SELECT
                        && c.args.len() == 2 =>
                {
                    let Expr::Literal(LiteralValue::String(field)) = &c.args[1].expr else {
                        return Ok(None);
                    };
                    fields.push(CelString::from(field.inner().to_string()));
                    expr = &c.args[0];
                }
                _ => break,
            }
        }
        if fields.is_empty() {
            return Ok(None);
        }
        fields.reverse();
        let end = if end_kind == 0 {
            PathEnd::OrValue(Box::new(self.compile(&call.args[0])?))
        } else {
            PathEnd::HasValue
        };
        Ok(Some(Op::OptPath {
            base: Box::new(self.compile(expr)?),
            fields,
            end,
        }))
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> Result<Op<'env>, CompileError> {
        if c.iter_var2.is_some() {
            return Err(CompileError(
                "two-variable comprehensions are not supported".into(),
            ));
        }
        let init = self.compile(&c.accu_init)?;
        let range = self.compile(&c.iter_range)?;
        let accu_slot = self.slot();
        let iter_slot = self.slot();
        // The loop condition and the result see the accumulator only.
        self.locals.push((c.accu_var.clone(), accu_slot));
        let reads_iter = |e: &IdedExpr| mentions(e, &c.iter_var);
        if reads_iter(&c.loop_cond) || reads_iter(&c.result) {
            return Err(CompileError(format!(
                "a comprehension whose condition or result reads '{}' is not supported",
                c.iter_var
            )));
        }
        let cond = self.compile(&c.loop_cond)?;
        let result = self.compile(&c.result)?;
        self.locals.push((c.iter_var.clone(), iter_slot));
        let step = self.compile(&c.loop_step)?;
        let append = match append_shape(c) {
            Some((guard, items)) => Some((
                guard.map(|g| self.compile(g)).transpose()?,
                self.compile(items)?,
            )),
            None => None,
        };
        self.locals.pop();
        self.locals.pop();
        Ok(Op::Comprehension(Box::new(Comprehension {
            range,
            init,
            cond,
            step,
            result,
            iter_slot,
            accu_slot,
            fold: LogicalFold::of(c),
            append,
        })))
    }

    fn slot(&mut self) -> u32 {
        self.next_slot += 1;
        self.next_slot
    }
}

/// Whether `expr` names `var` anywhere (a conservative test: shadowing is ignored).
fn mentions(expr: &IdedExpr, var: &str) -> bool {
    match &expr.expr {
        Expr::Ident(name) => name == var,
        Expr::Select(s) => mentions(&s.operand, var),
        Expr::Call(c) => {
            c.target.as_deref().is_some_and(|t| mentions(t, var))
                || c.args.iter().any(|a| mentions(a, var))
        }
        Expr::List(l) => l.elements.iter().any(|e| mentions(e, var)),
        Expr::Map(m) => m.entries.iter().any(|e| match &e.expr {
            EntryExpr::MapEntry(e) => mentions(&e.key, var) || mentions(&e.value, var),
            EntryExpr::StructField(f) => mentions(&f.value, var),
        }),
        Expr::Comprehension(c) => {
            mentions(&c.iter_range, var)
                || mentions(&c.accu_init, var)
                || mentions(&c.loop_cond, var)
                || mentions(&c.loop_step, var)
                || mentions(&c.result, var)
        }
        Expr::Struct(s) => s.entries.iter().any(|e| match &e.expr {
            EntryExpr::MapEntry(e) => mentions(&e.key, var) || mentions(&e.value, var),
            EntryExpr::StructField(f) => mentions(&f.value, var),
        }),
        Expr::Literal(_) | Expr::Unspecified => false,
    }
}

/// The interpreter's `AppendStep` shape: the guard (if any) and the `[items]` appended.
fn append_shape(c: &ComprehensionExpr) -> Option<(Option<&IdedExpr>, &IdedExpr)> {
    fn rhs(e: &IdedExpr) -> &IdedExpr {
        let Expr::Call(call) = &e.expr else {
            unreachable!("checked by items_of")
        };
        &call.args[1]
    }
    let accu = c.accu_var.as_str();
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if name == accu);
    let items_of = |e: &'_ IdedExpr| -> Option<()> {
        match &e.expr {
            Expr::Call(call) if call.func_name == operators::ADD && call.target.is_none() => {
                match call.args.as_slice() {
                    [lhs, rhs] if is_accu(lhs) && matches!(rhs.expr, Expr::List(_)) => Some(()),
                    _ => None,
                }
            }
            _ => None,
        }
    };

    if !is_accu(&c.result) || !matches!(c.loop_cond.expr, Expr::Literal(_)) {
        return None;
    }
    match &c.loop_step.expr {
        Expr::Call(call) if call.func_name == operators::CONDITIONAL && call.target.is_none() => {
            match call.args.as_slice() {
                [guard, step, otherwise] if is_accu(otherwise) => {
                    items_of(step)?;
                    Some((Some(guard), rhs(step)))
                }
                _ => None,
            }
        }
        _ => {
            items_of(&c.loop_step)?;
            Some((None, rhs(&c.loop_step)))
        }
    }
}

/// The variables in scope at run time.
#[derive(Clone, Copy)]
struct Scope<'s, 'v> {
    globals: &'s Vars<'s, 'v>,
    locals: Option<&'s Local<'s, 'v>>,
}

/// One comprehension variable's value, on the stack.
struct Local<'s, 'v> {
    slot: u32,
    value: &'s (dyn Val + 'v),
    parent: Option<&'s Local<'s, 'v>>,
}

impl<'s, 'v> Scope<'s, 'v> {
    fn local(&self, slot: u32) -> Option<&'s (dyn Val + 'v)> {
        let mut frame = self.locals;
        while let Some(f) = frame {
            if f.slot == slot {
                return Some(f.value);
            }
            frame = f.parent;
        }
        None
    }
}

/// The value of a constant operation: a literal, or a literal list or map already folded.
fn constant(op: &Op<'_>) -> Option<Box<dyn Val>> {
    match op {
        Op::Literal(l) => Some(l.to_val().into_owned()),
        Op::Const(v) => Some(v.clone_as_boxed()),
        _ => None,
    }
}

/// `op` as one [`Op::Const`] when it is a list or map literal of constants without optional
/// entries, and building it cannot fail (map keys of a key type, no duplicate key where the
/// environment rejects them); otherwise `op` as it is, to be built on each evaluation.
fn fold_constant(op: Op<'_>) -> Op<'_> {
    let folded: Option<Box<dyn Val>> = match &op {
        Op::List { items, optional } if optional.is_empty() => items
            .iter()
            .map(constant)
            .collect::<Option<Vec<_>>>()
            .map(|items| Box::new(CelList::from(items)) as Box<dyn Val>),
        Op::Map { entries, unique } => constant_map(entries, *unique),
        _ => None,
    };
    match folded {
        Some(value) => Op::Const(value),
        None => op,
    }
}

/// The map a map literal of constants builds, as [`Op::Map`] builds it; `None` for an optional
/// entry, a non-constant, or a key that fails to build.
fn constant_map(entries: &[(Op<'_>, Op<'_>, bool)], unique: bool) -> Option<Box<dyn Val>> {
    let mut out: HashMap<CelMapKey<'static>, Box<dyn Val>> = HashMap::with_capacity(entries.len());
    for (k, v, is_optional) in entries {
        if *is_optional {
            return None;
        }
        let key: CelMapKey<'static> = CowVal::Owned(constant(k)?).try_into().ok()?;
        if unique && map::has_key(&out, &key) {
            return None;
        }
        out.insert(key, constant(v)?);
    }
    Some(Box::new(CelMap::from(out)))
}

fn no_overload(callee: &Callee<'_>, args: &[CowVal<'_, '_>], member: bool) -> ExecutionError {
    let declared = callee.decl.is_some_and(|d| d.has_overload(member));
    if declared {
        ExecutionError::overload_for_values(&callee.name, args.iter().map(|a| a.as_ref()), member)
    } else {
        ExecutionError::UndeclaredReference(callee.name.clone().into())
    }
}

impl<'env> Op<'env> {
    fn eval<'s, 'v>(&'s self, sc: &Scope<'s, 'v>) -> Result<CowVal<'s, 'v>, ExecutionError> {
        match self {
            Op::Literal(l) => Ok(l.to_val()),
            Op::Global {
                slot,
                fields,
                unbound,
            } => match sc.globals.get(*slot).copied().flatten() {
                Some(v) => {
                    let mut value = CowVal::Borrowed(v);
                    for field in fields {
                        value = select_field(value, field, false)?;
                    }
                    Ok(value)
                }
                None => unbound.eval(sc),
            },
            Op::Local(slot) => sc.local(*slot).map(CowVal::Borrowed).ok_or_else(|| {
                ExecutionError::InternalError("unbound comprehension variable".into())
            }),
            Op::Type(t) | Op::Const(t) => Ok(CowVal::Borrowed(t.as_ref())),
            Op::Undeclared(name) => Err(ExecutionError::UndeclaredReference(name.clone())),
            Op::Conditional(ops) => {
                if try_bool(ops[0].eval(sc))? {
                    ops[1].eval(sc)
                } else {
                    ops[2].eval(sc)
                }
            }
            Op::Or(ops) => {
                let left = try_bool(ops[0].eval(sc));
                if Ok(true) == left {
                    return Ok(bool(true));
                }
                let right_value = ops[1].eval(sc)?;
                let right = right_value.downcast_ref::<CelBool>().map(|b| *b.inner());
                match (left, right) {
                    (Ok(false), Some(right)) => Ok(bool(right)),
                    (Err(_), Some(true)) => Ok(bool(true)),
                    (left, _) => Err(boolean_operator_error(
                        operators::LOGICAL_OR,
                        left,
                        right_value.as_ref(),
                    )),
                }
            }
            Op::And(ops) => {
                let left = try_bool(ops[0].eval(sc));
                if Ok(false) == left {
                    return Ok(bool(false));
                }
                let right_value = ops[1].eval(sc)?;
                let right = right_value.downcast_ref::<CelBool>().map(|b| *b.inner());
                match (left, right) {
                    (Ok(true), Some(right)) => Ok(bool(right)),
                    (Err(_), Some(false)) => Ok(bool(false)),
                    (left, _) => Err(boolean_operator_error(
                        operators::LOGICAL_AND,
                        left,
                        right_value.as_ref(),
                    )),
                }
            }
            Op::Equals(ops, equal) => {
                let l = ops[0].eval(sc)?;
                let r = ops[1].eval(sc)?;
                Ok(bool((l == r) == *equal))
            }
            Op::Index { operands, optional } => {
                let name = if *optional {
                    operators::OPT_INDEX
                } else {
                    operators::INDEX
                };
                let mut is_optional = *optional;
                let value = operands[0].eval(sc)?;
                let value = match unwrap_optional(value) {
                    Unwrapped::NotOptional(value) => value,
                    Unwrapped::Some(value) => {
                        is_optional = true;
                        value
                    }
                    Unwrapped::None => return Ok(CowVal::owned(CelOptional::none())),
                };
                let index = operands[1].eval(sc)?;
                let result = index_into(value, index.as_ref(), name, |value| {
                    ExecutionError::overload_for_values(name, [value, index.as_ref()], false)
                });
                if is_optional {
                    Ok(CowVal::owned(match result {
                        Ok(val) => CelOptional::of(val.into_owned()),
                        Err(_) => CelOptional::none(),
                    }))
                } else {
                    result
                }
            }
            Op::OptSelect(operand, field) => {
                let operand = operand.eval(sc)?;
                let target = match unwrap_optional(operand) {
                    Unwrapped::NotOptional(v) | Unwrapped::Some(v) => v,
                    Unwrapped::None => return Ok(CowVal::owned(CelOptional::none())),
                };
                let result = match optional_index(target, field) {
                    Some(v) => CelOptional::of(v.into_owned()),
                    None => CelOptional::none(),
                };
                Ok(CowVal::owned(result))
            }
            Op::OptPath { base, fields, end } => {
                // As the call: its argument first, then its target.
                let default = match end {
                    PathEnd::OrValue(d) => Some(d.eval(sc)?),
                    PathEnd::HasValue => None,
                };
                let found = opt_path(base.eval(sc)?, fields);
                match default {
                    Some(default) => {
                        // the call `orValue(optional, default)`: only a string default weighs
                        cost::charge_call(std::iter::once(default.as_ref()))?;
                        let value = found.unwrap_or(default);
                        cost::charge(cost::weight(value.as_ref()))?;
                        Ok(value)
                    }
                    None => {
                        cost::charge(1)?;
                        Ok(bool(found.is_some()))
                    }
                }
            }
            Op::Arith(op, ops) => {
                let lhs = ops[0].eval(sc)?;
                let rhs = ops[1].eval(sc)?;
                let (name, result) = match op {
                    Arith::Add => ("add", lhs.as_adder().map(|a| a.add(rhs.as_ref()))),
                    Arith::Sub => ("sub", lhs.as_subtractor().map(|a| a.sub(rhs.as_ref()))),
                    Arith::Mul => ("mul", lhs.as_multiplier().map(|a| a.mul(rhs.as_ref()))),
                    Arith::Div => ("div", lhs.as_divider().map(|a| a.div(rhs.as_ref()))),
                    Arith::Mod => ("rem", lhs.as_modder().map(|a| a.modulo(rhs.as_ref()))),
                };
                let value = result
                    .ok_or_else(|| {
                        ExecutionError::unsupported_binary_operator(
                            name,
                            lhs.as_ref(),
                            rhs.as_ref(),
                        )
                    })??
                    .into_owned();
                if matches!(op, Arith::Add) {
                    cost::charge(1 + cost::weight(value.as_ref()))?;
                }
                Ok(CowVal::Owned(value))
            }
            Op::Compare(cmp, ops) => {
                let lhs = ops[0].eval(sc)?;
                let rhs = ops[1].eval(sc)?;
                let (name, accept): (&str, fn(Ordering) -> bool) = match cmp {
                    Cmp::Less => (operators::LESS, |o| o == Ordering::Less),
                    Cmp::LessEquals => (operators::LESS_EQUALS, |o| o != Ordering::Greater),
                    Cmp::Greater => (operators::GREATER, |o| o == Ordering::Greater),
                    Cmp::GreaterEquals => (operators::GREATER_EQUALS, |o| o != Ordering::Less),
                };
                Ok(bool(accept(compare_values(
                    name,
                    lhs.as_ref(),
                    rhs.as_ref(),
                )?)))
            }
            Op::In(ops) => {
                let lhs = ops[0].eval(sc)?;
                let rhs = ops[1].eval(sc)?;
                let overload_error = || {
                    ExecutionError::overload_for_values(
                        operators::IN,
                        [lhs.as_ref(), rhs.as_ref()],
                        false,
                    )
                };
                cost::charge(1 + cost::weight(rhs.as_ref()))?;
                let container = rhs.as_container().ok_or_else(overload_error)?;
                container
                    .contains(lhs.as_ref())
                    .map(bool)
                    .map_err(|error| error.with_overload_context(overload_error()))
            }
            Op::Not(op) => {
                let value = op.eval(sc)?;
                match value.downcast_ref::<CelBool>() {
                    Some(b) => Ok(bool(!*b.inner())),
                    None => Err(ExecutionError::overload_for_values(
                        operators::LOGICAL_NOT,
                        [value.as_ref()],
                        false,
                    )),
                }
            }
            Op::Negate(op) => {
                let val = op.eval(sc)?;
                let overload_error =
                    ExecutionError::overload_for_values(operators::NEGATE, [val.as_ref()], false);
                Ok(CowVal::Owned(
                    val.as_negator()
                        .ok_or_else(|| overload_error.clone())?
                        .negate()
                        .map_err(|error| error.with_overload_context(overload_error))?,
                ))
            }
            Op::NotStrictlyFalse(op) => Ok(bool(try_bool(op.eval(sc)).unwrap_or(true))),
            Op::Call { callee, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(a.eval(sc)?);
                }
                cost::charge_call(values.iter().map(|a| a.as_ref()))?;
                if let Some(result) = callee.special.as_ref().and_then(|f| f(&values)) {
                    return charge_result(result.map(CowVal::Owned));
                }
                match callee.decl.and_then(|d| d.find_overload(false, &values)) {
                    Some(op) => charge_result(op(values)),
                    None => Err(no_overload(callee, &values, false)),
                }
            }
            Op::Member {
                callee,
                target,
                args,
            } => {
                // As the interpreter: the arguments first, then the target.
                let mut values = Vec::with_capacity(args.len() + 1);
                for a in args {
                    values.push(a.eval(sc)?);
                }
                values.insert(0, target.eval(sc)?);
                cost::charge_call(values.iter().map(|a| a.as_ref()))?;
                if let Some(result) = callee.special.as_ref().and_then(|f| f(&values)) {
                    return charge_result(result.map(CowVal::Owned));
                }
                match callee.decl.and_then(|d| d.find_overload(true, &values)) {
                    Some(op) => charge_result(op(values)),
                    None => Err(no_overload(callee, &values, true)),
                }
            }
            Op::Select {
                operand,
                field,
                test,
            } => select_field(operand.eval(sc)?, field, *test),
            Op::List { items, optional } => {
                let mut list: Vec<Box<dyn Val + 'v>> = Vec::with_capacity(items.len());
                for (idx, item) in items.iter().enumerate() {
                    let value = item.eval(sc)?;
                    if optional.contains(&idx) {
                        match unwrap_optional(value) {
                            Unwrapped::NotOptional(v) | Unwrapped::Some(v) => {
                                list.push(v.into_owned())
                            }
                            Unwrapped::None => {}
                        }
                    } else {
                        list.push(value.into_owned());
                    }
                }
                Ok(CowVal::owned(CelList::from(list)))
            }
            Op::Map { entries, unique } => {
                let mut out: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> =
                    HashMap::with_capacity(entries.len());
                for (k, v, is_optional) in entries {
                    let key: CelMapKey<'v> = k.eval(sc)?.try_into()?;
                    let value = v.eval(sc)?;
                    let value = if *is_optional {
                        match unwrap_optional(value) {
                            Unwrapped::NotOptional(v) | Unwrapped::Some(v) => Some(v),
                            Unwrapped::None => None,
                        }
                    } else {
                        Some(value)
                    };
                    if let Some(value) = value {
                        if *unique && map::has_key(&out, &key) {
                            return Err(ExecutionError::DuplicateKey(
                                crate::objects::Key::from(key).into(),
                            ));
                        }
                        out.insert(key, value.into_owned());
                    }
                }
                Ok(CowVal::owned(CelMap::from(out)))
            }
            Op::Comprehension(c) => c.eval(sc),
        }
    }
}

/// Follows `base.?a.?b…`: the value at the end, or `None` where a step finds nothing.
fn opt_path<'s, 'v>(
    base: CowVal<'s, 'v>,
    fields: &'s [CelString<'static>],
) -> Option<CowVal<'s, 'v>> {
    let mut current = match unwrap_optional(base) {
        Unwrapped::NotOptional(v) | Unwrapped::Some(v) => v,
        Unwrapped::None => return None,
    };
    // Each `?.` of the interpreter wraps what it finds in an optional that the next step
    // (or `orValue`/`hasValue`) unwraps once: the value found is the next step's operand
    // as it is.
    for field in fields {
        current = optional_index(current, field)?;
    }
    Some(current)
}

/// `value.?field`'s value, or `None` where the interpreter's `_?._` fails (and its error is
/// discarded): a borrowed container is asked without building that error.
fn optional_index<'s, 'v>(
    value: CowVal<'s, 'v>,
    field: &CelString<'static>,
) -> Option<CowVal<'s, 'v>> {
    match value {
        CowVal::Borrowed(v) => v.as_indexer()?.get_optional(field),
        owned => index_into(owned, field, "_?._", |value| {
            ExecutionError::overload_for_values("_?._", [value, field], false)
        })
        .ok(),
    }
}

/// A comprehension's accumulator between steps. A boolean (`exists`, `all`) is held as the
/// constant it is, so a step allocates nothing; any other value is owned.
enum Accu<'v> {
    Bool(bool),
    Owned(Box<dyn Val + 'v>),
}

impl<'v> Accu<'v> {
    fn of(value: CowVal<'_, 'v>) -> Accu<'v> {
        match value.downcast_ref::<CelBool>() {
            Some(b) => Accu::Bool(*b.inner()),
            None => Accu::Owned(value.into_owned()),
        }
    }

    fn as_ref(&self) -> &(dyn Val + 'v) {
        match self {
            Accu::Bool(true) => &CelBool::TRUE,
            Accu::Bool(false) => &CelBool::FALSE,
            Accu::Owned(value) => value.as_ref(),
        }
    }
}

impl<'env> Comprehension<'env> {
    fn eval<'s, 'v>(&'s self, sc: &Scope<'s, 'v>) -> Result<CowVal<'s, 'v>, ExecutionError> {
        let accu_init = self.init.eval(sc)?;
        let iter = self.range.eval(sc)?;
        if let Some((guard, items)) = &self.append {
            if accu_init
                .downcast_ref::<CelList>()
                .is_some_and(|list| list.inner().is_empty())
            {
                return self.append(guard.as_ref(), items, &iter, sc);
            }
        }
        let mut accu = Accu::of(accu_init);
        let mut items = iter
            .as_iterable()
            .ok_or_else(|| ExecutionError::UnexpectedType {
                got: iter.get_type().name().to_owned(),
                want: "iterable".to_owned(),
            })?
            .iter();
        let mut deferred = DeferredErrors {
            fold: self.fold,
            pending: None,
        };
        while let Some(item) = items.next() {
            cost::charge(1)?;
            let accu_frame = Local {
                slot: self.accu_slot,
                value: accu.as_ref(),
                parent: sc.locals,
            };
            let inner = Scope {
                globals: sc.globals,
                locals: Some(&accu_frame),
            };
            if !try_bool(self.cond.eval(&inner))? {
                break;
            }
            let iter_frame = Local {
                slot: self.iter_slot,
                value: item,
                parent: Some(&accu_frame),
            };
            let inner = Scope {
                globals: sc.globals,
                locals: Some(&iter_frame),
            };
            let step = self.step.eval(&inner);
            if let Some(next) = deferred.step(step)? {
                accu = Accu::of(next);
            }
        }
        deferred.finish()?;
        let accu_frame = Local {
            slot: self.accu_slot,
            value: accu.as_ref(),
            parent: sc.locals,
        };
        let inner = Scope {
            globals: sc.globals,
            locals: Some(&accu_frame),
        };
        let result = self.result.eval(&inner)?;
        if let Some(b) = result.downcast_ref::<CelBool>() {
            return Ok(bool(*b.inner()));
        }
        Ok(CowVal::Owned(result.into_owned()))
    }

    fn append<'s, 'v>(
        &'s self,
        guard: Option<&'s Op<'env>>,
        items_op: &'s Op<'env>,
        iter: &CowVal<'s, 'v>,
        sc: &Scope<'s, 'v>,
    ) -> Result<CowVal<'s, 'v>, ExecutionError> {
        let size_hint = iter
            .as_sizer()
            .map(|s| *s.size().inner() as usize)
            .unwrap_or(0);
        let mut accu = MutableList::with_capacity(size_hint);
        let mut items = iter
            .as_iterable()
            .ok_or_else(|| ExecutionError::UnexpectedType {
                got: iter.get_type().name().to_owned(),
                want: "iterable".to_owned(),
            })?
            .iter();
        while let Some(item) = items.next() {
            cost::charge(1)?;
            // The loop condition of `map`/`filter` is a literal (checked at compile time).
            if !try_bool(self.cond.eval(sc))? {
                break;
            }
            let frame = Local {
                slot: self.iter_slot,
                value: item,
                parent: sc.locals,
            };
            let inner = Scope {
                globals: sc.globals,
                locals: Some(&frame),
            };
            if let Some(guard) = guard {
                if !try_bool(guard.eval(&inner))? {
                    continue;
                }
            }
            match items_op {
                // `[a, b]` appended item by item, as `extend` would copy them from the list.
                Op::List { items, optional } if optional.is_empty() => {
                    for item in items {
                        accu.push(item.eval(&inner)?.into_owned());
                    }
                }
                _ => accu.extend(items_op.eval(&inner)?.as_ref())?,
            }
        }
        Ok(CowVal::owned(accu.to_immutable()))
    }
}
