//! Built-in rules never fail at run time on valid input. Every fixture of every built-in rule is
//! mutated, one change at a time, and the built-in rules of the document's kind judge each
//! mutant: findings and "cannot be judged" results are fine, a rule error is not.
//!
//! How each format is mutated (valid but odd inputs, the kind a real repository holds):
//! - **YAML and JSON** (Kubernetes, Compose, workflows, actions, CloudFormation, Terraform plans):
//!   the parsed tree is edited and written back as block-style YAML, or strict JSON for `.json`
//!   files, then parsed again the way a scan parses it. Each document of a multi-document file
//!   is mutated on its own. For every node: delete it (map member or list item), rename its key
//!   to an odd string (`##X##`, empty, unicode or 1000 characters), set it to null, to a value
//!   of each other type (string ↔ number ↔ bool, scalar → list or map, map / list → scalar,
//!   empty), strings to the empty string and an odd one (`##X##`, unicode or 4 KiB), booleans
//!   to two YAML 1.1 spellings (of `yes`, `On`, `Y`, `yEs`, `no`, `OFF`, `n`, `oFf`, written as
//!   plain scalars; YAML only) and to their negation.
//! - **Terraform** (a fixture directory is one module): each `.tf` and `.tfvars` file is edited
//!   as text at the byte ranges the HCL parser gives, so every mutant stays valid HCL: delete
//!   each attribute and nested block, empty each block, replace each attribute value (and each
//!   value inside object and tuple literals) by null, other types, odd strings, an unresolved
//!   reference or a function call.
//! - **Dockerfiles**: each instruction (continuations and heredocs included) is deleted, loses
//!   its arguments or flags, gets a lowercase keyword, or odd arguments (`##X##`, unicode, long,
//!   unset variables, empty and odd exec forms, and per instruction e.g. `FROM scratch`,
//!   `USER 0`, `EXPOSE 99999/udp`). A mutant the Dockerfile reader refuses is a `parse-error`
//!   finding, not a rule error; those are counted and skipped.
//!
//! Bounded, deterministic coverage (every fixture, every node: ~135,000 mutants, too many for a
//! debug build; ~18,600 are judged, about 50 CPU-seconds in a debug build):
//! - **Each kind of change once.** Fixtures repeat the same fields: a mutation is made at the
//!   first place, in path order, where its *class* occurs: document kind, the path in terms
//!   that recur (list indices left out, a Kubernetes workload's pod spec as `POD`, a
//!   CloudFormation resource by its `Type`, Compose services, workflow jobs and Terraform
//!   resources by type, not name), the original value's type, and the change.
//! - **One alternative per family.** Where a change has variants (which odd string, list or
//!   map, which YAML 1.1 spelling), one is chosen per place by a stable hash of the place, so
//!   every variant is used across the fixtures.
//!
//! Each mutant is judged by every built-in rule of its kind, as a scan would (one rule set, so
//! rules share their `select` results).
//!
//! Every YAML, JSON, Terraform and Dockerfile fixture file is read; repository-level rules, which read the scanned tree rather than a file, are not mutated.
//! Mutants are evaluated in-process, without discovery, in parallel; failures are sorted, so
//! the report is deterministic. A YAML, JSON or HCL mutant that does not parse again is a bug of
//! this test and fails it.

mod common;
#[path = "mutations/dockerfile.rs"]
mod dockerfile;
#[path = "mutations/hcl.rs"]
mod hcl;
#[path = "mutations/tree.rs"]
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use isms_lint::doc;
use isms_lint::inputs::terraform::{parse_module, SourceText};
use isms_lint::inputs::{self, Document, Kind, TreeFormat};

/// How a fixture file is mutated, from the input that reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
    Hcl,
    Dockerfile,
}

fn format_of(path: &Path) -> Option<Format> {
    let (input, _) = inputs::claim(path)?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    Some(match input.name() {
        "terraform" => Format::Hcl,
        "dockerfile" => Format::Dockerfile,
        _ if json => Format::Json,
        _ => Format::Yaml,
    })
}

/// Reads a file's text as isms-lint does; `Err` with the first parse error.
fn parse_file(path: &Path, shown: &str, text: &str) -> Result<inputs::Read, doc::ParseError> {
    let mut read = inputs::read_text(path, shown, text);
    match read.errors.is_empty() {
        true => Ok(read),
        false => Err(read.errors.remove(0)),
    }
}
use isms_lint::eval;
use isms_lint::rules::{builtin_sources, RuleSet};
use rayon::prelude::*;

use tree::{Syntax, Tree};

/// Rule errors (rule, message) and the number of rule runs.
type Judged = (Vec<(String, String)>, usize);

/// Judges `docs` with every built-in rule of their kind.
fn judge(rules: &RuleSet, docs: &[Document], shown: &str) -> Judged {
    let mut errors = Vec::new();
    let mut runs = 0;
    for d in docs {
        let outcome = eval::evaluate(rules, d, shown, None);
        runs += outcome.evaluated.len();
        errors.extend(outcome.errors.into_iter().map(|e| (e.rule_id, e.message)));
    }
    (errors, runs)
}

/// A rule error on a mutant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Failure {
    rule: String,
    fixture: String,
    mutation: String,
    error: String,
}

/// A fixture and the mutations chosen for it.
enum Unit {
    /// One document of a YAML or JSON file, and its mutations.
    Tree(TreeFixture, Vec<tree::Mutation>),
    /// A Dockerfile: path and mutants.
    Dockerfile(String, Vec<dockerfile::Mutant>),
    /// A Terraform module: its files (path, text) and edits (index of the file, edit).
    Module(Vec<(String, String)>, Vec<(usize, hcl::TextEdit)>),
}

/// One document of a YAML or JSON fixture file.
struct TreeFixture {
    rel: String,
    format: Format,
    /// Its number, when the file has several.
    number: Option<usize>,
    tree: Tree,
}

/// What judging mutants gave.
#[derive(Default)]
struct Tally {
    mutants: usize,
    runs: usize,
    /// Dockerfile mutants the reader refused (a `parse-error` finding, skipped).
    unreadable: usize,
    /// YAML/JSON/HCL mutants that did not parse again: bugs of this test.
    broken: Vec<String>,
    failures: Vec<Failure>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.mutants += other.mutants;
        self.runs += other.runs;
        self.unreadable += other.unreadable;
        self.broken.extend(other.broken);
        self.failures.extend(other.failures);
    }

    fn record(&mut self, fixture: &str, mutation: &str, (errors, runs): Judged) {
        self.runs += runs;
        self.failures
            .extend(errors.into_iter().map(|(rule, error)| Failure {
                rule,
                fixture: fixture.to_string(),
                mutation: mutation.to_string(),
                error,
            }));
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// The mutants to judge, and how many there could have been.
#[derive(Default)]
struct Plan {
    units: Vec<Unit>,
    files: usize,
    considered: usize,
}

/// Reads every fixture and keeps, for each class of mutation, its first occurrence.
fn plan(root: &Path) -> Plan {
    let mut p = Plan::default();
    let mut classes: BTreeSet<String> = BTreeSet::new();
    let mut modules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for path in files_under(&root.join("fixtures")) {
        let rel = path
            .strip_prefix(root)
            .expect("fixtures lie under the project root")
            .to_string_lossy()
            .replace('\\', "/");
        let name = rel.rsplit('/').next().unwrap_or_default();
        let is_tfvars = name == "terraform.tfvars" || name.ends_with(".auto.tfvars");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match format_of(&path) {
            Some(Format::Hcl) => {}
            None if is_tfvars => {}
            Some(Format::Dockerfile) => {
                p.files += 1;
                let all = dockerfile::mutants(&text).unwrap_or_default();
                p.considered += all.len();
                let kept: Vec<_> = all
                    .into_iter()
                    .filter(|m| classes.insert(format!("dockerfile|{}", m.shape)))
                    .collect();
                if !kept.is_empty() {
                    p.units.push(Unit::Dockerfile(rel, kept));
                }
                continue;
            }
            Some(f @ (Format::Yaml | Format::Json)) => {
                p.files += 1;
                let Ok(stream) = doc::yaml::parse(&text) else {
                    continue;
                };
                let syntax = if f == Format::Json {
                    Syntax::Json
                } else {
                    Syntax::Yaml
                };
                let several = stream.documents.len() > 1;
                for (i, node) in stream.documents.iter().enumerate() {
                    let tf = if f == Format::Json {
                        TreeFormat::Json
                    } else {
                        TreeFormat::Yaml
                    };
                    let kind = inputs::registry()
                        .iter()
                        .find_map(|i| i.recognize(&path, tf, node))
                        .unwrap_or(Kind::Yaml);
                    let t = Tree::of(node);
                    let all = tree::mutations(&t, syntax);
                    p.considered += all.len();
                    let kept: Vec<_> = all
                        .into_iter()
                        .filter(|m| {
                            let class =
                                format!("{kind}|{}|{}|{}", m.shape(&t), m.of_type, m.family);
                            classes.insert(class)
                        })
                        .collect();
                    if !kept.is_empty() {
                        let fixture = TreeFixture {
                            rel: rel.clone(),
                            format: f,
                            number: several.then_some(i + 1),
                            tree: t,
                        };
                        p.units.push(Unit::Tree(fixture, kept));
                    }
                }
                continue;
            }
            _ => continue,
        }
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        modules.entry(dir).or_default().push((rel, text));
    }
    for files in modules.into_values() {
        if !files.iter().any(|(p, _)| p.ends_with(".tf")) {
            continue;
        }
        p.files += files.len();
        let mut kept = Vec::new();
        for (i, (rel, text)) in files.iter().enumerate() {
            let file = if rel.ends_with(".tf") { "tf" } else { "tfvars" };
            let all = hcl::edits(text).unwrap_or_default();
            p.considered += all.len();
            kept.extend(
                all.into_iter()
                    .filter(|e| {
                        let class = format!("{file}|{}|{}|{}", e.shape(), e.of_type, e.family);
                        classes.insert(class)
                    })
                    .map(|e| (i, e)),
            );
        }
        if !kept.is_empty() {
            p.units.push(Unit::Module(files, kept));
        }
    }
    p
}

fn run_tree(rules: &RuleSet, f: &TreeFixture, mutations: &[tree::Mutation]) -> Tally {
    let mut t = Tally::default();
    let rel = f.rel.as_str();
    for m in mutations {
        let mutated = tree::apply(&f.tree, m);
        let text = match f.format {
            Format::Json => tree::to_json(&mutated),
            _ => tree::to_yaml(&mutated),
        };
        let what = match f.number {
            Some(n) => format!("document {n}: {}", m.what()),
            None => m.what(),
        };
        t.mutants += 1;
        match parse_file(Path::new(rel), rel, &text) {
            Ok(parsed) => t.record(rel, &what, judge(rules, &parsed.documents, rel)),
            Err(e) => t
                .broken
                .push(format!("{rel}: {what}: {}\n{text}", e.message)),
        }
    }
    t
}

fn run_module(
    rules: &RuleSet,
    files: &[(String, String)],
    edits: &[(usize, hcl::TextEdit)],
) -> Tally {
    let mut t = Tally::default();
    for (index, e) in edits {
        t.mutants += 1;
        let mut tf = Vec::new();
        let mut tfvars = Vec::new();
        for (j, (p, original)) in files.iter().enumerate() {
            let text = if j == *index {
                e.apply(original)
            } else {
                original.clone()
            };
            let src = SourceText {
                path: p.clone(),
                text,
            };
            if p.ends_with(".tf") {
                tf.push(src);
            } else {
                tfvars.push(src);
            }
        }
        let rel = &files[*index].0;
        match parse_module(&tf, &tfvars) {
            (root, errors, positions) if errors.iter().all(|e| !e.fatal) => {
                let d = Document {
                    kind: Kind::Terraform,
                    root,
                    name: String::new(),
                    files: tf.iter().map(|s| s.path.clone()).collect(),
                    via: Vec::new(),
                    positions: std::sync::Arc::new(positions),
                };
                t.record(rel, &e.what(), judge(rules, &[d], &tf[0].path));
            }
            (_, errors, _) => t
                .broken
                .push(format!("{rel}: {}: {}", e.what(), errors[0].message)),
        }
    }
    t
}

/// Mutants judged per parallel task (fixtures differ a lot in size).
const CHUNK: usize = 16;

impl Unit {
    fn len(&self) -> usize {
        match self {
            Unit::Tree(_, m) => m.len(),
            Unit::Dockerfile(_, m) => m.len(),
            Unit::Module(_, e) => e.len(),
        }
    }
}

/// Judges the mutants `range` of `unit`.
fn run(rules: &RuleSet, unit: &Unit, range: std::ops::Range<usize>) -> Tally {
    match unit {
        Unit::Tree(fixture, mutations) => run_tree(rules, fixture, &mutations[range]),
        Unit::Dockerfile(rel, mutants) => {
            let mut t = Tally::default();
            for m in &mutants[range] {
                t.mutants += 1;
                match parse_file(Path::new(rel), rel, &m.text) {
                    Ok(parsed) => t.record(rel, &m.what, judge(rules, &parsed.documents, rel)),
                    Err(_) => t.unreadable += 1,
                }
            }
            t
        }
        Unit::Module(files, edits) => run_module(rules, files, &edits[range]),
    }
}

#[test]
fn no_builtin_rule_errors_on_any_mutant_of_any_fixture() {
    let started = Instant::now();
    let rules = RuleSet::load(builtin_sources());
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    let plan = plan(&common::root());
    let mut total = Tally::default();
    let tasks: Vec<(&Unit, std::ops::Range<usize>)> = plan
        .units
        .iter()
        .flat_map(|u| {
            (0..u.len())
                .step_by(CHUNK)
                .map(move |i| (u, i..(i + CHUNK).min(u.len())))
        })
        .collect();
    for t in tasks
        .into_par_iter()
        .map(|(u, range)| run(&rules, u, range))
        .collect::<Vec<_>>()
    {
        total.add(t);
    }
    eprintln!(
        "mutations: {} fixture files, {} possible mutants, {} judged ({} unreadable Dockerfiles skipped), {} rule runs (gated ones included), {:.1}s",
        plan.files,
        plan.considered,
        total.mutants,
        total.unreadable,
        total.runs,
        started.elapsed().as_secs_f64()
    );
    assert!(
        total.broken.is_empty(),
        "{} mutants do not parse again (a bug of this test); first:\n{}",
        total.broken.len(),
        total.broken[..total.broken.len().min(5)].join("\n")
    );
    // The test does real work: thousands of mutants, every format.
    assert!(
        plan.files > 700 && total.mutants > 5_000 && total.runs > 50_000,
        "{} files, {} mutants, {} rule runs",
        plan.files,
        total.mutants,
        total.runs
    );

    total.failures.sort();
    total.failures.dedup();
    if !total.failures.is_empty() {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &total.failures {
            *by_rule.entry(&f.rule).or_default() += 1;
        }
        // One example per rule and error keeps the report short and actionable.
        let mut shown: BTreeSet<(&str, &str)> = BTreeSet::new();
        let examples: Vec<String> = total
            .failures
            .iter()
            .filter(|f| shown.insert((&f.rule, &f.error)))
            .map(|f| {
                format!(
                    "  {} on {} [{}]: {}",
                    f.rule, f.fixture, f.mutation, f.error
                )
            })
            .collect();
        panic!(
            "{} rule errors on mutants, in {} rules:\n{}\nexamples (one per rule and error):\n{}",
            total.failures.len(),
            by_rule.len(),
            by_rule
                .iter()
                .map(|(r, n)| format!("  {r}: {n}"))
                .collect::<Vec<_>>()
                .join("\n"),
            examples.join("\n")
        );
    }
}

/// A `{{ }}` hole whose value is missing (no such key, null, a field of null) renders as `?`;
/// any other failure of a hole is still a rule error.
#[test]
fn messages_render_missing_values_as_a_placeholder() {
    let rule = |message: &str| {
        let text = format!(
            "title: t\nseverity: low\nkinds: [kubernetes]\ncontrols: [{{id: \"8.9\", relation: supports, rationale: r}}]\nselect: containers(doc)\nassert: \"false\"\nmessage: \"{message}\"\nremediation: r\n"
        );
        let set = RuleSet::load(vec![isms_lint::rules::RuleSourceFile {
            path: "t/holes.yaml".into(),
            text,
            builtin: false,
        }]);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        set
    };
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: null\nspec:\n  containers:\n    - image: a\n      tag: ~\n";
    let parsed = parse_file(Path::new("pod.yaml"), "pod.yaml", pod).unwrap();
    let judge = |set: &RuleSet| eval::evaluate(set, &parsed.documents[0], "pod.yaml", None);

    let missing = rule("c '{{ item.name }}' of '{{ doc.metadata.name }}' tag {{ item.tag }} image {{ item.image }}");
    let out = judge(&missing);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.findings[0].message, "c '?' of '?' tag ? image a");
    assert_eq!(eval::MISSING_VALUE, "?");

    let broken = rule("{{ item.image + 1 }}");
    let out = judge(&broken);
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(
        out.errors[0].message.starts_with("message:"),
        "{:?}",
        out.errors
    );
}
