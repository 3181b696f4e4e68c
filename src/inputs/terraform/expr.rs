//! Terraform expressions into tree values. Literals become values; references to variables and
//! locals whose values are fully known, the iterators of expanded `dynamic` blocks, string
//! templates whose interpolations all resolve, and comparisons and logic on known values are
//! evaluated. A reference to an attribute of a managed resource, a data source or a module
//! output is unknown, but known to be set (rules relate resources through its text, and a check
//! that it is not null or empty is decided). A conditional whose condition is not known becomes a
//! [`Value::Choice`] of its two branches. Everything else (unresolved variables, `each.*`,
//! `count.index`, module outputs, function calls, `for` expressions, splats) becomes
//! [`Value::Unknown`] holding the expression's source text.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use cel::common::types::{CelBool, CelDouble, CelInt, CelString};
use hcl_edit::expr::{
    BinaryOperator, Expression, Object, ObjectKey, Traversal, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Element, Template};
use hcl_edit::{Number, Span as _};

use super::source::Source;
use crate::doc::tree::{ChoiceNode, ListNode, MapBuilder, Node, Span, Value};

/// Deepest expression nesting (counting resolved references) evaluated before giving up.
const MAX_DEPTH: u32 = 200;
/// Most work that copying resolved values may cost a module (16 per node plus string bytes)
/// before references are left unknown: a chain of locals each doubling the previous one must
/// not exhaust memory, as YAML alias bombs must not.
const MAX_EXPANSION: u64 = 64 << 20;

/// What `var.*` and `local.*` references can resolve to.
#[derive(Default)]
pub(super) struct Scope<'a> {
    vars: HashMap<String, Node>,
    locals: HashMap<String, (&'a Expression, &'a Source)>,
    memo: RefCell<HashMap<String, Option<Node>>>,
    active: RefCell<HashSet<String>>,
    spent: Cell<u64>,
}

impl<'a> Scope<'a> {
    /// Sets the value of `var.<name>`; a value that is not fully known unsets it.
    pub fn set_var(&mut self, name: &str, value: Node) {
        if is_known(&value) {
            self.vars.insert(name.to_string(), value);
        } else {
            self.vars.remove(name);
        }
    }

    /// Binds `var.<name>` to the argument of a module call: a fully known value, a reference
    /// to another resource (unknown, but set), or an unknown written as the caller's expression
    /// (so that a finding says which value of the caller it depends on); anything else leaves
    /// the variable unknown, whatever its default.
    pub fn bind_var(&mut self, name: &str, value: Node) {
        let unknown = matches!(&value.value, Value::Unknown(_));
        if unknown || (is_known(&value) && !has_choice(&value)) {
            self.vars.insert(name.to_string(), value);
        } else {
            self.vars.remove(name);
        }
    }

    /// Declares `local.<name>` (the first declaration wins).
    pub fn add_local(&mut self, name: &str, expr: &'a Expression, src: &'a Source) {
        self.locals.entry(name.to_string()).or_insert((expr, src));
    }

    fn var(&self, name: &str) -> Option<Node> {
        self.vars.get(name).cloned()
    }

    /// The value of `local.<name>` when it is fully known; cycles resolve to nothing.
    fn local(&self, name: &str, depth: u32) -> Option<Node> {
        if let Some(done) = self.memo.borrow().get(name) {
            return done.clone();
        }
        let (expr, src) = *self.locals.get(name)?;
        if !self.active.borrow_mut().insert(name.to_string()) {
            return None;
        }
        let node = Cx {
            src,
            scope: self,
            iterators: Vec::new(),
        }
        .convert(expr, depth + 1);
        self.active.borrow_mut().remove(name);
        let known = is_known(&node).then_some(node);
        self.memo
            .borrow_mut()
            .insert(name.to_string(), known.clone());
        known
    }

    /// Records `units` of work; false once the module's budget is exhausted.
    fn charge(&self, units: usize) -> bool {
        let units = u64::try_from(units).unwrap_or(u64::MAX);
        let total = self.spent.get().saturating_add(units);
        self.spent.set(total);
        total <= MAX_EXPANSION
    }

    /// A copy of a resolved value written at `span`, all the way down (a resolved reference
    /// points at its use); `None` when the expansion budget runs out.
    fn copy_at(&self, node: &Node, span: Span) -> Option<Node> {
        let bytes = match &node.value {
            Value::Str(s) => s.inner().len(),
            Value::Unknown(u) => u.text().len(),
            _ => 0,
        };
        if !self.charge(16 + bytes) {
            return None;
        }
        let value = match &node.value {
            Value::Map(m) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    self.charge(k.len());
                    b.insert(k.to_string(), span, self.copy_at(&e.value, span)?);
                }
                Value::Map(b.finish(span))
            }
            Value::List(l) => {
                let items = l.items().iter().map(|n| self.copy_at(n, span));
                Value::List(ListNode::new(items.collect::<Option<_>>()?, span))
            }
            other => other.clone(),
        };
        Some(Node::new(value, span))
    }
}

/// Whether a value holds no unknown part.
pub(super) fn is_known(node: &Node) -> bool {
    match &node.value {
        Value::Unknown(_) => false,
        Value::Map(m) => m.iter().all(|(_, e)| is_known(&e.value)),
        Value::List(l) => l.items().iter().all(is_known),
        _ => true,
    }
}

/// Whether a value holds a conditional whose branches are not decided.
fn has_choice(node: &Node) -> bool {
    match &node.value {
        Value::Choice(_) => true,
        Value::Map(m) => m.iter().any(|(_, e)| has_choice(&e.value)),
        Value::List(l) => l.items().iter().any(has_choice),
        _ => false,
    }
}

/// A number as an integer when it is one that fits, else as a float.
fn number(n: &Number) -> Value {
    match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Value::Int(CelInt::from(i)),
        (None, Some(f)) => Value::Float(CelDouble::from(f)),
        (None, None) => Value::Null,
    }
}

/// How a scalar reads inside a string template; `None` for values Terraform would refuse.
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.inner().to_string()),
        Value::Int(i) => Some((**i).to_string()),
        Value::Float(f) => Some((**f).to_string()),
        Value::Bool(b) => Some((**b).to_string()),
        _ => None,
    }
}

/// The current element of an expanded `dynamic` block: `<name>.key` and `<name>.value`.
#[derive(Clone)]
pub(super) struct Iterator {
    /// The iterator's name (the block label, or its `iterator` argument).
    pub name: String,
    /// The element's key (index for a list).
    pub key: Node,
    /// The element.
    pub value: Node,
}

/// Converts the expressions of one file.
pub(super) struct Cx<'s, 'a> {
    /// The file the expressions come from.
    pub src: &'s Source,
    /// What references resolve to.
    pub scope: &'s Scope<'a>,
    /// Iterators of the `dynamic` blocks being expanded, innermost last.
    pub iterators: Vec<Iterator>,
}

impl Cx<'_, '_> {
    /// The span of something hcl-edit parsed, falling back to the whole file.
    pub fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        match range {
            Some(r) => self.src.span(Some(r), Span::default()),
            None => self.src.whole(),
        }
    }

    /// The source text of an expression, trimmed.
    pub fn text(&self, expr: &Expression) -> String {
        match self.src.slice(expr.span()) {
            Some(s) => s.to_string(),
            None => expr.to_string().trim().to_string(),
        }
    }

    /// An unknown value: the expression's source text.
    pub fn unknown(&self, expr: &Expression) -> Node {
        let text = self.text(expr);
        Node::unknown(text, self.span(expr.span()))
    }

    /// The value of an expression, as far as it is known before deployment.
    pub fn convert(&self, expr: &Expression, depth: u32) -> Node {
        let span = self.span(expr.span());
        if depth > MAX_DEPTH {
            return self.unknown(expr);
        }
        let value = match expr {
            Expression::Null(_) => Some(Value::Null),
            Expression::Bool(b) => Some(Value::Bool(CelBool::from(*b.value()))),
            Expression::Number(n) => Some(number(n.value())),
            Expression::String(s) => {
                let text = Node::string(s.value().clone(), span);
                return self.policy(text, false);
            }
            Expression::Array(a) => {
                let items = a.iter().map(|e| self.convert(e, depth + 1)).collect();
                Some(Value::List(ListNode::new(items, span)))
            }
            Expression::Object(o) => self.object(o, span, depth),
            Expression::StringTemplate(t) => {
                return self.policy(self.template(expr, t, span, depth), false)
            }
            Expression::HeredocTemplate(h) => {
                return self.policy(self.template(expr, &h.template, span, depth), true)
            }
            Expression::Parenthesis(p) => Some(self.convert(p.inner(), depth + 1).value),
            Expression::Traversal(t) => match self.reference(t, depth) {
                Some(n) => self.scope.copy_at(&n, span).map(|n| n.value),
                None if is_attribute_of_resource(t) => {
                    return Node::reference(self.text(expr), span)
                }
                // `provider = aws.west`: a provider configuration, named as written.
                None if is_provider_reference(t) => {
                    Some(Value::Str(CelString::from(self.text(expr))))
                }
                None => None,
            },
            Expression::UnaryOp(u) => negate(self.convert(&u.expr, depth + 1), *u.operator.value()),
            Expression::BinaryOp(b) => binary(
                &self.convert(&b.lhs_expr, depth + 1),
                *b.operator.value(),
                &self.convert(&b.rhs_expr, depth + 1),
            ),
            Expression::Conditional(c) => {
                let cond = self.convert(&c.cond_expr, depth + 1);
                return match cond.value {
                    Value::Bool(b) if *b => self.convert(&c.true_expr, depth + 1),
                    Value::Bool(_) => self.convert(&c.false_expr, depth + 1),
                    _ => {
                        let branch = |e: &Expression| {
                            let n = self.convert(e, depth + 1);
                            (!matches!(n.value, Value::Null)).then_some(n)
                        };
                        let choice = ChoiceNode::new(
                            self.text(&c.cond_expr),
                            branch(&c.true_expr),
                            branch(&c.false_expr),
                        );
                        Node::new(Value::Choice(choice), span)
                    }
                };
            }
            Expression::FuncCall(f) => self.conversion(f, span, depth),
            _ => None,
        };
        match value {
            Some(v) => Node::new(v, span),
            None => self.unknown(expr),
        }
    }

    /// A string holding a JSON policy document (an object with a `Statement`), as its
    /// structure: rules judge statements, not text. A heredoc's structure keeps the lines of
    /// the heredoc; a one-line string's structure is all at the string.
    fn policy(&self, node: Node, heredoc: bool) -> Node {
        let Some(text) = node.as_str() else {
            return node;
        };
        let trimmed = text.trim();
        if !(trimmed.starts_with('{')
            && trimmed.ends_with('}')
            && trimmed.contains("\"Statement\""))
            || serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_err()
        {
            return node;
        }
        let Some((parsed, from)) = crate::doc::yaml::parse(text)
            .ok()
            .and_then(|s| Some((s.documents.into_iter().next()?, s.positions)))
        else {
            return node;
        };
        let to = &self.src.positions;
        let (file, at) = (to.file(node.span), node.span);
        let first = to.start(at).line;
        let place = |sp: Span| {
            if heredoc {
                let line = |p: crate::doc::Pos| crate::doc::Pos::new(p.line + first, p.col);
                to.span(file, line(from.start(sp)), line(from.end(sp)))
            } else {
                at
            }
        };
        moved(&parsed, &place)
    }

    /// `toset(x)`, `tolist(x)`, `tomap(x)` of a known collection: the collection itself (sets
    /// keep their written order); `jsonencode(x)` of an object or list: its structure (a JSON
    /// policy is judged as one). Other function calls are not evaluated.
    fn conversion(&self, f: &hcl_edit::expr::FuncCall, span: Span, depth: u32) -> Option<Value> {
        let name = f.name.name.as_str();
        if !f.name.namespace.is_empty()
            || !matches!(name, "toset" | "tolist" | "tomap" | "jsonencode")
            || f.args.len() != 1
        {
            return None;
        }
        let arg = self.convert(f.args.iter().next()?, depth + 1);
        if name == "jsonencode" {
            return matches!(arg.value, Value::Map(_) | Value::List(_)).then_some(arg.value);
        }
        let collection = matches!(arg.value, Value::List(_) | Value::Map(_)) && is_known(&arg);
        collection
            .then(|| self.scope.copy_at(&arg, span))
            .flatten()
            .map(|n| n.value)
    }

    /// An object literal; unknown when a key is not a known scalar.
    fn object(&self, o: &Object, span: Span, depth: u32) -> Option<Value> {
        let mut b = MapBuilder::new();
        for (key, value) in o.iter() {
            let name = match key {
                ObjectKey::Ident(id) => id.as_str().to_string(),
                ObjectKey::Expression(e) => scalar_text(&self.convert(e, depth + 1))?,
            };
            let key_span = self.span(key.span());
            b.insert(name, key_span, self.convert(value.expr(), depth + 1));
        }
        Some(Value::Map(b.finish(span)))
    }

    /// A string or heredoc template: its text when every part is known. A template that is a
    /// single interpolation has the interpolated value, of whatever type, as Terraform does.
    fn template(&self, expr: &Expression, t: &Template, span: Span, depth: u32) -> Node {
        let elements: Vec<&Element> = t.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            let node = self.convert(&i.expr, depth + 1);
            if matches!(&node.value, Value::Unknown(u) if u.is_set()) {
                return Node::new(node.value, span);
            }
            return match is_known(&node).then(|| self.scope.copy_at(&node, span)) {
                Some(Some(node)) => node,
                _ => self.unknown(expr),
            };
        }
        match self.template_text(&elements, depth) {
            Some(s) => Node::string(s, span),
            None => self.unknown(expr),
        }
    }

    fn template_text(&self, elements: &[&Element], depth: u32) -> Option<String> {
        let mut out = String::new();
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(s) => {
                    let before = i.checked_sub(1).and_then(|j| elements.get(j));
                    let after = elements.get(i + 1);
                    out.push_str(strip(s.value(), before, after));
                }
                Element::Interpolation(interp) => match &interp.expr {
                    Expression::Traversal(t) if is_attribute_of_resource(t) => {
                        out.push_str(&format!("${{{}}}", self.text(&interp.expr)));
                    }
                    e => out.push_str(&scalar_text(&self.convert(e, depth + 1))?),
                },
                Element::Directive(_) => return None,
            }
        }
        Some(out)
    }

    /// A `var.*`, `local.*` or `dynamic` iterator reference (with attribute and index steps) to
    /// a known value.
    fn reference(&self, t: &Traversal, depth: u32) -> Option<Node> {
        let root = t.expr.as_variable()?;
        let mut ops = t.operators.iter().map(|op| op.value());
        let TraversalOperator::GetAttr(name) = ops.next()? else {
            return None;
        };
        let iterator = self
            .iterators
            .iter()
            .rev()
            .find(|i| i.name == root.as_str());
        let mut node = match (root.as_str(), iterator) {
            (_, Some(it)) => match name.as_str() {
                "key" => it.key.clone(),
                "value" => it.value.clone(),
                _ => return None,
            },
            ("var", _) => self.scope.var(name.as_str())?,
            ("local", _) => self.scope.local(name.as_str(), depth)?,
            _ => return None,
        };
        for op in ops {
            node = self.step(&node, op, depth)?;
        }
        Some(node)
    }

    /// One step into a known value: `.attr`, `[index]`, `["key"]` or the legacy `.0`.
    fn step(&self, node: &Node, op: &TraversalOperator, depth: u32) -> Option<Node> {
        let key = match op {
            TraversalOperator::GetAttr(name) => {
                Value::Str(CelString::from(name.as_str().to_string()))
            }
            TraversalOperator::Index(e) => self.convert(e, depth + 1).value,
            TraversalOperator::LegacyIndex(i) => {
                Value::Int(CelInt::from(i64::try_from(*i.value()).ok()?))
            }
            _ => return None,
        };
        match (&node.value, key) {
            (Value::Map(m), Value::Str(k)) => m.get(k.inner()).cloned(),
            (Value::Map(m), Value::Int(i)) => m.get(&(*i).to_string()).cloned(),
            (Value::List(l), Value::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.items().get(i).cloned()),
            _ => None,
        }
    }
}

/// `aws_kms_key.main.arn`, `aws_kms_key.main[0].arn`, `data.aws_iam_policy_document.x.json`,
/// `module.kms.key_arn`: a reference to a managed resource, a data source or a module output.
/// Its value is assigned when the referenced object is created, but it names that object: rules
/// relate resources through it and may take it as set.
fn is_attribute_of_resource(t: &Traversal) -> bool {
    let Some(root) = t.expr.as_variable() else {
        return false;
    };
    let names: Vec<&str> = t
        .operators
        .iter()
        .filter_map(|op| match op.value() {
            TraversalOperator::GetAttr(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let splat = t.operators.iter().any(|op| {
        matches!(
            op.value(),
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)
        )
    });
    let well_formed = match root.as_str() {
        "data" => names.len() >= 2 && names[0].contains('_'),
        "module" => names.len() >= 2,
        "var" | "local" | "each" | "count" | "self" | "path" | "terraform" => false,
        resource_type => resource_type.contains('_') && !names.is_empty(),
    };
    well_formed && !splat
}

/// `aws.west`: a provider configuration (a provider name has no `_`; resource types do).
fn is_provider_reference(t: &Traversal) -> bool {
    t.expr.as_variable().is_some_and(|root| {
        !root.as_str().contains('_')
            && !matches!(
                root.as_str(),
                "var"
                    | "local"
                    | "each"
                    | "count"
                    | "self"
                    | "path"
                    | "terraform"
                    | "data"
                    | "module"
            )
    }) && t.operators.len() == 1
        && matches!(t.operators[0].value(), TraversalOperator::GetAttr(_))
}

/// `a == b`, `a != b`, `a && b`, `a || b` and comparisons of known scalars.
fn binary(lhs: &Node, op: BinaryOperator, rhs: &Node) -> Option<Value> {
    let scalar = |n: &Node| {
        !matches!(n.value, Value::Map(_) | Value::List(_) | Value::Choice(_)) && is_known(n)
    };
    if !scalar(lhs) || !scalar(rhs) {
        return None;
    }
    let num = |n: &Node| match n.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    let b = match (op, &lhs.value, &rhs.value) {
        (BinaryOperator::And, Value::Bool(a), Value::Bool(b)) => **a && **b,
        (BinaryOperator::Or, Value::Bool(a), Value::Bool(b)) => **a || **b,
        (BinaryOperator::Eq | BinaryOperator::NotEq, _, _) => {
            let equal = match (num(lhs), num(rhs)) {
                (Some(a), Some(b)) => a == b,
                _ => lhs.to_json() == rhs.to_json(),
            };
            equal == (op == BinaryOperator::Eq)
        }
        (BinaryOperator::Less, _, _) => num(lhs)? < num(rhs)?,
        (BinaryOperator::LessEq, _, _) => num(lhs)? <= num(rhs)?,
        (BinaryOperator::Greater, _, _) => num(lhs)? > num(rhs)?,
        (BinaryOperator::GreaterEq, _, _) => num(lhs)? >= num(rhs)?,
        _ => return None,
    };
    Some(Value::Bool(CelBool::from(b)))
}

/// A copy of `node` with every span (keys' too) placed by `place`.
fn moved(node: &Node, place: &dyn Fn(Span) -> Span) -> Node {
    let value = match &node.value {
        Value::Map(m) => {
            let mut b = MapBuilder::new();
            for (k, e) in m.iter() {
                b.insert(k.to_string(), place(e.key_span), moved(&e.value, place));
            }
            Value::Map(b.finish(place(m.span())))
        }
        Value::List(l) => Value::List(ListNode::new(
            l.items().iter().map(|i| moved(i, place)).collect(),
            place(l.span()),
        )),
        other => other.clone(),
    };
    Node::new(value, place(node.span))
}

/// `-x` of a known number or `!x` of a known bool.
fn negate(node: Node, op: UnaryOperator) -> Option<Value> {
    match (op, node.value) {
        (UnaryOperator::Neg, Value::Int(i)) => i.checked_neg().map(|n| Value::Int(CelInt::from(n))),
        (UnaryOperator::Neg, Value::Float(f)) => Some(Value::Float(CelDouble::from(-*f))),
        (UnaryOperator::Not, Value::Bool(b)) => Some(Value::Bool(CelBool::from(!*b))),
        _ => None,
    }
}

/// A template literal with the whitespace that `~` strip markers of its neighbours remove.
fn strip<'t>(s: &'t str, before: Option<&&Element>, after: Option<&&Element>) -> &'t str {
    let strip_start = matches!(before, Some(Element::Interpolation(i)) if i.strip.strip_end());
    let strip_end = matches!(after, Some(Element::Interpolation(i)) if i.strip.strip_start());
    let s = if strip_start { s.trim_start() } else { s };
    if strip_end {
        s.trim_end()
    } else {
        s
    }
}
