//! Evaluation: every rule of a document's kind over that document, yielding findings at the
//! exact span of the judged element (or of its `at` key), and rule errors that name the rule.

use std::collections::{HashMap, HashSet};

use cel::common::types::{CelBool, CelNull, CelString};
use cel::common::value::Val;
use cel::ExecutionError;

use crate::doc::edit::Step;
use crate::doc::reads::{self, Touched};
use crate::doc::{ChoiceNode, ListNode, MapBuilder, MapNode, Node, NodeId, Span, Value};
use crate::finding::{fingerprint, Finding};
use crate::inputs::Document;
use crate::rules::gate::Facts;
use crate::rules::{Engine, Expr, Rule, RuleSet, Severity, TemplatePart, Vars};

/// Hashing for the per-document tables (keys are rules' own text and node ids, not input an
/// attacker picks to collide).
type Hasher = foldhash::fast::FixedState;

/// Slots of [`crate::cel::VARIABLES`] in [`Vars`].
const DOC: usize = 0;
const ITEM: usize = 1;
const FILE: usize = 2;
const REPO: usize = 3;
const KEY: usize = 4;
const PATH: usize = 5;

/// What an expression sees: the values of its variables, and the engine that runs it.
#[derive(Clone, Copy)]
struct Scope<'b> {
    vars: Vars<'b>,
    engine: Engine,
}

impl<'b> Scope<'b> {
    /// This scope with the variable in `slot` bound to `value`.
    fn with<'c>(&self, slot: usize, value: &'c (dyn Val + 'static)) -> Scope<'c>
    where
        'b: 'c,
    {
        let mut vars: Vars<'c> = self.vars;
        vars[slot] = Some(value);
        Scope {
            vars,
            engine: self.engine,
        }
    }
}

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

/// What one rule judged on one or more documents: the three-valued verdicts it gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Judged {
    /// Documents of the rule's kinds it was evaluated on (also when nothing was in scope).
    pub documents: usize,
    /// Elements it judged: `passed + failed + unknown`.
    pub elements: usize,
    /// Elements that comply.
    pub passed: usize,
    /// Elements that do not comply (on at least one branch of a condition).
    pub failed: usize,
    /// Elements whose verdict depends on a value not known before deployment.
    pub unknown: usize,
}

impl Judged {
    /// Adds another count to this one.
    pub fn add(&mut self, other: &Judged) {
        self.documents += other.documents;
        self.elements += other.elements;
        self.passed += other.passed;
        self.failed += other.failed;
        self.unknown += other.unknown;
    }

    fn pass(&mut self) {
        self.elements += 1;
        self.passed += 1;
    }

    fn fail(&mut self) {
        self.elements += 1;
        self.failed += 1;
    }

    fn unknown(&mut self) {
        self.elements += 1;
        self.unknown += 1;
    }
}

pub use crate::rules::DEFAULT_MAX_CEL_COST;

/// One rule's run on one document, measured (with `RuleSet::profile`).
#[derive(Clone, Copy, Debug)]
pub struct RuleRun {
    /// The rule's index in the rule set.
    pub rule: usize,
    /// Time spent.
    pub time: std::time::Duration,
    /// Elements judged.
    pub elements: usize,
    /// The CEL cost it charged (`cel::cost`): what `--max-cel-cost` limits.
    pub cost: u64,
}

/// What evaluating one document produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, unsorted.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated.
    pub errors: Vec<RuleRunError>,
    /// The rules evaluated on the document (indices into the rule set), with what each judged.
    pub evaluated: Vec<(usize, Judged)>,
    /// How many of them were settled by their gate alone (nothing to judge, no CEL run).
    pub gated: usize,
    /// With `RuleSet::profile`: each rule run, measured.
    pub profile: Vec<RuleRun>,
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
    evaluate_with(rules, doc, path, repo, false)
}

/// [`evaluate`], for a document that may be *partial* (a patch, see
/// [`crate::inputs::Input::partial`]): then a failing element whose rule's `at` names a value
/// the element does not set is neither reported nor counted — the patch does not set it, the
/// object it patches decides.
pub fn evaluate_with(
    rules: &RuleSet,
    doc: &Document,
    path: &str,
    repo: Option<&MapNode>,
    partial: bool,
) -> Outcome {
    evaluate_some(rules, doc, path, repo, partial, |_| true)
}

/// Evaluates the applicable rules of `rules` whose index `keep` accepts on `doc` (rule tests
/// judge one rule on edited copies of a fixture this way); `partial` as in [`evaluate_with`].
pub fn evaluate_some(
    rules: &RuleSet,
    doc: &Document,
    path: &str,
    repo: Option<&MapNode>,
    partial: bool,
    keep: impl Fn(usize) -> bool,
) -> Outcome {
    let mut out = Outcome::default();
    let file = file_value(doc, path);
    let repo = repo.cloned().unwrap_or_else(empty_map);
    let mut index: Option<Placements<'_>> = None;
    // One scope per document holds what every rule sees; elements bind `item` on a copy.
    let mut vars: Vars<'_> = [None; 6];
    vars[DOC] = Some(doc.root.as_val());
    vars[FILE] = Some(&file);
    vars[REPO] = Some(&repo);
    let scope = Scope {
        vars,
        engine: rules.engine,
    };
    let facts = Facts::of(doc.root.as_map());
    // Rules that select with the same expression share its result (it sees only `doc`,
    // `file` and `repo`, the same for every rule).
    let mut selections: HashMap<&str, Selected, Hasher> = HashMap::default();
    for (i, rule) in rules.indexed_for_kind(doc.kind) {
        if !keep(i) || !rule.applies_to(doc.kind, path) {
            continue;
        }
        let mut judged = Judged {
            documents: 1,
            ..Judged::default()
        };
        if facts
            .as_ref()
            .is_some_and(|f| !rule.selection().gate.admits(f))
        {
            out.gated += 1;
            out.evaluated.push((i, judged));
            continue;
        }
        let started = rules.profile.then(std::time::Instant::now);
        // Each rule has its own budget on each document (a shared selection is charged to the
        // first rule that computes it).
        cel::cost::start(rules.max_cel_cost);
        match select(rule, doc, path, &scope, &mut selections, rules.max_cel_cost) {
            Ok(selected) => {
                if let Some(touched) = &selected.unknown {
                    judged.unknown();
                    out.findings
                        .push(unknown_scope_finding(rule, doc, path, touched));
                }
                let ctx = Judging {
                    rule,
                    doc,
                    path,
                    scope: &scope,
                    partial,
                    max_cost: rules.max_cel_cost,
                };
                ctx.judge(&mut index, &selected.elements, &mut out, &mut judged);
            }
            Err(e) => out.errors.push(e),
        }
        if let Some(started) = started {
            out.profile.push(RuleRun {
                rule: i,
                time: started.elapsed(),
                elements: judged.elements,
                cost: cel::cost::spent(),
            });
        }
        out.evaluated.push((i, judged));
    }
    cel::cost::stop();
    out
}

/// The rule error of a rule that passed its CEL cost budget on a document: it judged nothing
/// more there (what it found before stands).
fn over_budget(rule: &Rule, doc: &Document, path: &str, span: Span, limit: u64) -> RuleRunError {
    let message = format!(
        "rule '{}' exceeded the CEL cost budget on this document (cost {} > {limit}; --max-cel-cost): not judged further here",
        rule.id,
        cel::cost::spent()
    );
    run_error(rule, doc, path, span, message)
}

fn run_error(rule: &Rule, doc: &Document, path: &str, span: Span, message: String) -> RuleRunError {
    RuleRunError {
        rule_id: rule.id.clone(),
        path: doc.file_of(span).unwrap_or(path).to_string(),
        line: doc.positions.start(span).line,
        message,
    }
}

/// What an expression gave, as far as the input can tell before deployment.
enum Three<T> {
    /// A value that does not depend on anything unknown.
    Known(T),
    /// The value depends on this unknown.
    Unknown(Touched),
    /// Evaluation failed for another reason (a rule bug).
    Error(String),
}

/// Forced branches of conditional nodes, with the nodes (for messages).
type Forced = Vec<(ChoiceNode, usize)>;

/// Evaluates `expr` with the conditional nodes of `forced` on their branch: leniently first,
/// and, when that read an unknown value, again in strict reading, where the unknown fails every
/// operation that it decides. Returns the conditional nodes it met that were not forced.
fn evaluate_expr<T>(
    expr: &Expr,
    scope: &Scope<'_>,
    forced: &Forced,
    convert: impl Fn(&(dyn Val + 'static)) -> Result<T, String>,
) -> (Three<T>, Vec<ChoiceNode>) {
    let ids: Vec<(reads::ChoiceId, usize)> = forced.iter().map(|(c, b)| (c.id(), *b)).collect();
    let run = |strict: bool| {
        expr.evaluate(&scope.vars, strict, scope.engine, |r| {
            r.map_err(|e| describe(&e)).and_then(&convert)
        })
    };
    reads::begin(false, &ids);
    let lenient = run(false);
    let first = reads::finish();
    let mut met = first.choices;
    let Some(touched) = first.unknown else {
        return match lenient {
            Ok(v) => (Three::Known(v), met),
            Err(e) => (Three::Error(e), met),
        };
    };
    reads::begin(true, &ids);
    let strict = run(true);
    let second = reads::finish();
    for c in second.choices {
        if !met.iter().any(|m| m.id() == c.id()) {
            met.push(c);
        }
    }
    let three = match strict {
        Ok(v) => Three::Known(v),
        Err(_) if second.unresolved => Three::Unknown(second.unknown.unwrap_or(touched)),
        Err(e) => Three::Error(e),
    };
    (three, met)
}

/// Most branch combinations of conditional nodes judged for one element.
const MAX_PATHS: usize = 64;

/// One combination of branches and what it gave.
struct Path<T> {
    /// The branch taken by every conditional node met.
    branches: Forced,
    /// The result.
    result: T,
}

/// The paths of one evaluation; most have one, held without allocating.
type Paths<T> = smallvec::SmallVec<[Path<T>; 1]>;

/// Runs `eval` on every combination of branches of the conditional nodes it meets (each
/// combination once: a run that meets a new node also schedules the runs where it takes its
/// other branch). `None` when there are more than [`MAX_PATHS`] combinations.
fn explore<T>(mut eval: impl FnMut(&Forced) -> (T, Vec<ChoiceNode>)) -> Option<Paths<T>> {
    // Most evaluations meet no conditional node: one run, one path, not allocated.
    let (result, met) = eval(&Vec::new());
    if met.is_empty() {
        return Some(smallvec::smallvec![Path {
            branches: Vec::new(),
            result,
        }]);
    }
    let mut done = Paths::new();
    let mut pending: Vec<Forced> = vec![Vec::new()];
    let mut first = Some((result, met)); // the run with nothing forced, done above
    while let Some(forced) = pending.pop() {
        if done.len() == MAX_PATHS {
            return None;
        }
        let (result, met) = match first.take() {
            Some(first) => first,
            None => eval(&forced),
        };
        for (i, choice) in met.iter().enumerate() {
            let mut other = forced.clone();
            other.extend(met[..i].iter().map(|c| (c.clone(), 0)));
            other.push((choice.clone(), 1));
            pending.push(other);
        }
        let mut branches = forced;
        branches.extend(met.into_iter().map(|c| (c, 0)));
        done.push(Path { branches, result });
    }
    Some(done)
}

/// One element a rule judges: a map or list of the document held by its handle (no box of its
/// own: a selection of thousands of resources is one vector), or any other CEL value.
enum Element {
    Map(MapNode),
    List(ListNode),
    Other(Box<dyn Val>),
}

impl Element {
    fn of(v: &(dyn Val + 'static)) -> Element {
        if let Some(m) = v.downcast_ref::<MapNode>() {
            return Element::Map(m.clone());
        }
        match v.downcast_ref::<ListNode>() {
            Some(l) => Element::List(l.clone()),
            None => Element::Other(v.clone_as_boxed()),
        }
    }

    fn as_val(&self) -> &(dyn Val + 'static) {
        match self {
            Element::Map(m) => m,
            Element::List(l) => l,
            Element::Other(v) => v.as_ref(),
        }
    }
}

/// The elements a rule judges, and whether choosing them depended on an unknown value.
struct Selected {
    elements: Vec<Element>,
    unknown: Option<Touched>,
}

/// The elements `rule` judges: its `select` result (computed once per expression and
/// document, on every branch of the conditions it meets), or the document itself.
fn select<'r, 'm>(
    rule: &'r Rule,
    doc: &Document,
    path: &str,
    scope: &Scope<'_>,
    selections: &'m mut HashMap<&'r str, Selected, Hasher>,
    max_cost: u64,
) -> Result<&'m Selected, RuleRunError> {
    let Some(expr) = &rule.selection().select else {
        let whole = selections.entry("").or_insert_with(|| Selected {
            elements: vec![Element::of(doc.root.as_val())],
            unknown: None,
        });
        return Ok(whole);
    };
    if !selections.contains_key(expr.source.as_str()) {
        let as_elements = |v: &(dyn Val + 'static)| {
            elements_of(v)
                .ok_or_else(|| format!("select must give a list, got {}", v.get_type().name()))
        };
        let paths = explore(|forced| evaluate_expr(expr, scope, forced, as_elements));
        if cel::cost::exceeded() {
            return Err(over_budget(rule, doc, path, doc.root.span, max_cost));
        }
        let mut selected = Selected {
            elements: Vec::new(),
            unknown: None,
        };
        let Some(paths) = paths else {
            let message = format!("select: more than {MAX_PATHS} combinations of conditions");
            return Err(run_error(rule, doc, path, doc.root.span, message));
        };
        let mut seen: HashSet<NodeId, Hasher> = HashSet::default();
        let mut add = |e: Element| {
            if id_of(e.as_val()).is_none_or(|id| seen.insert(id)) {
                selected.elements.push(e);
            }
        };
        for p in paths {
            match p.result {
                Three::Known(elements) => elements.into_iter().for_each(&mut add),
                Three::Unknown(t) => {
                    selected.unknown.get_or_insert(t);
                    // Judge what the lenient reading selects; the unknown is reported apart.
                    lenient_elements(expr, scope, &p.branches)
                        .into_iter()
                        .for_each(&mut add);
                }
                Three::Error(e) => {
                    let message = if e.starts_with("select must") {
                        e
                    } else {
                        format!("select: {e}")
                    };
                    return Err(run_error(rule, doc, path, doc.root.span, message));
                }
            }
        }
        selected.elements.shrink_to_fit();
        if cel::cost::exceeded() {
            return Err(over_budget(rule, doc, path, doc.root.span, max_cost));
        }
        selections.insert(expr.source.as_str(), selected);
    }
    Ok(&selections[expr.source.as_str()])
}

/// The elements `expr` selects when unknown values read as their source text.
fn lenient_elements(expr: &Expr, scope: &Scope<'_>, branches: &Forced) -> Vec<Element> {
    let ids: Vec<(reads::ChoiceId, usize)> = branches.iter().map(|(c, b)| (c.id(), *b)).collect();
    reads::begin(false, &ids);
    let elements = expr
        .evaluate(&scope.vars, false, scope.engine, |r| {
            r.ok().and_then(elements_of)
        })
        .unwrap_or_default();
    reads::finish();
    elements
}

/// The verdict on one element under one combination of branches.
enum Verdict {
    /// `when` is false: the element is not in scope.
    Skip,
    /// `assert` is true.
    Pass,
    /// `assert` is false.
    Fail,
    /// `when` or `assert` depends on a value not known before deployment.
    Unknown(Touched),
    /// `when` or `assert` could not be evaluated.
    Error(String),
}

fn as_bool(v: &(dyn Val + 'static)) -> Result<bool, String> {
    v.downcast_ref::<CelBool>()
        .map(|b| **b)
        .ok_or_else(|| format!("gave {}, not a bool", v.get_type().name()))
}

/// One rule judging the elements of one document.
struct Judging<'a, 's> {
    rule: &'a Rule,
    doc: &'a Document,
    path: &'a str,
    scope: &'a Scope<'s>,
    /// The document is a patch: judge only the values it sets.
    partial: bool,
    /// The rule's CEL cost budget on the document.
    max_cost: u64,
}

impl<'a> Judging<'a, '_> {
    /// Judges each element with `when` and `assert` on every branch of the conditions they
    /// meet, recording findings, errors and counts.
    fn judge(
        &self,
        index: &mut Option<Placements<'a>>,
        elements: &[Element],
        out: &mut Outcome,
        judged: &mut Judged,
    ) {
        if elements.is_empty() {
            return; // nothing to judge: built-in rules need not even compile their `assert`
        }
        for element in elements {
            let before = (out.findings.len(), out.errors.len(), *judged);
            self.judge_one(index, element.as_val(), out, judged);
            if cel::cost::exceeded() {
                // Past the budget nothing this element gave can be trusted: one error instead.
                out.findings.truncate(before.0);
                out.errors.truncate(before.1);
                *judged = before.2;
                let span = span_of(element.as_val()).unwrap_or(self.doc.root.span);
                let (rule, doc, path) = (self.rule, self.doc, self.path);
                out.errors
                    .push(over_budget(rule, doc, path, span, self.max_cost));
                return;
            }
        }
    }

    /// Judges one element (see [`Judging::judge`]).
    fn judge_one(
        &self,
        index: &mut Option<Placements<'a>>,
        element: &(dyn Val + 'static),
        out: &mut Outcome,
        judged: &mut Judged,
    ) {
        let (rule, doc, path) = (self.rule, self.doc, self.path);
        let when = rule.selection().when.as_ref();
        let verdict = rule.verdict();
        let element_span = span_of(element).unwrap_or(doc.root.span);
        let key;
        let mut es = self.scope.with(ITEM, element);
        // The element's key costs a document index; most checks never read it.
        if verdict.uses_key {
            key = key_value(index, doc, element);
            es = es.with(KEY, &key);
        }
        let paths = explore(|forced| {
            let mut met = Vec::new();
            let admitted = match when {
                None => Three::Known(true),
                Some(w) => {
                    let (t, m) = evaluate_expr(w, &es, forced, as_bool);
                    met = m;
                    t
                }
            };
            let v = match admitted {
                Three::Known(false) => Verdict::Skip,
                Three::Unknown(t) => Verdict::Unknown(t),
                Three::Error(e) => Verdict::Error(format!("when: {e}")),
                Three::Known(true) => {
                    let (t, m) = evaluate_expr(&verdict.assert, &es, forced, as_bool);
                    for c in m {
                        if !met.iter().any(|x| x.id() == c.id()) {
                            met.push(c);
                        }
                    }
                    match t {
                        Three::Known(true) => Verdict::Pass,
                        Three::Known(false) => Verdict::Fail,
                        Three::Unknown(t) => Verdict::Unknown(t),
                        Three::Error(e) => Verdict::Error(format!("assert: {e}")),
                    }
                }
            };
            (v, met)
        });
        let Some(paths) = paths else {
            let message = format!("more than {MAX_PATHS} combinations of conditions");
            out.errors
                .push(run_error(rule, doc, path, element_span, message));
            return;
        };
        let failing = paths.iter().find(|p| matches!(p.result, Verdict::Fail));
        if failing.is_some() && self.partial && !self.sets_at(element) {
            return; // a "missing …" finding on a patch: the patched object decides
        }
        if let Some(p) = failing {
            judged.fail();
            let everywhere = paths.iter().all(|q| matches!(q.result, Verdict::Fail));
            let mut f = self.finding(index, element, &es, &p.branches, out);
            if !everywhere {
                f.message = format!("{} (may apply: {})", f.message, conditions(&p.branches));
            }
            out.findings.push(f);
            return;
        }
        if let Some(e) = paths.iter().find_map(|p| match &p.result {
            Verdict::Error(e) => Some(e),
            _ => None,
        }) {
            out.errors
                .push(run_error(rule, doc, path, element_span, e.clone()));
            return;
        }
        if let Some(t) = paths.iter().find_map(|p| match &p.result {
            Verdict::Unknown(t) => Some(t),
            _ => None,
        }) {
            judged.unknown();
            let f = self.unknown_finding(index, element, &es, t, out);
            out.findings.push(f);
            return;
        }
        if paths.iter().any(|p| matches!(p.result, Verdict::Pass)) {
            judged.pass();
        }
    }

    /// Whether the element sets the value the rule's `at` names (true for rules without `at`:
    /// they judge the element itself).
    fn sets_at(&self, element: &dyn Val) -> bool {
        match (&self.rule.at, as_node(element)) {
            (Some(at), Some(node)) => at.resolves(&node),
            _ => true,
        }
    }

    fn finding(
        &self,
        index: &mut Option<Placements<'a>>,
        element: &dyn Val,
        es: &Scope<'_>,
        branches: &Forced,
        out: &mut Outcome,
    ) -> Finding {
        build_finding(
            index, self.rule, self.doc, self.path, element, es, branches, out,
        )
    }

    /// The `info` finding for an element whose verdict depends on an unknown value: at the
    /// unknown value when its place is known, saying what it is.
    fn unknown_finding(
        &self,
        index: &mut Option<Placements<'a>>,
        element: &dyn Val,
        es: &Scope<'_>,
        touched: &Touched,
        out: &mut Outcome,
    ) -> Finding {
        let mut f = self.finding(index, element, es, &Vec::new(), out);
        f.severity = Severity::Info;
        f.unknown = true;
        f.message = format!(
            "cannot be judged before deployment: depends on `{}`, which is not known until then ({})",
            one_line(&touched.text),
            f.message
        );
        relocate_unknown(&mut f, self.doc, self.path, touched);
        f
    }
}

/// `IsProd is false and var.public is true`, for a finding that holds on some branches only.
fn conditions(branches: &Forced) -> String {
    branches
        .iter()
        .map(|(c, b)| {
            let value = if *b == 0 { "true" } else { "false" };
            format!("when `{}` is {value}", one_line(c.condition()))
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A source text shortened to one line of reasonable length, for messages.
fn one_line(text: &str) -> String {
    let folded = fold_whitespace(text);
    if folded.chars().count() > 80 {
        let cut: String = folded.chars().take(77).collect();
        format!("{cut}…")
    } else {
        folded
    }
}

/// Points an unknown's finding at the unknown value itself, and gives it a fingerprint of its
/// own (an unknown that later fails must not be hidden by a baseline of the unknown).
fn relocate_unknown(f: &mut Finding, doc: &Document, path: &str, touched: &Touched) {
    let start = doc.positions.start(touched.span);
    if start.line > 0 {
        f.path = doc.file_of(touched.span).unwrap_or(path).to_string();
        f.start = start;
        f.end = doc.positions.end(touched.span);
    }
    f.logical_path.push_str("#unknown");
    f.fingerprint = fingerprint(&f.rule_id, &f.path, &f.logical_path);
}

/// The `info` finding for a rule whose choice of elements depends on an unknown value.
fn unknown_scope_finding(rule: &Rule, doc: &Document, path: &str, touched: &Touched) -> Finding {
    let mut f = Finding {
        rule_id: rule.id.clone(),
        severity: Severity::Info,
        controls: rule.control_ids.clone(),
        message: format!(
            "cannot be judged before deployment: what '{}' checks here depends on `{}`, which is not known until then",
            rule.title,
            one_line(&touched.text)
        ),
        fingerprint: String::new(),
        path: path.to_string(),
        start: doc.positions.start(doc.root.span),
        end: doc.positions.end(doc.root.span),
        logical_path: [doc.name.as_str(), "select"]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/"),
        element_line: doc.positions.start(doc.root.span).line,
        unknown: true,
        suppression: None,
        related: Vec::new(),
    };
    relocate_unknown(&mut f, doc, path, touched);
    f.element_line = f.start.line;
    f
}

/// The elements a `select` result stands for: a list's items, or a single map; null is none.
fn elements_of(v: &(dyn Val + 'static)) -> Option<Vec<Element>> {
    use cel::common::types::Kind as K;
    match v.get_type().kind() {
        K::List => {
            let mut items = Vec::new();
            let mut it = v.as_iterable()?.iter();
            while let Some(x) = it.next() {
                items.push(Element::of(x));
            }
            Some(items)
        }
        K::Map => Some(vec![Element::of(v)]),
        K::NullType => Some(Vec::new()),
        // An unresolved value (strict reading) is no list: the selection depends on it.
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

/// How a map or list hangs from its parent.
#[derive(Clone, Copy, Debug)]
enum Edge<'a> {
    /// The document root.
    Root,
    /// Under a map key: the map and the member's position.
    Key(&'a MapNode, u32),
    /// An item of a list: the list and the item's position.
    Item(&'a ListNode, u32),
}

/// Where every map and list of a document hangs, built once per document: one entry per
/// container, naming its parent and its position there (keys and spans are read from the
/// parent when needed), paths spelled out only for findings. The entries are a vector sorted by
/// container, allocated to their exact number (a hash table of them was twice the size, and
/// twice that again while it grew).
pub struct Placements<'a> {
    edges: Vec<(NodeId, Edge<'a>)>,
}

fn container_id(n: &Node) -> Option<NodeId> {
    match &n.value {
        Value::Map(m) => Some(m.id()),
        Value::List(l) => Some(l.id()),
        _ => None,
    }
}

/// Calls `visit` with every map and list under `root` (itself included) and how it hangs from
/// its parent and whether other handles share it (an alias, a selection holding it), in a
/// depth-first walk (iterative: documents may be deep and large); `visit` says whether to walk
/// into it.
fn walk<'a>(root: &'a Node, mut visit: impl FnMut(NodeId, Edge<'a>, bool) -> bool) {
    let mut stack: Vec<(&'a Node, Edge<'a>)> = vec![(root, Edge::Root)];
    while let Some((node, edge)) = stack.pop() {
        let (me, shared) = match &node.value {
            Value::Map(m) => (m.id(), m.is_shared()),
            Value::List(l) => (l.id(), l.is_shared()),
            _ => continue,
        };
        if !visit(me, edge, shared) {
            continue;
        }
        match &node.value {
            Value::Map(m) => {
                for (i, (_, e)) in m.iter().enumerate() {
                    if container_id(&e.value).is_some() {
                        stack.push((&e.value, Edge::Key(m, i as u32)));
                    }
                }
            }
            Value::List(l) => {
                for (i, item) in l.items().iter().enumerate() {
                    if container_id(item).is_some() {
                        stack.push((item, Edge::Item(l, i as u32)));
                    }
                }
            }
            _ => {}
        }
    }
}

impl<'a> Placements<'a> {
    /// Indexes `root`: one walk counts the containers, a second records them, then they are
    /// sorted by identity. A container shared through an alias keeps the first place the walk
    /// meets, and its subtree is walked once.
    pub fn of(root: &'a Node) -> Placements<'a> {
        // Only a container with other handles can be met twice: those are remembered.
        let mut met: HashSet<NodeId, Hasher> = HashSet::default();
        let mut count = 0usize;
        walk(root, |id, _, shared| {
            let first = !shared || met.insert(id);
            count += usize::from(first);
            first
        });
        let mut edges: Vec<(NodeId, Edge<'a>)> = Vec::with_capacity(count);
        met.clear();
        walk(root, |id, edge, shared| {
            let first = !shared || met.insert(id);
            if first {
                edges.push((id, edge));
            }
            first
        });
        edges.sort_unstable_by_key(|(id, _)| *id);
        Placements { edges }
    }

    fn edge(&self, id: NodeId) -> Option<&Edge<'a>> {
        let i = self.edges.binary_search_by_key(&id, |(k, _)| *k).ok()?;
        Some(&self.edges[i].1)
    }

    /// The element's key in its parent map, or its index in its parent list.
    pub fn key(&self, id: NodeId) -> Option<String> {
        match self.edge(id)? {
            Edge::Root => None,
            Edge::Key(m, i) => m.member(*i as usize).map(|(k, _)| k.to_string()),
            Edge::Item(_, i) => Some(i.to_string()),
        }
    }

    /// The span of the element's key, when its parent is a map.
    pub fn key_span(&self, id: NodeId) -> Option<Span> {
        match self.edge(id)? {
            Edge::Key(m, i) => m.member(*i as usize).map(|(_, e)| e.key_span),
            _ => None,
        }
    }

    /// A path without line numbers, e.g. `spec.containers[name=web]`.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut cur = id;
        for _ in 0..10_000 {
            match self.edge(cur) {
                Some(Edge::Key(parent, j)) => {
                    let k = parent.member(*j as usize).map_or("", |(k, _)| k);
                    parts.push(format!(".{k}"));
                    cur = parent.id();
                }
                Some(Edge::Item(parent, i)) => {
                    let item = &parent.items()[*i as usize];
                    let label = item
                        .get("name")
                        .or_else(|| item.get("id"))
                        .and_then(Node::as_str)
                        .map_or_else(|| i.to_string(), |n| format!("name={n}"));
                    parts.push(format!("[{label}]"));
                    cur = parent.id();
                }
                Some(Edge::Root) | None => break,
            }
        }
        parts.reverse();
        let joined = parts.concat();
        joined.strip_prefix('.').unwrap_or(&joined).to_string()
    }
}

/// The value of `key`: the element's key in its parent map (or index in its parent list).
fn key_value<'a>(
    index: &mut Option<Placements<'a>>,
    doc: &'a Document,
    element: &dyn Val,
) -> CelString<'static> {
    let index = index.get_or_insert_with(|| Placements::of(&doc.root));
    let key = id_of(element).and_then(|id| index.key(id));
    CelString::from(key.unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
fn build_finding<'a>(
    index: &mut Option<Placements<'a>>,
    rule: &Rule,
    doc: &'a Document,
    path: &str,
    element: &dyn Val,
    es: &Scope<'_>,
    branches: &Forced,
    out: &mut Outcome,
) -> Finding {
    let key;
    let mut ms = *es;
    if !rule.verdict().uses_key {
        key = key_value(index, doc, element);
        ms = ms.with(KEY, &key);
    }
    let index = index.get_or_insert_with(|| Placements::of(&doc.root));
    let id = id_of(element);
    let element_path = id.map(|id| index.path(id)).unwrap_or_default();
    let node = as_node(element).unwrap_or_else(|| doc.root.clone());
    // A map under a key (a service, a resource, a job) is shown at its key's line.
    let element_span = id.and_then(|id| index.key_span(id)).unwrap_or(node.span);
    let (span, at_text) = match &rule.at {
        Some(at) => {
            let mut decide = |route: &[Step], container: &Node| {
                deciding_member(rule, es, branches, &node, route, container)
            };
            match at.locate_with(&node, &mut decide) {
                (_, 0) => (element_span, at.text.as_str()),
                (found, _) => (found, at.text.as_str()),
            }
        }
        None => (element_span, ""),
    };
    let path_value = CelString::from(element_path.clone());
    let ms = ms.with(PATH, &path_value);
    // The message reads the branches the failing check took.
    let ids: Vec<(reads::ChoiceId, usize)> = branches.iter().map(|(c, b)| (c.id(), *b)).collect();
    reads::begin(false, &ids);
    let message = render(rule, &ms, |e| {
        out.errors.push(RuleRunError {
            rule_id: rule.id.clone(),
            path: path.to_string(),
            line: doc.positions.start(span).line,
            message: format!("message: {e}"),
        });
    });
    reads::finish();
    let logical = [doc.name.as_str(), element_path.as_str(), at_text]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let shown_path = doc.file_of(span).unwrap_or(path).to_string();
    Finding {
        rule_id: rule.id.clone(),
        severity: rule.severity,
        controls: rule.control_ids.clone(),
        message,
        fingerprint: fingerprint(&rule.id, &shown_path, &logical),
        path: shown_path,
        start: doc.positions.start(span),
        end: doc.positions.end(span),
        logical_path: logical,
        element_line: doc.positions.start(element_span).line,
        unknown: false,
        suppression: None,
        related: Vec::new(),
    }
}

/// What `item` gives on the branches of a failing check: `Some(true)` when it is in scope and
/// complies, `Some(false)` when in scope and failing, `None` otherwise (out of scope, unknown,
/// an error).
fn verdict_on(rule: &Rule, es: &Scope<'_>, forced: &Forced, item: &Node) -> Option<bool> {
    let mut s = es.with(ITEM, item.as_val());
    // Without `select` the element is the document, which rules read as `doc` too.
    if rule.selection().select.is_none() {
        s = s.with(DOC, item.as_val());
    }
    if let Some(w) = &rule.selection().when
        && !matches!(evaluate_expr(w, &s, forced, as_bool).0, Three::Known(true))
    {
        return None;
    }
    match evaluate_expr(&rule.verdict().assert, &s, forced, as_bool).0 {
        Three::Known(v) => Some(v),
        _ => None,
    }
}

/// The member of `container` (at `route` inside the failing `element`) that decides the
/// verdict, for a `*` step of `at`: the one member whose removal makes the element comply; else,
/// when several members each fail on their own and removing them all makes it comply, the first
/// of them. `None` when no member decides alone (a missing setting, members that fail together).
fn deciding_member(
    rule: &Rule,
    es: &Scope<'_>,
    forced: &Forced,
    element: &Node,
    route: &[Step],
    container: &Node,
) -> Option<(Step, Span)> {
    let members = container.members();
    let complies = |n: &Node| verdict_on(rule, es, forced, n) == Some(true);
    let mut clearing = members.iter().filter(|(step, _)| {
        let mut r = route.to_vec();
        r.push(step.clone());
        complies(&element.without(&r))
    });
    if let Some(one) = clearing.next()
        && clearing.next().is_none()
    {
        return Some(one.clone());
    }
    let offenders: Vec<&(Step, Span)> = members
        .iter()
        .filter(|(step, _)| {
            let alone = element.keeping(route, &|t| t == step);
            verdict_on(rule, es, forced, &alone) == Some(false)
        })
        .collect();
    let rest = element.keeping(route, &|t| !offenders.iter().any(|(o, _)| o == t));
    match offenders.first() {
        Some(first) if complies(&rest) => Some((*first).clone()),
        _ => None,
    }
}

/// What a message shows for a `{{ }}` hole whose value is missing: no such key, a null value,
/// or a field of a null value (`container '?' runs privileged`).
pub const MISSING_VALUE: &str = "?";

/// Whether an error only says that the value is not there.
fn is_missing(e: &ExecutionError) -> bool {
    match e {
        ExecutionError::NoSuchKey(_) => true,
        ExecutionError::NoSuchOverload(o) => {
            o.function() == "_._" && o.argument_types().first().is_some_and(|t| t == "null_type")
        }
        _ => false,
    }
}

/// The message of a finding: text and `{{ }}` holes, a missing value shown as
/// [`MISSING_VALUE`]; any other failure of a hole is passed to `on_error` (a rule error).
fn render(rule: &Rule, scope: &Scope<'_>, mut on_error: impl FnMut(String)) -> String {
    let mut s = String::new();
    for part in &rule.verdict().message {
        match part {
            TemplatePart::Text(t) => s.push_str(t),
            TemplatePart::Expr(e) => e.evaluate(&scope.vars, false, scope.engine, |r| match r {
                Ok(v) if v.downcast_ref::<CelNull>().is_some() => s.push_str(MISSING_VALUE),
                Ok(v) => s.push_str(&crate::cel::display(v)),
                Err(err) if is_missing(&err) => s.push_str(MISSING_VALUE),
                Err(err) => {
                    s.push('?');
                    on_error(describe(&err));
                }
            }),
        }
    }
    // Messages are one line: folded YAML and multi-line CEL results must not break reports.
    fold_whitespace(&s)
}

/// `text` with each run of whitespace made one space, and none at either end.
fn fold_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn the_slots_are_the_variables_in_their_order() {
        // Compiled programs read `crate::cel::VARIABLES[i]` from slot `i` of `Vars`.
        let slots = [
            (DOC, "doc"),
            (ITEM, "item"),
            (FILE, "file"),
            (REPO, "repo"),
            (KEY, "key"),
            (PATH, "path"),
        ];
        assert_eq!(slots.len(), crate::cel::VARIABLES.len());
        for (slot, name) in slots {
            assert_eq!(crate::cel::VARIABLES[slot], name);
        }
    }

    fn run(rule_text: &str, doc_text: &str) -> Outcome {
        let set = rules(rule_text);
        let parsed = crate::inputs::read_text(Path::new("pod.yaml"), "pod.yaml", doc_text);
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
        assert_eq!(*f.controls, ["8.2"]);
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
