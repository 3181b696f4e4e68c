//! The location convention, checked on fixtures: a finding must not point at a parent node when
//! a closer node decides it (docs/rule-format.md, *Where findings point*).
//!
//! A finding "points at a parent" when the node at its position is a map or a list, and exactly
//! one of that node's children, taken away, makes the element pass while the rule still judges
//! as many elements as before: that child alone decides the verdict, so the finding belongs on
//! it (or deeper, repeating the test inside it). A missing setting is never found this way —
//! taking things away does not add what is missing — and a verdict that several children decide
//! together (an RBAC rule's verbs *and* resources) keeps pointing at their parent; nor does a
//! child written on the finding's own line count (a flow list `resources: ["*"]`).
//!
//! Dockerfiles are judged on their text: a finding on the first line of an instruction that
//! spans several lines is at a parent when exactly one of the other lines, blanked out, makes
//! the instruction pass (a `RUN` with continuations points at the line holding the command).

use std::path::Path;

use crate::doc::edit::Step;
use crate::doc::{Node, Pos, Positions, Value};
use crate::eval::{self, Outcome};
use crate::inputs::{self, Document, Kind, Source, Unit};
use crate::rules::path::Segment;
use crate::rules::RuleSet;

/// A finding that points at a parent node while a closer node decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtParent {
    /// Display path of the file the finding is in.
    pub path: String,
    /// The finding's line.
    pub line: u32,
    /// The line of the closest node that alone decides the verdict.
    pub closer: u32,
}

/// The documents of a fixture file as a scan reads them, with the unit's display path.
fn read(file: &Path, display: &str) -> Option<(Vec<Document>, String)> {
    let (input, unit) = inputs::claim(file)?;
    match unit {
        Unit::File => {
            let text = std::fs::read_to_string(file).ok()?;
            let read = input.read(&Source::File {
                path: file,
                display,
                text: &text,
            });
            Some((read.documents, display.to_string()))
        }
        Unit::Directory(dir) => {
            let shown = |p: &Path| crate::paths::display(p);
            let read = input.read(&Source::Directory {
                path: &dir,
                display: &shown,
                excludes: &globset::GlobSet::empty(),
            });
            Some((read.documents, crate::paths::display(&dir)))
        }
    }
}

/// What the rule at `index` judged and reported on `doc`.
struct Judgement {
    elements: usize,
    failed: usize,
    errors: usize,
    at: Vec<(String, Pos)>,
}

fn judge(rules: &RuleSet, index: usize, doc: &Document, unit: &str) -> Judgement {
    let out: Outcome = eval::evaluate_some(rules, doc, unit, None, false, |i| i == index);
    let judged = out
        .evaluated
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, j)| *j)
        .unwrap_or_default();
    Judgement {
        elements: judged.elements,
        failed: judged.failed,
        errors: out.errors.len(),
        at: out
            .findings
            .iter()
            .filter(|f| !f.unknown)
            .map(|f| (f.path.clone(), f.start))
            .collect(),
    }
}

impl Judgement {
    /// Whether `after` is `self` with the finding at `(path, pos)` gone and nothing else changed
    /// in what was judged.
    fn cleared_by(&self, after: &Judgement, path: &str, pos: Pos) -> bool {
        after.errors == 0
            && after.elements == self.elements
            && after.failed + 1 == self.failed
            && !after.at.iter().any(|(p, s)| p == path && *s == pos)
    }

    fn reports(&self, path: &str, pos: Pos) -> bool {
        self.at.iter().any(|(p, s)| p == path && *s == pos)
    }
}

/// Nodes of `node` (itself included) with the route to them and the position a finding at
/// them shows: a map member's key, a list item's first character, the root's start.
fn anchored<'a>(
    positions: &Positions,
    node: &'a Node,
    anchor: Pos,
    route: &mut Vec<Step>,
    out: &mut Vec<(Vec<Step>, Pos, &'a Node)>,
) {
    match &node.value {
        Value::Map(m) if !is_intrinsic(node) => {
            out.push((route.clone(), anchor, node));
            for (k, e) in m.iter() {
                route.push(Step::Key(k.to_string()));
                anchored(positions, &e.value, positions.start(e.key_span), route, out);
                route.pop();
            }
        }
        Value::List(l) => {
            out.push((route.clone(), anchor, node));
            for (i, item) in l.items().iter().enumerate() {
                route.push(Step::Index(i));
                anchored(positions, item, positions.start(item.span), route, out);
                route.pop();
            }
        }
        _ => out.push((route.clone(), anchor, node)),
    }
}

/// Whether a map is a CloudFormation intrinsic function (`{Ref: x}`, `{"Fn::GetAtt": …}`): one
/// value, however it is spelled.
fn is_intrinsic(node: &Node) -> bool {
    node.as_map().is_some_and(|m| {
        m.len() == 1
            && m.iter()
                .next()
                .is_some_and(|(k, _)| k == "Ref" || k.starts_with("Fn::"))
    })
}

/// Whether the rule's `at` ends, in one of its alternatives, with the key `key`.
fn at_ends_with(rules: &RuleSet, index: usize, key: &str) -> bool {
    rules.rules[index].at.as_ref().is_some_and(|at| {
        at.alternatives
            .iter()
            .any(|a| a.last() == Some(&Segment::Key(key.to_string())))
    })
}

/// The line of the one child of the container at `route` that alone decides the finding at
/// `pos`, descending while one child does; `None` when none or several do.
fn decider(
    rules: &RuleSet,
    index: usize,
    doc: &Document,
    unit: &str,
    base: &Judgement,
    (path, pos): (&str, Pos),
    route: &[Step],
) -> Option<Pos> {
    let node = doc.root.at_route(route)?;
    let mut deciding = None;
    for (step, at) in node.members() {
        let at = doc.positions.start(at);
        let mut r = route.to_vec();
        r.push(step);
        let mutant = Document {
            root: doc.root.without(&r),
            ..doc.clone()
        };
        if base.cleared_by(&judge(rules, index, &mutant, unit), path, pos) {
            if deciding.is_some() {
                return None;
            }
            deciding = Some((r, at));
        }
    }
    let (r, at) = deciding?;
    Some(decider(rules, index, doc, unit, base, (path, pos), &r).unwrap_or(at))
}

/// Findings of the rule at `index` in the fixture `file` (shown as `display`) that point at a
/// parent while a closer node decides them; `lines` are the positions the rule reported there.
pub fn at_parent(
    rules: &RuleSet,
    index: usize,
    file: &Path,
    display: &str,
    found: &[Pos],
) -> Vec<AtParent> {
    let Some((docs, unit)) = read(file, display) else {
        return Vec::new();
    };
    if docs.first().is_some_and(|d| d.kind == Kind::Dockerfile) {
        return dockerfile_at_parent(rules, index, file, display, found);
    }
    let mut out = Vec::new();
    for doc in &docs {
        if doc.kind == Kind::Repository {
            continue;
        }
        let base = judge(rules, index, doc, &unit);
        for &pos in found {
            if !base.reports(display, pos) {
                continue;
            }
            let mut all = Vec::new();
            let root = doc.positions.start(doc.root.span);
            anchored(&doc.positions, &doc.root, root, &mut Vec::new(), &mut all);
            let here: Vec<_> = all.iter().filter(|(_, anchor, _)| *anchor == pos).collect();
            // A finding at the key its `at` names, holding a scalar, is where it belongs.
            let at_scalar_key = here.iter().any(|(route, _, n)| {
                n.as_map().is_none()
                    && n.as_list().is_none()
                    && matches!(route.last(), Some(Step::Key(k)) if at_ends_with(rules, index, k))
            });
            if at_scalar_key {
                continue;
            }
            let closer = here
                .iter()
                .filter(|(_, _, n)| {
                    (n.as_map().is_some() && !is_intrinsic(n)) || n.as_list().is_some()
                })
                .find_map(|(route, _, _)| {
                    decider(rules, index, doc, &unit, &base, (display, pos), route)
                })
                .filter(|c| c.line != pos.line);
            if let Some(c) = closer {
                out.push(AtParent {
                    path: display.to_string(),
                    line: pos.line,
                    closer: c.line,
                });
            }
        }
    }
    out.sort_by_key(|a| (a.line, a.closer));
    out.dedup();
    out
}

/// The Dockerfile form of the check: each other line of a multi-line instruction blanked out
/// (the line before it losing its continuation when it is the last one).
fn dockerfile_at_parent(
    rules: &RuleSet,
    index: usize,
    file: &Path,
    display: &str,
    found: &[Pos],
) -> Vec<AtParent> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let judge_text = |t: &str| -> Option<Judgement> {
        let read = inputs::read_text(file, display, t);
        let doc = read.documents.first()?;
        Some(judge(rules, index, doc, display))
    };
    let Some(base) = judge_text(&text) else {
        return Vec::new();
    };
    let Some(doc) = inputs::read_text(file, display, &text)
        .documents
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    for &pos in found {
        let Some(end) = instruction_end(&doc.root, pos.line) else {
            continue;
        };
        if end <= pos.line || !base.reports(display, pos) {
            continue;
        }
        let mut deciding = Vec::new();
        for k in pos.line + 1..=end {
            let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let i = (k - 1) as usize;
            let Some(line) = edited.get_mut(i) else {
                continue;
            };
            line.clear();
            if k == end
                && let Some(prev) = edited.get_mut(i - 1)
            {
                *prev = prev.trim_end().trim_end_matches('\\').to_string();
            }
            if let Some(after) = judge_text(&edited.join("\n"))
                && base.cleared_by(&after, display, pos)
            {
                deciding.push(k);
            }
        }
        if let [k] = deciding[..] {
            out.push(AtParent {
                path: display.to_string(),
                line: pos.line,
                closer: k,
            });
        }
    }
    out
}

/// The last line of the instruction starting at `line`, from the document's `instructions`.
fn instruction_end(root: &Node, line: u32) -> Option<u32> {
    root.get("instructions")?
        .as_list()?
        .items()
        .iter()
        .find(|i| int(i.get("line")) == Some(line))
        .and_then(|i| int(i.get("end_line")))
}

fn int(n: Option<&Node>) -> Option<u32> {
    match &n?.value {
        Value::Int(i) => u32::try_from(**i).ok(),
        _ => None,
    }
}
