//! Gates: what a document must contain for a rule to possibly report on it, read once from the
//! rule's CEL when it is compiled, checked natively before any CEL runs on the document.
//!
//! A gate is conservative: when it is closed, evaluating the rule is known to produce nothing
//! at all (no element, no finding, no error), so skipping it changes no output. The analysis
//! recognises only the shapes whose semantics are certain:
//!
//! - in `select` (a list): a helper whose result the helper itself says is empty unless the
//!   document has something (`resources(doc, 'T')`: a resource of type `T`; `podSpecs(doc)`,
//!   `containers(doc)`: a pod spec — see [`crate::cel::HelperGate`]), the literal `[]`, `a + b`,
//!   `x.map(…)`, `x.filter(…)`, `x.flatten()` and `c ? a : b`;
//! - in a condition (`when`, or the condition of a `select` ternary): `doc.kind == 'K'`,
//!   `doc.kind in ['K', …]`, `a && b` and `a || b`; with no `select`, `item` is the document
//!   and `item.kind` counts as `doc.kind`.
//!
//! Anything else leaves the gate open.

use std::cell::OnceCell;
use std::collections::HashSet;

use cel::common::ast::{operators, Expr as Ast, IdedExpr, LiteralValue};

use crate::cel::HelperGate;
use crate::doc::{MapNode, Node};
use crate::inputs;

/// A precondition on a document, over facts that are cheap to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Always open.
    Open,
    /// Never open (the rule can report nothing on any document).
    Closed,
    /// The document's `kind` is one of these (open when it has no string `kind`).
    KindIn(Vec<String>),
    /// `resources(doc, type)` is not empty (`*`: any resource).
    Resource(String),
    /// The document passes the test of the helper of this name (e.g. a Kubernetes workload
    /// with a pod spec for `containers`).
    Fact(&'static str),
    /// Every gate is open.
    All(Vec<Gate>),
    /// Some gate is open.
    Any(Vec<Gate>),
}

impl Gate {
    /// The gate of a rule: its `select` must yield something and its `when` may be true.
    pub fn of_rule(select: Option<&IdedExpr>, when: Option<&IdedExpr>) -> Gate {
        let item_is_doc = select.is_none();
        let selected = select.map_or(Gate::Open, yields);
        let admitted = when.map_or(Gate::Open, |w| holds(w, item_is_doc));
        all(selected, admitted)
    }

    /// Whether the document described by `facts` passes the gate.
    pub fn admits(&self, facts: &Facts<'_>) -> bool {
        match self {
            Gate::Open => true,
            Gate::Closed => false,
            Gate::KindIn(kinds) => facts.kind.is_none_or(|k| kinds.iter().any(|x| x == k)),
            Gate::Resource(t) => facts.has_resource(t),
            Gate::Fact(helper) => facts.holds(helper),
            Gate::All(gs) => gs.iter().all(|g| g.admits(facts)),
            Gate::Any(gs) => gs.iter().any(|g| g.admits(facts)),
        }
    }
}

/// Both gates (`a && b`).
fn all(a: Gate, b: Gate) -> Gate {
    join([a, b], true)
}

/// Either gate (`a || b`).
fn any(a: Gate, b: Gate) -> Gate {
    join([a, b], false)
}

/// Joins gates under `&&` (`conjunction`) or `||`, simplified: the neutral gate (open for `&&`,
/// closed for `||`) is dropped, the absorbing one decides, nested joins of the same kind merge.
fn join(gates: [Gate; 2], conjunction: bool) -> Gate {
    let (neutral, absorbing) = if conjunction {
        (Gate::Open, Gate::Closed)
    } else {
        (Gate::Closed, Gate::Open)
    };
    let mut kept = Vec::new();
    for g in gates {
        match g {
            g if g == neutral => {}
            g if g == absorbing => return absorbing,
            Gate::All(inner) if conjunction => kept.extend(inner),
            Gate::Any(inner) if !conjunction => kept.extend(inner),
            other => kept.push(other),
        }
    }
    match (kept.len(), conjunction) {
        (0, _) => neutral,
        (1, _) => kept.remove(0),
        (_, true) => Gate::All(kept),
        (_, false) => Gate::Any(kept),
    }
}

fn is_doc(e: &IdedExpr) -> bool {
    matches!(&e.expr, Ast::Ident(name) if name == "doc")
}

fn string_literal(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Ast::Literal(LiteralValue::String(s)) => Some(s.inner().to_string()),
        _ => None,
    }
}

/// When closed, the list expression evaluates to an empty list, without error.
fn yields(e: &IdedExpr) -> Gate {
    match &e.expr {
        Ast::List(l) if l.elements.is_empty() => Gate::Closed,
        Ast::Call(c) => match (c.func_name.as_str(), &c.target, c.args.as_slice()) {
            (name, None, [d, rest @ ..]) if is_doc(d) && inputs::helper(name).is_some() => {
                let h = inputs::helper(name).expect("checked just above");
                match (h.gate, rest) {
                    (HelperGate::ResourceType, [t]) => {
                        string_literal(t).map_or(Gate::Open, Gate::Resource)
                    }
                    (HelperGate::Document(..), []) => Gate::Fact(h.name),
                    _ => Gate::Open,
                }
            }
            (operators::ADD, None, [a, b]) => any(yields(a), yields(b)),
            ("flatten", Some(target), []) => yields(target),
            // An error-free false condition picks the second branch.
            (operators::CONDITIONAL, None, [cond, _, otherwise]) => {
                any(holds(cond, false), yields(otherwise))
            }
            _ => Gate::Open,
        },
        // map() and filter(): an accumulator that starts empty and grows per element.
        Ast::Comprehension(c) => {
            let starts_empty = matches!(&c.accu_init.expr, Ast::List(l) if l.elements.is_empty());
            let returns_accu = matches!(&c.result.expr, Ast::Ident(n) if *n == c.accu_var);
            if starts_empty && returns_accu {
                yields(&c.iter_range)
            } else {
                Gate::Open
            }
        }
        _ => Gate::Open,
    }
}

/// `doc.kind` (or `item.kind` when the item is the document).
fn is_kind_of_doc(e: &IdedExpr, item_is_doc: bool) -> bool {
    match &e.expr {
        Ast::Select(s) if !s.test && s.field == "kind" => {
            is_doc(&s.operand)
                || (item_is_doc && matches!(&s.operand.expr, Ast::Ident(n) if n == "item"))
        }
        _ => false,
    }
}

/// When closed, the condition evaluates to `false`, without error.
fn holds(e: &IdedExpr, item_is_doc: bool) -> Gate {
    let Ast::Call(c) = &e.expr else {
        return Gate::Open;
    };
    match (c.func_name.as_str(), &c.target, c.args.as_slice()) {
        (operators::LOGICAL_AND, None, [a, b]) => all(holds(a, item_is_doc), holds(b, item_is_doc)),
        (operators::LOGICAL_OR, None, [a, b]) => any(holds(a, item_is_doc), holds(b, item_is_doc)),
        (operators::EQUALS, None, [a, b]) => {
            let (kind, lit) = if is_kind_of_doc(a, item_is_doc) {
                (a, b)
            } else {
                (b, a)
            };
            match string_literal(lit) {
                Some(k) if is_kind_of_doc(kind, item_is_doc) => Gate::KindIn(vec![k]),
                _ => Gate::Open,
            }
        }
        (operators::IN, None, [a, list]) if is_kind_of_doc(a, item_is_doc) => match &list.expr {
            Ast::List(l) if l.optional_indices.is_empty() => l
                .elements
                .iter()
                .map(string_literal)
                .collect::<Option<Vec<_>>>()
                .map_or(Gate::Open, Gate::KindIn),
            _ => Gate::Open,
        },
        _ => Gate::Open,
    }
}

/// What a rule looks for, in words, read from its `select` and `when`: the resource types it
/// selects (`resources(doc, 'T')`, or a resource's `Type` compared with literals), workloads with
/// a pod spec, or Kubernetes kinds. `None` when nothing so specific is recognised. The
/// Statement of Applicability says "no … found" with it when a control's rules judged nothing.
pub fn scope_words(select: Option<&IdedExpr>, when: Option<&IdedExpr>) -> Option<String> {
    let mut found = Scope::default();
    for e in [select, when].into_iter().flatten() {
        found.visit(e);
    }
    let mut words: Vec<String> = found.types.iter().map(|t| format!("`{t}`")).collect();
    for w in found.facts {
        if !words.iter().any(|x| x == w) {
            words.push(w.to_string());
        }
    }
    if words.is_empty()
        && let Gate::KindIn(kinds) = Gate::of_rule(select, when)
    {
        words.extend(kinds.iter().map(|k| format!("Kubernetes `{k}`")));
    }
    (!words.is_empty()).then(|| words.join(", "))
}

/// Literals collected by [`scope_words`], in first-seen order.
#[derive(Default)]
struct Scope {
    types: Vec<String>,
    facts: Vec<&'static str>,
}

impl Scope {
    fn add(&mut self, t: String) {
        if t != "*" && !self.types.contains(&t) {
            self.types.push(t);
        }
    }

    fn visit(&mut self, e: &IdedExpr) {
        match &e.expr {
            Ast::Call(c) => {
                let gate = inputs::helper(&c.func_name).map(|h| h.gate);
                match (c.func_name.as_str(), c.args.as_slice(), gate) {
                    (_, [d, t], Some(HelperGate::ResourceType)) if is_doc(d) => {
                        if let Some(t) = string_literal(t) {
                            self.add(t);
                        }
                    }
                    (_, [d], Some(HelperGate::Document(_, words))) if is_doc(d) => {
                        self.facts.push(words);
                    }
                    (operators::EQUALS, [a, b], _) => {
                        for (field, lit) in [(a, b), (b, a)] {
                            if names_type(field)
                                && let Some(t) = string_literal(lit)
                            {
                                self.add(t);
                            }
                        }
                    }
                    (operators::IN, [a, list], _) if names_type(a) => {
                        if let Ast::List(l) = &list.expr {
                            for t in l.elements.iter().filter_map(string_literal) {
                                self.add(t);
                            }
                        }
                    }
                    _ => {}
                }
                if let Some(t) = &c.target {
                    self.visit(t);
                }
                for a in &c.args {
                    self.visit(a);
                }
            }
            Ast::Comprehension(c) => {
                for part in [&c.iter_range, &c.loop_step, &c.result] {
                    self.visit(part);
                }
            }
            Ast::List(l) => l.elements.iter().for_each(|x| self.visit(x)),
            Ast::Select(s) => self.visit(&s.operand),
            _ => {}
        }
    }
}

/// `x.Type`, `x.?Type` or `x.?Type.orValue(…)`: a CloudFormation resource's type.
fn names_type(e: &IdedExpr) -> bool {
    match &e.expr {
        Ast::Select(s) => s.field == "Type",
        Ast::Call(c) => match (c.func_name.as_str(), &c.target, c.args.as_slice()) {
            ("orValue", Some(t), [_]) => names_type(t),
            (operators::OPT_SELECT, None, [_, field]) => {
                string_literal(field).is_some_and(|f| f == "Type")
            }
            _ => false,
        },
        _ => false,
    }
}

/// What gates ask of one document, computed at most once each.
pub struct Facts<'a> {
    doc: &'a MapNode,
    kind: Option<&'a str>,
    resource_types: OnceCell<(bool, HashSet<&'a str, foldhash::fast::FixedState>)>,
    helpers: std::cell::RefCell<Vec<(&'static str, bool)>>,
}

impl<'a> Facts<'a> {
    /// Facts of the document whose root is `doc` (`None` for a root that is not a map).
    pub fn of(doc: Option<&'a MapNode>) -> Option<Facts<'a>> {
        let doc = doc?;
        Some(Facts {
            doc,
            kind: doc.get("kind").and_then(Node::as_str),
            resource_types: OnceCell::new(),
            helpers: std::cell::RefCell::new(Vec::new()),
        })
    }

    fn has_resource(&self, wanted: &str) -> bool {
        let (any, types) = self.resource_types.get_or_init(|| {
            let mut any = false;
            let mut types = HashSet::default();
            for (t, _) in inputs::resource_nodes(self.doc) {
                any = true;
                types.extend(t);
            }
            (any, types)
        });
        if wanted == "*" {
            *any
        } else {
            types.contains(wanted) || types.iter().any(|t| inputs::type_matches(t, wanted))
        }
    }

    /// Whether the document passes the test of the helper `name` (computed once).
    fn holds(&self, name: &'static str) -> bool {
        if let Some((_, b)) = self.helpers.borrow().iter().find(|(n, _)| *n == name) {
            return *b;
        }
        let b = match inputs::helper(name).map(|h| h.gate) {
            Some(HelperGate::Document(test, _)) => test(self.doc),
            _ => true,
        };
        self.helpers.borrow_mut().push((name, b));
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(select: Option<&str>, when: Option<&str>) -> Gate {
        let s = select.map(|s| crate::rules::env::env().compile(s).unwrap());
        let w = when.map(|s| crate::rules::env::env().compile(s).unwrap());
        Gate::of_rule(
            s.as_ref().map(|p| p.expression()),
            w.as_ref().map(|p| p.expression()),
        )
    }

    fn kinds(k: &[&str]) -> Gate {
        Gate::KindIn(k.iter().map(|s| s.to_string()).collect())
    }

    fn scope(select: Option<&str>, when: Option<&str>) -> Option<String> {
        let s = select.map(|s| crate::rules::env::env().compile(s).unwrap());
        let w = when.map(|s| crate::rules::env::env().compile(s).unwrap());
        scope_words(
            s.as_ref().map(|p| p.expression()),
            w.as_ref().map(|p| p.expression()),
        )
    }

    #[test]
    fn scope_words_name_resource_types_workloads_and_kinds() {
        assert_eq!(
            scope(Some("resources(doc, 'aws_guardduty_detector')"), None).as_deref(),
            Some("`aws_guardduty_detector`")
        );
        assert_eq!(
            scope(
                Some("resources(doc, '*')"),
                Some("item.?Type.orValue('') in ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster']")
            )
            .as_deref(),
            Some("`AWS::RDS::DBInstance`, `AWS::RDS::DBCluster`")
        );
        assert_eq!(
            scope(Some("containers(doc)"), None).as_deref(),
            Some("Kubernetes workload with a pod spec")
        );
        assert_eq!(
            scope(None, Some("doc.kind in ['Role', 'ClusterRole']")).as_deref(),
            Some("Kubernetes `Role`, Kubernetes `ClusterRole`")
        );
        assert_eq!(scope(Some("jobs(doc)"), None), None);
    }

    #[test]
    fn resources_and_workloads_are_recognised_through_list_operations() {
        assert_eq!(
            gate(Some("resources(doc, 'AWS::S3::Bucket')"), None),
            Gate::Resource("AWS::S3::Bucket".into())
        );
        assert_eq!(
            gate(
                Some("resources(doc, 'a').map(r, r.x).filter(l, type(l) == list).flatten() + resources(doc, 'b')"),
                None
            ),
            Gate::Any(vec![Gate::Resource("a".into()), Gate::Resource("b".into())])
        );
        assert_eq!(
            gate(Some("podSpecs(doc) + containers(doc)"), None),
            Gate::Any(vec![Gate::Fact("podSpecs"), Gate::Fact("containers")])
        );
        assert_eq!(
            gate(
                Some("doc.kind == 'Secret' && has(doc.data) ? [doc.data] : []"),
                None
            ),
            kinds(&["Secret"])
        );
    }

    #[test]
    fn anything_uncertain_stays_open() {
        for (select, when) in [
            (Some("doc.instructions"), None),
            (Some("resources(item, 'a')"), None),
            (Some("resources(doc, t)"), None),
            (Some("[doc] + containers(doc)"), None),
            (
                Some("resources(doc, 'a').exists(r, true) ? [] : [doc]"),
                None,
            ),
            (Some("doc.kind == 'A' ? [doc] : [doc.spec]"), None),
            (Some("resources(doc, 'a').slice(0, 1)"), None),
            (None, Some("!(doc.kind == 'Service')")),
            (None, Some("doc.kind != 'Service'")),
            (None, Some("doc.?kind.orValue('') == 'Pod'")),
            (None, Some("doc.kind in kinds")),
            (None, Some("doc.kind == other")),
            // With a select, `item` is an element, not the document.
            (Some("doc.spec"), Some("item.kind == 'Pod'")),
        ] {
            assert_eq!(gate(select, when), Gate::Open, "{select:?} {when:?}");
        }
    }

    #[test]
    fn conditions_on_the_document_kind_close_the_gate() {
        assert_eq!(
            gate(None, Some("doc.kind == 'Ingress'")),
            kinds(&["Ingress"])
        );
        assert_eq!(
            gate(None, Some("'Ingress' == item.kind")),
            kinds(&["Ingress"])
        );
        assert_eq!(
            gate(
                None,
                Some("doc.kind in ['Role', 'ClusterRole'] && size(doc.rules) > 0")
            ),
            kinds(&["Role", "ClusterRole"])
        );
        assert_eq!(
            gate(
                Some("containers(doc)"),
                Some("doc.kind == 'Pod' || doc.kind == 'Job'")
            ),
            Gate::All(vec![
                Gate::Fact("containers"),
                Gate::Any(vec![kinds(&["Pod"]), kinds(&["Job"])])
            ])
        );
        assert_eq!(gate(Some("[]"), None), Gate::Closed);
    }

    fn document(text: &str) -> inputs::Document {
        let read = inputs::read_text(std::path::Path::new("t.yaml"), "t.yaml", text);
        read.documents.into_iter().next().unwrap()
    }

    #[test]
    fn facts_follow_the_helpers() {
        let pod = document("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n");
        let f = Facts::of(pod.root.as_map()).unwrap();
        assert!(Gate::Fact("containers").admits(&f));
        assert!(kinds(&["Pod"]).admits(&f));
        assert!(!kinds(&["Service"]).admits(&f));
        assert!(!Gate::Resource("*".into()).admits(&f));

        let cfn = document(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n  X:\n    Properties: {}\n",
        );
        let f = Facts::of(cfn.root.as_map()).unwrap();
        assert!(Gate::Resource("AWS::S3::Bucket".into()).admits(&f));
        assert!(!Gate::Resource("AWS::SQS::Queue".into()).admits(&f));
        assert!(Gate::Resource("*".into()).admits(&f));
        assert!(!Gate::Fact("containers").admits(&f));
        // No string `kind`: a kind condition cannot be judged from facts, so it stays open.
        assert!(kinds(&["Pod"]).admits(&f));
    }
}
