//! Evaluation: every rule of a document's kind over that document, yielding findings at the
//! exact span of the judged element (or of its `at` key), and rule errors that name the rule.

use cel::common::types::{CelBool, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, Value as CelValue};

use crate::cel_env;
use crate::doc::{tree, Document, ListNode, MapBuilder, MapNode, Node, NodeId, Span, Value};
use crate::finding::{fingerprint, Finding};
use crate::rules::{Expr, Rule, RuleSet, Severity, TemplatePart};

/// A rule that failed to evaluate on a document: reported, never taken as a pass.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleRunError {
    /// The rule.
    pub rule_id: String,
    /// Display path of the document's file.
    pub path: String,
    /// Line of the element being judged.
    pub line: u32,
    /// What CEL said.
    pub message: String,
}

/// What evaluating one document produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, unsorted.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated.
    pub errors: Vec<RuleRunError>,
    /// Ids of the rules that ran on the document.
    pub evaluated: Vec<String>,
}

/// The `file` variable: path and kind of the document's file.
fn file_value(doc: &Document, path: &str) -> MapNode {
    let mut b = MapBuilder::new();
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let name = path.rsplit('/').next().unwrap_or(path);
    for (k, v) in [
        ("path", path),
        ("name", name),
        ("dir", dir),
        ("kind", doc.kind.as_str()),
        ("document", doc.name.as_str()),
    ] {
        b.insert(
            k.to_string(),
            Span::default(),
            Node::string(v, Span::default()),
        );
    }
    b.finish(Span::default())
}

fn empty_map() -> MapNode {
    MapBuilder::new().finish(Span::default())
}

/// Evaluates every applicable rule of `rules` on `doc`, whose file is shown as `path`.
pub fn evaluate(rules: &RuleSet, doc: &Document, path: &str, repo: Option<&MapNode>) -> Outcome {
    let mut out = Outcome::default();
    let root = cel_env::root_context();
    let file = file_value(doc, path);
    let repo = repo.cloned().unwrap_or_else(empty_map);
    for rule in rules.for_kind(doc.kind) {
        if !rule.applies_to(doc.kind, path) {
            continue;
        }
        out.evaluated.push(rule.id.clone());
        let mut scope = root.new_inner_scope();
        scope.add_variable_as_val("doc", doc.root.as_val().clone_as_boxed());
        scope.add_variable_as_val("file", Box::new(file.clone()));
        scope.add_variable_as_val("repo", Box::new(repo.clone()));
        evaluate_rule(rule, doc, path, &scope, &mut out);
    }
    out
}

fn evaluate_rule(
    rule: &Rule,
    doc: &Document,
    path: &str,
    scope: &Context<'_, 'static>,
    out: &mut Outcome,
) {
    let run_error = |line: u32, e: String| RuleRunError {
        rule_id: rule.id.clone(),
        path: path.to_string(),
        line,
        message: e,
    };
    let elements: Vec<Box<dyn Val>> = match &rule.select {
        None => vec![doc.root.as_val().clone_as_boxed()],
        Some(select) => match CelValue::resolve_val(select.program.expression(), scope) {
            Err(e) => {
                out.errors.push(run_error(
                    doc.root.span.start.line,
                    format!("select: {}", describe(&e)),
                ));
                return;
            }
            Ok(v) => match elements_of(&v) {
                Some(list) => list,
                None => {
                    out.errors.push(run_error(
                        doc.root.span.start.line,
                        format!("select must give a list, got {}", v.get_type().name()),
                    ));
                    return;
                }
            },
        },
    };
    for element in elements {
        let element_span = span_of(element.as_ref()).unwrap_or(doc.root.span);
        let mut es = scope.new_inner_scope();
        es.add_variable_as_val("item", element.clone_as_boxed());
        if let Some(when) = &rule.when {
            match truth(when, &es) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    out.errors
                        .push(run_error(element_span.start.line, format!("when: {e}")));
                    continue;
                }
            }
        }
        tree::reset_unknown_read();
        let verdict = truth(&rule.assert, &es);
        let unknown = tree::unknown_read();
        match (verdict, unknown) {
            (Ok(true), _) => {}
            (Ok(false), None) => {
                let finding = build_finding(rule, doc, path, element.as_ref(), &mut es, out);
                out.findings.push(finding);
            }
            // The check read a value only known at deployment: say so instead of guessing.
            (Ok(false) | Err(_), Some(expr)) => {
                let mut finding = build_finding(rule, doc, path, element.as_ref(), &mut es, out);
                finding.severity = Severity::Info;
                finding.message = format!(
                    "cannot be judged before deployment: depends on `{expr}` ({})",
                    finding.message
                );
                out.findings.push(finding);
            }
            (Err(e), None) => out
                .errors
                .push(run_error(element_span.start.line, format!("assert: {e}"))),
        }
    }
}

/// The elements a `select` result stands for: a list's items, or a single map; null is none.
fn elements_of(v: &CowVal<'_, 'static>) -> Option<Vec<Box<dyn Val>>> {
    use cel::common::types::Kind as K;
    match v.get_type().kind() {
        K::List => {
            let mut items = Vec::new();
            let mut it = v.as_iterable()?.iter();
            while let Some(x) = it.next() {
                items.push(x.clone_as_boxed());
            }
            Some(items)
        }
        K::Map => Some(vec![v.clone_as_boxed()]),
        K::NullType => Some(Vec::new()),
        _ => None,
    }
}

fn describe(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!(
            "no such key '{k}' (guard optional fields with has(x.{k}) or x.?{k}.orValue(…))"
        ),
        other => other.to_string(),
    }
}

fn truth(expr: &Expr, ctx: &Context<'_, 'static>) -> Result<bool, String> {
    let v = CelValue::resolve_val(expr.program.expression(), ctx).map_err(|e| describe(&e))?;
    v.downcast_ref::<CelBool>()
        .map(|b| **b)
        .ok_or_else(|| format!("'{}' gave {}, not a bool", expr.source, v.get_type().name()))
}

/// The span of a map or list value from the document tree.
fn span_of(v: &dyn Val) -> Option<Span> {
    if let Some(m) = v.downcast_ref::<MapNode>() {
        return Some(m.span());
    }
    v.downcast_ref::<ListNode>().map(ListNode::span)
}

fn id_of(v: &dyn Val) -> Option<NodeId> {
    if let Some(m) = v.downcast_ref::<MapNode>() {
        return Some(m.id());
    }
    v.downcast_ref::<ListNode>().map(ListNode::id)
}

fn as_node(v: &dyn Val) -> Option<Node> {
    if let Some(m) = v.downcast_ref::<MapNode>() {
        return Some(Node::new(Value::Map(m.clone()), m.span()));
    }
    v.downcast_ref::<ListNode>()
        .map(|l| Node::new(Value::List(l.clone()), l.span()))
}

/// Where an element sits in its document: a path without line numbers, and its key.
pub fn element_path(root: &Node, target: NodeId) -> Option<(String, Option<String>)> {
    fn id(n: &Node) -> Option<NodeId> {
        match &n.value {
            Value::Map(m) => Some(m.id()),
            Value::List(l) => Some(l.id()),
            _ => None,
        }
    }
    // Iterative depth-first search: documents may be deep, and aliases may share subtrees.
    let mut stack: Vec<(&Node, String, Option<String>)> = vec![(root, String::new(), None)];
    let mut visited = 0usize;
    while let Some((node, path, key)) = stack.pop() {
        if id(node) == Some(target) {
            return Some((path, key));
        }
        visited += 1;
        if visited > 200_000 {
            return None;
        }
        match &node.value {
            Value::Map(m) => {
                for (k, e) in m.iter().rev() {
                    if e.value.as_map().is_none() && e.value.as_list().is_none() {
                        continue;
                    }
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    stack.push((&e.value, p, Some(k.to_string())));
                }
            }
            Value::List(l) => {
                for (i, item) in l.items().iter().enumerate().rev() {
                    if item.as_map().is_none() && item.as_list().is_none() {
                        continue;
                    }
                    let label = item
                        .get("name")
                        .or_else(|| item.get("id"))
                        .and_then(Node::as_str)
                        .map_or_else(|| i.to_string(), |n| format!("name={n}"));
                    stack.push((item, format!("{path}[{label}]"), Some(i.to_string())));
                }
            }
            _ => {}
        }
    }
    None
}

fn build_finding(
    rule: &Rule,
    doc: &Document,
    path: &str,
    element: &dyn Val,
    es: &mut Context<'_, 'static>,
    out: &mut Outcome,
) -> Finding {
    let (element_path, key) = id_of(element)
        .and_then(|id| element_path(&doc.root, id))
        .unwrap_or_default();
    let node = as_node(element).unwrap_or_else(|| doc.root.clone());
    let (span, at_text) = match &rule.at {
        Some(at) => (at.locate(&node).0, at.text.as_str()),
        None => (node.span, ""),
    };
    es.add_variable_as_val("key", Box::new(CelString::from(key.unwrap_or_default())));
    let message = render(rule, es, |e| {
        out.errors.push(RuleRunError {
            rule_id: rule.id.clone(),
            path: path.to_string(),
            line: span.start.line,
            message: format!("message: {e}"),
        })
    });
    let logical = [doc.name.as_str(), element_path.as_str(), at_text]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let shown_path = doc
        .files
        .get(span.file as usize)
        .map_or(path, String::as_str)
        .to_string();
    Finding {
        rule_id: rule.id.clone(),
        severity: rule.severity,
        controls: rule.controls.iter().map(|c| c.id.clone()).collect(),
        message,
        fingerprint: fingerprint(&rule.id, &shown_path, &logical),
        path: shown_path,
        start: span.start,
        end: span.end,
        logical_path: logical,
        element_line: node.span.start.line,
        suppression: None,
    }
}

fn render(rule: &Rule, ctx: &Context<'_, 'static>, mut on_error: impl FnMut(String)) -> String {
    let mut s = String::new();
    for part in &rule.message {
        match part {
            TemplatePart::Text(t) => s.push_str(t),
            TemplatePart::Expr(e) => match CelValue::resolve_val(e.program.expression(), ctx) {
                Ok(v) => s.push_str(&cel_env::display(v.as_ref())),
                Err(err) => {
                    s.push('?');
                    on_error(describe(&err));
                }
            },
        }
    }
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::parse_file;
    use crate::rules::RuleSourceFile;
    use std::path::Path;

    fn rules(text: &str) -> RuleSet {
        let set = RuleSet::load(vec![RuleSourceFile {
            path: "t/privileged.yaml".into(),
            text: text.into(),
            builtin: false,
        }]);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        set
    }

    const RULE: &str = r#"
title: Privileged
severity: high
kinds: [kubernetes]
controls: [{id: "8.2", relation: partial, rationale: root on the node}]
select: containers(doc)
assert: "!item.?securityContext.?privileged.orValue(false)"
at: securityContext.privileged
message: "container '{{ item.name }}' in {{ doc.kind }} runs privileged"
remediation: Remove it.
"#;

    const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: ok
      image: a
    - name: bad
      image: b
      securityContext:
        privileged: true
    - name: missing
      image: c
";

    fn run(rule_text: &str, doc_text: &str) -> Outcome {
        let set = rules(rule_text);
        let parsed = parse_file(Path::new("pod.yaml"), "pod.yaml", doc_text).unwrap();
        evaluate(&set, &parsed.documents[0], "pod.yaml", None)
    }

    #[test]
    fn finding_points_at_the_at_key() {
        let out = run(RULE, POD);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!((f.start.line, f.start.col), (12, 9));
        assert_eq!(f.message, "container 'bad' in Pod runs privileged");
        assert_eq!(f.controls, ["8.2"]);
        assert_eq!(
            f.logical_path,
            "Pod/web/spec.containers[name=bad]/securityContext.privileged"
        );
    }

    #[test]
    fn missing_at_key_points_at_the_element() {
        let rule = RULE
            .replace(
                "!item.?securityContext.?privileged.orValue(false)",
                "has(item.resources)",
            )
            .replace("securityContext.privileged", "resources.limits");
        let out = run(&rule, POD);
        let lines: Vec<u32> = out.findings.iter().map(|f| f.start.line).collect();
        assert_eq!(lines, [7, 9, 13]);
    }

    #[test]
    fn runtime_errors_are_reported_not_passed() {
        let rule = RULE.replace(
            "!item.?securityContext.?privileged.orValue(false)",
            "!item.securityContext.privileged",
        );
        let out = run(&rule, POD);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.errors.len(), 2);
        assert_eq!(out.errors[0].line, 7);
        assert!(
            out.errors[0]
                .message
                .contains("no such key 'securityContext'"),
            "{:?}",
            out.errors
        );
    }

    #[test]
    fn fingerprint_survives_inserted_lines() {
        let a = run(RULE, POD).findings.remove(0);
        let shifted = POD.replace("spec:\n", "spec:\n\n\n  # moved\n");
        let b = run(RULE, &shifted).findings.remove(0);
        assert_ne!(a.start.line, b.start.line);
        assert_eq!(a.fingerprint, b.fingerprint);
    }
}
