//! What a rule's CEL reads from a document, so a mutant is judged only by the rules that could
//! notice it. A read is a chain of keys (`item.?securityContext.?privileged` reads
//! `[securityContext, privileged]` of each element; `'hostPID' in item` reads `[hostPID]`); a
//! value used whole (iterated, passed to a function, compared) is a chain that ends there.
//! Values passed on without being looked at (`select` results, comprehension ranges, `orValue`,
//! `?:`, `+`, list literals) are followed to where they are used. Structural helpers
//! (`containers(doc)`, `resources(doc, T)`, …) are Rust code that skips what it does not
//! understand: their elements lie under known keys (`containers`, `Resources`…). Anything the
//! analysis cannot follow reads everything (the empty chain).

use std::collections::HashMap;

use cel::common::ast::operators;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr, LiteralValue};
use isms_lint::rules::{Rule, TemplatePart};

/// Chains of keys, matched anywhere along a path (list indices are not part of a chain; `*`
/// stands for a key not known in advance, or for a list index).
type Chains = Vec<Vec<String>>;

/// Any one key, or a list index (which paths leave out).
const ANY: &str = "*";
/// First in a chain read from `doc`: it starts at the document root.
const ROOT: &str = "^";
/// Last in a chain that only tests whether a key is there (`'k' in x`).
const PRESENT: &str = "$";

/// Calls whose result is (part of) their target or arguments.
const PASS_THROUGH: &[&str] = &[
    "orValue", "value", "flatten", "slice", "distinct", "reverse", "sort", "sortBy", "first",
    "last", "dyn", "of",
];

/// Where the elements of a structural helper's result lie, or `None` for other calls. Paths
/// name a CloudFormation resource by its `Type` (see `Mutation::keys`), so `resources(doc, T)`
/// reads `Resources.T` (and Terraform's `resource.T.*`).
fn helper_elements(name: &str, args: &[IdedExpr]) -> Option<Chains> {
    if name == "resources" {
        let ty = match args.get(1).map(|a| &a.expr) {
            Some(Ast::Literal(LiteralValue::String(t))) if t.inner() != "*" => t.inner(),
            _ => ANY,
        };
        return Some(vec![
            vec!["Resources".into(), ty.into()],
            vec!["resource".into(), ty.into(), ANY.into()],
        ]);
    }
    let chains: &[&[&str]] = match name {
        "containers" => &[
            &["containers"],
            &["initContainers"],
            &["ephemeralContainers"],
        ],
        "podSpecs" => &[&["spec"]],
        "jobs" => &[&["jobs", ANY]],
        "steps" => &[&["steps"]],
        "services" => &[&["services", ANY]],
        "referrers" => &[&["resource", ANY, ANY]],
        _ => return None,
    };
    Some(
        chains
            .iter()
            .map(|c| c.iter().map(|k| k.to_string()).collect())
            .collect(),
    )
}

/// Whether a chain and a path agree until one of them ends (`*` takes one key or none; a
/// presence test agrees only with a change of the key itself).
fn agree(chain: &[String], keys: &[String]) -> bool {
    match (chain.split_first(), keys.split_first()) {
        (None, _) => true,
        (Some((c, _)), Some(_)) if c == PRESENT => false,
        (_, None) => true,
        (Some((c, rest)), Some((_, more))) if c == ANY => agree(rest, more) || agree(rest, keys),
        (Some((c, rest)), Some((k, more))) => c == k && agree(rest, more),
    }
}

/// The reads of one rule.
#[derive(Debug, Default)]
pub struct Reads {
    chains: Chains,
    /// The rule reads `key` or `path`, which a renamed key changes.
    uses_key: bool,
}

/// A variable's meaning inside the analysis.
#[derive(Clone, Debug)]
enum Var {
    /// Document data reached through one of these chains.
    Data(Chains),
    /// One of these strings (a comprehension over a list of literals, used as keys).
    Keys(Vec<String>),
    /// Not document data (`file`, `repo`, accumulators, `key`, `path`).
    Other,
}

type Vars = HashMap<String, Var>;

impl Reads {
    /// Everything `rule` reads in `select`, `when`, `assert` and its message.
    pub fn of(rule: &Rule) -> Reads {
        let mut r = Reads::default();
        let mut vars: Vars = HashMap::new();
        vars.insert("doc".into(), Var::Data(vec![vec![ROOT.to_string()]]));
        for v in ["file", "repo", "key", "path"] {
            vars.insert(v.into(), Var::Other);
        }
        let sel = rule.selection();
        let item = match &sel.select {
            Some(select) => {
                let e = select.program.expression();
                r.pass(e, &mut vars);
                values(e, &vars).map_or(Var::Other, Var::Data)
            }
            None => Var::Data(vec![vec![ROOT.to_string()]]),
        };
        vars.insert("item".into(), item);
        let verdict = rule.verdict();
        let mut exprs: Vec<&IdedExpr> = Vec::new();
        exprs.extend(sel.when.as_ref().map(|e| e.program.expression()));
        exprs.push(verdict.assert.program.expression());
        for part in &verdict.message {
            if let TemplatePart::Expr(e) = part {
                exprs.push(e.program.expression());
            }
        }
        for e in exprs {
            r.walk(e, &mut vars);
        }
        r
    }

    /// Whether the rule could read something a mutation at `keys` (the path from the document
    /// root, indices left out) changes: a chain that runs along the path from any point and
    /// stops at or below the mutated node, or above it (a whole value that contains it).
    pub fn touches(&self, keys: &[String], renamed: bool) -> bool {
        if renamed && self.uses_key {
            return true;
        }
        self.chains.iter().any(|c| match c.split_first() {
            None => true,
            Some((first, rest)) if first == ROOT => agree(rest, keys),
            Some(_) => (0..keys.len()).any(|s| agree(c, &keys[s..])),
        })
    }

    fn record(&mut self, chains: Chains) {
        for c in chains {
            if !self.chains.contains(&c) {
                self.chains.push(c);
            }
        }
    }

    /// Walks an expression whose value is read.
    fn walk(&mut self, e: &IdedExpr, vars: &mut Vars) {
        if is_access(e) {
            match values(e, vars) {
                Some(chains) => self.record(chains),
                None => {
                    if matches!(&e.expr, Ast::Ident(n) if n == "key" || n == "path") {
                        self.uses_key = true;
                    }
                }
            }
            return self.pass(e, vars);
        }
        match &e.expr {
            Ast::Call(c) => {
                let name = c.func_name.as_str();
                // `k in x` on a map tests whether x has the key k: a change of x.k (of any
                // member, when k is computed) may change it. On a list it reads the items.
                if name == operators::IN {
                    if let [k, x] = c.args.as_slice() {
                        if let Some(bases) = values(x, vars) {
                            let keys = keys_of(k, vars);
                            let mut read = Vec::new();
                            for b in &bases {
                                for key in &keys {
                                    // A value not known here may be compared with whole items.
                                    read.push(if key == ANY {
                                        b.clone()
                                    } else {
                                        extend(extend(b.clone(), key), PRESENT)
                                    });
                                }
                            }
                            self.record(read);
                            self.walk(k, vars);
                            return self.pass(x, vars);
                        }
                    }
                }
                // `type(x)` reads what x is, `size(x)` which members it has: not their content.
                if let (Some(marker), None, [x]) = (
                    match name {
                        "type" => Some(&[PRESENT][..]),
                        "size" => Some(&[ANY, PRESENT][..]),
                        _ => None,
                    },
                    &c.target,
                    c.args.as_slice(),
                ) {
                    if let Some(bases) = values(x, vars) {
                        let read = bases
                            .into_iter()
                            .map(|b| marker.iter().fold(b, |c, m| extend(c, m)))
                            .collect();
                        self.record(read);
                        return self.pass(x, vars);
                    }
                }
                // `refsAt(doc, T, path)` reads the resources of type T.
                if name == "refsAt" && c.target.is_none() {
                    if let Some(Some(chains)) = helper_elements("resources", &c.args)
                        .map(|c| c.into_iter().next().map(|first| vec![first]))
                    {
                        self.record(chains);
                    }
                    for a in c.args.iter().skip(1) {
                        self.walk(a, vars);
                    }
                    return;
                }
                if helper_elements(name, &c.args).is_some() && c.target.is_none() {
                    if name == "referrers" {
                        let keys = ["_address", "bucket", "name", "id"];
                        self.record(keys.iter().map(|k| vec![k.to_string()]).collect());
                    }
                    // `doc` and `item` go to Rust code that checks shapes.
                    for a in &c.args {
                        if !matches!(&a.expr, Ast::Ident(n) if n == "doc" || n == "item") {
                            self.walk(a, vars);
                        }
                    }
                    return;
                }
                if let Some(t) = &c.target {
                    self.walk(t, vars);
                }
                for a in &c.args {
                    self.walk(a, vars);
                }
            }
            Ast::Comprehension(c) => self.comprehension(c, vars),
            Ast::List(l) => {
                for x in &l.elements {
                    self.walk(x, vars);
                }
            }
            Ast::Map(m) => {
                for entry in &m.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        self.walk(&me.key, vars);
                        self.walk(&me.value, vars);
                    }
                }
            }
            Ast::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.walk(&f.value, vars);
                    }
                }
            }
            Ast::Select(_) | Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => {}
        }
    }

    /// Walks an expression whose value is passed on (its reads happen where it is used), but
    /// whose other parts (conditions, computed keys, arguments) are read.
    fn pass(&mut self, e: &IdedExpr, vars: &mut Vars) {
        match &e.expr {
            Ast::Ident(_) | Ast::Literal(_) => {}
            Ast::Select(s) => self.pass(&s.operand, vars),
            Ast::Call(c) => {
                let name = c.func_name.as_str();
                match (name, c.args.as_slice()) {
                    (operators::OPT_SELECT | operators::INDEX | operators::OPT_INDEX, [x, k]) => {
                        self.pass(x, vars);
                        self.walk(k, vars);
                    }
                    (operators::CONDITIONAL, [cond, a, b]) => {
                        self.walk(cond, vars);
                        self.pass(a, vars);
                        self.pass(b, vars);
                    }
                    (operators::ADD, [a, b]) | ("values", [a, b]) => {
                        self.pass(a, vars);
                        self.pass(b, vars);
                    }
                    ("values", [x]) if c.target.is_none() => self.pass(x, vars),
                    (n, args) if PASS_THROUGH.contains(&n) => {
                        if let Some(t) = &c.target {
                            self.pass(t, vars);
                        }
                        for a in args {
                            self.pass(a, vars);
                        }
                    }
                    _ => self.walk(e, vars),
                }
            }
            Ast::List(l) => {
                for x in &l.elements {
                    self.pass(x, vars);
                }
            }
            _ => self.walk(e, vars),
        }
    }

    /// A macro (`exists`, `all`, `map`, `filter`…): the range is passed to the variables.
    fn comprehension(&mut self, c: &cel::common::ast::ComprehensionExpr, vars: &mut Vars) {
        self.pass(&c.iter_range, vars);
        let range = match (&c.iter_range.expr, values(&c.iter_range, vars)) {
            (_, Some(chains)) => Var::Data(chains),
            (Ast::List(l), None) => l
                .elements
                .iter()
                .map(|e| match &e.expr {
                    Ast::Literal(LiteralValue::String(s)) => Some(s.inner().to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map_or(Var::Other, Var::Keys),
            _ => Var::Other,
        };
        let names = [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)];
        let saved: Vec<(String, Option<Var>)> = names
            .into_iter()
            .flatten()
            .map(|v| (v.clone(), vars.get(v).cloned()))
            .collect();
        vars.insert(c.iter_var.clone(), range.clone());
        if let Some(v2) = &c.iter_var2 {
            vars.insert(v2.clone(), range);
        }
        vars.insert(c.accu_var.clone(), Var::Other);
        self.walk(&c.accu_init, vars);
        self.walk(&c.loop_cond, vars);
        self.walk(&c.loop_step, vars);
        self.walk(&c.result, vars);
        for (v, old) in saved.into_iter().rev() {
            match old {
                Some(o) => vars.insert(v, o),
                None => vars.remove(&v),
            };
        }
    }
}

/// A variable, a field selection or an index.
fn is_access(e: &IdedExpr) -> bool {
    match &e.expr {
        Ast::Ident(_) | Ast::Select(_) => true,
        Ast::Call(c) => {
            c.target.is_none()
                && matches!(
                    c.func_name.as_str(),
                    operators::OPT_SELECT | operators::INDEX | operators::OPT_INDEX
                )
        }
        _ => false,
    }
}

/// The document chains whose values (or items) `e` may give: variables, fields and indexes of
/// them, and what passes them on. `None` when `e` gives no document data (literals, computed
/// strings, `file`…).
fn values(e: &IdedExpr, vars: &Vars) -> Option<Chains> {
    let union = |es: &mut dyn Iterator<Item = &IdedExpr>| -> Option<Chains> {
        let all: Chains = es.filter_map(|x| values(x, vars)).flatten().collect();
        (!all.is_empty()).then_some(all)
    };
    match &e.expr {
        Ast::Ident(name) => match vars.get(name) {
            Some(Var::Data(bases)) => Some(bases.clone()),
            _ => None,
        },
        Ast::Select(s) => values(&s.operand, vars).map(|c| extend_all(c, Some(&s.field))),
        Ast::Call(c) => {
            let name = c.func_name.as_str();
            if c.target.is_none() {
                if let Some(elements) = helper_elements(name, &c.args) {
                    return Some(elements);
                }
            }
            match (name, c.args.as_slice()) {
                (operators::OPT_SELECT | operators::INDEX | operators::OPT_INDEX, [x, k]) => {
                    let keys = keys_of(k, vars);
                    values(x, vars).map(|chains| {
                        chains
                            .into_iter()
                            .flat_map(|c| {
                                keys.iter().map(move |k| match k.as_str() {
                                    "" => c.clone(),
                                    k => extend(c.clone(), k),
                                })
                            })
                            .collect()
                    })
                }
                (operators::CONDITIONAL, [_, a, b]) => union(&mut [a, b].into_iter()),
                (operators::ADD, args) => union(&mut args.iter()),
                // The values of a map: its members.
                ("values", [x]) => values(x, vars).map(|c| extend_all(c, Some(ANY))),
                (n, args) if PASS_THROUGH.contains(&n) => {
                    union(&mut c.target.iter().map(|t| t.as_ref()).chain(args.iter()))
                }
                _ => None,
            }
        }
        Ast::List(l) => union(&mut l.elements.iter()),
        // map() and filter() give items of their range (or values computed from them).
        Ast::Comprehension(c) => values(&c.iter_range, vars),
        _ => None,
    }
}

/// The keys an index expression may take: a literal, the literals a variable ranges over,
/// `""` for a list index (paths leave it out), or `*`.
fn keys_of(k: &IdedExpr, vars: &Vars) -> Vec<String> {
    match &k.expr {
        Ast::Literal(LiteralValue::String(s)) => vec![s.inner().to_string()],
        Ast::Literal(LiteralValue::Int(_) | LiteralValue::UInt(_)) => vec![String::new()],
        Ast::Ident(n) => match vars.get(n) {
            Some(Var::Keys(keys)) => keys.clone(),
            _ => vec![ANY.to_string()],
        },
        _ => vec![ANY.to_string()],
    }
}

fn extend(mut chain: Vec<String>, key: &str) -> Vec<String> {
    chain.push(key.to_string());
    chain
}

fn extend_all(chains: Chains, key: Option<&str>) -> Chains {
    match key {
        Some(k) => chains.into_iter().map(|c| extend(c, k)).collect(),
        None => chains,
    }
}
