//! Rules: YAML files checked and compiled once into CEL programs, indexed by document kind.

pub mod env;
pub mod gate;
mod load;
pub mod path;
pub mod profile;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use cel::common::value::Val;
use globset::GlobSet;

pub use load::{builtin_sources, load_dir_sources, rule_fields, RawRule, RuleSourceFile};
pub use profile::Profile;

use crate::catalog;
use crate::diagnostic::FileDiagnostic;
use crate::inputs::Kind;

/// How serious a finding is; ordered from least to most serious.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run unless `--fail-on info`.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, most serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub's `security-severity` score for the level.
    pub fn score(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "0.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Severity, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity '{s}' (expected critical, high, medium, low or info)")
            })
    }
}

/// How strongly a rule evidences a control.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Passing the rule demonstrates the control's technical requirement on its own.
    Full,
    /// The rule evidences part of the control.
    Partial,
    /// The rule supports the control without demonstrating it.
    Supports,
}

impl Relation {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Full => "full",
            Relation::Partial => "partial",
            Relation::Supports => "supports",
        }
    }
}

impl FromStr for Relation {
    type Err = String;
    fn from_str(s: &str) -> Result<Relation, String> {
        match s {
            "full" => Ok(Relation::Full),
            "partial" => Ok(Relation::Partial),
            "supports" => Ok(Relation::Supports),
            _ => Err(format!(
                "unknown relation '{s}' (expected full, partial or supports)"
            )),
        }
    }
}

/// A rule's link to one Annex A control, with its argument.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ControlLink {
    /// Bare control id, e.g. `8.24`.
    pub id: String,
    /// How strongly the rule evidences it.
    pub relation: Relation,
    /// Why this configuration is evidence for the control, in plain words.
    pub rationale: String,
}

/// Which evaluator runs rules' CEL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Programs compiled once into resolved operations ([`cel::compiled`]): the default.
    #[default]
    Compiled,
    /// The `cel` crate's tree-walking interpreter: the oracle the compiled programs are tested
    /// against (`ISMS_LINT_CEL_ENGINE=interpreter`).
    Interpreter,
    /// Both, on every evaluation, panicking on the first difference in value, error, CEL cost
    /// or values read (`ISMS_LINT_CEL_ENGINE=differential`, for tests; about 3× slower).
    Differential,
}

impl Engine {
    /// The engine `ISMS_LINT_CEL_ENGINE` names (`compiled`, the default, or `interpreter`).
    pub fn from_env() -> Result<Engine, String> {
        match std::env::var("ISMS_LINT_CEL_ENGINE").as_deref() {
            Err(_) | Ok("") | Ok("compiled") => Ok(Engine::Compiled),
            Ok("interpreter") => Ok(Engine::Interpreter),
            Ok("differential") => Ok(Engine::Differential),
            Ok(other) => Err(format!(
                "ISMS_LINT_CEL_ENGINE must be 'compiled', 'interpreter' or 'differential', not '{other}'"
            )),
        }
    }
}

/// The values of an expression's variables, in the order of [`crate::cel::VARIABLES`]
/// (`None`: not bound here).
pub type Vars<'b> = [Option<&'b (dyn Val + 'static)>; 6];

/// A compiled CEL expression with its source text.
pub struct Expr {
    /// The expression as written.
    pub source: String,
    /// The parsed program (what the interpreter runs).
    pub program: cel::Program,
    /// The program compiled against [`env::env`] with [`crate::cel::VARIABLES`] as slots.
    compiled: cel::compiled::Program<'static>,
    /// Its strict form ([`crate::cel::strict_form`]), built the first time an evaluation
    /// of it reads an unknown value, parsed and compiled.
    strict: OnceLock<(cel::common::ast::IdedExpr, CompiledStrict)>,
}

type CompiledStrict = Result<cel::compiled::Program<'static>, cel::compiled::CompileError>;

impl Expr {
    /// A compiled expression with its source; an error when a construct it uses does not
    /// compile ([`cel::compiled`]).
    pub fn new(source: String, program: cel::Program) -> Result<Expr, cel::compiled::CompileError> {
        let compiled = cel::compiled::Program::compile_with(
            program.expression(),
            env::env(),
            crate::cel::VARIABLES,
            &crate::cel::helpers::specialize,
        )?;
        Ok(Expr {
            source,
            program,
            compiled,
            strict: OnceLock::new(),
        })
    }

    fn strict(&self) -> &(cel::common::ast::IdedExpr, CompiledStrict) {
        self.strict.get_or_init(|| {
            let ast = crate::cel::strict_form(self.program.expression());
            let compiled = cel::compiled::Program::compile_with(
                &ast,
                env::env(),
                crate::cel::VARIABLES,
                &crate::cel::helpers::specialize,
            );
            (ast, compiled)
        })
    }

    /// The strict form's AST (for tests and tools).
    pub fn strict_ast(&self) -> &cel::common::ast::IdedExpr {
        &self.strict().0
    }

    /// Evaluates the expression (its strict form when `strict`) with `vars` bound, and hands
    /// the result to `then`.
    pub fn evaluate<R>(
        &self,
        vars: &Vars<'_>,
        strict: bool,
        engine: Engine,
        then: impl FnOnce(Result<&(dyn Val + 'static), cel::ExecutionError>) -> R,
    ) -> R {
        match engine {
            Engine::Compiled => self.compiled(vars, strict, then),
            Engine::Interpreter => self.interpreted(vars, strict, then),
            Engine::Differential => {
                let before = crate::doc::reads::snapshot();
                // Work a helper's memo saved counts as done: the memo is filled by whichever
                // engine runs first.
                let work = || cel::cost::spent() + crate::cel::args::saved();
                let (spent, work_before) = (cel::cost::spent(), work());
                let oracle = self.interpreted(vars, strict, outcome);
                let oracle_cost = work() - work_before;
                let oracle_reads = crate::doc::reads::snapshot();
                crate::doc::reads::restore(before);
                cel::cost::rewind(spent);
                let work_before = work();
                let (compiled, result) = self.compiled(vars, strict, |r| {
                    let summary = outcome(r.as_ref().map(|v| *v).map_err(Clone::clone));
                    (summary, then(r))
                });
                let compiled_cost = work() - work_before;
                let compiled_reads = crate::doc::reads::snapshot();
                let same_reads = oracle_reads.unknown == compiled_reads.unknown
                    && oracle_reads.unresolved == compiled_reads.unresolved
                    && oracle_reads
                        .choices
                        .iter()
                        .map(|c| c.id())
                        .eq(compiled_reads.choices.iter().map(|c| c.id()));
                if oracle != compiled || oracle_cost != compiled_cost || !same_reads {
                    panic!(
                        "compiled CEL differs from the interpreter on `{}` (strict: {strict}):\n  interpreter: {oracle} (cost {oracle_cost}, reads {oracle_reads:?})\n  compiled:    {compiled} (cost {compiled_cost}, reads {compiled_reads:?})",
                        self.source
                    );
                }
                result
            }
        }
    }

    fn compiled<R>(
        &self,
        vars: &Vars<'_>,
        strict: bool,
        then: impl FnOnce(Result<&(dyn Val + 'static), cel::ExecutionError>) -> R,
    ) -> R {
        let program = if strict {
            match &self.strict().1 {
                Ok(p) => p,
                Err(e) => {
                    return then(Err(cel::ExecutionError::function_error("strict form", e)));
                }
            }
        } else {
            &self.compiled
        };
        match program.run(vars) {
            Ok(v) => then(Ok(v.as_ref())),
            Err(e) => then(Err(e)),
        }
    }

    fn interpreted<R>(
        &self,
        vars: &Vars<'_>,
        strict: bool,
        then: impl FnOnce(Result<&(dyn Val + 'static), cel::ExecutionError>) -> R,
    ) -> R {
        let root = env::root_context();
        let mut ctx = root.new_inner_scope();
        for (name, value) in crate::cel::VARIABLES.iter().zip(vars) {
            if let Some(v) = value {
                ctx.add_variable_as_val(*name, v.clone_as_boxed());
            }
        }
        let expr = if strict {
            &self.strict().0
        } else {
            self.program.expression()
        };
        match cel::Value::resolve_val(expr, &ctx) {
            Ok(v) => then(Ok(v.as_ref())),
            Err(e) => then(Err(e)),
        }
    }
}

/// An evaluation's outcome as the differential engine compares it: the value's type and JSON
/// form, or the error's text.
/// Showing the value reads all of it: what that reads is not recorded.
fn outcome(r: Result<&(dyn Val + 'static), cel::ExecutionError>) -> String {
    let reads = crate::doc::reads::snapshot();
    let shown = match r {
        Ok(v) => format!("{} {}", v.get_type().name(), crate::cel::to_json(v)),
        Err(e) => format!("error: {e}"),
    };
    crate::doc::reads::restore(reads);
    shown
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A message with `{{ expr }}` holes.
#[derive(Debug)]
pub enum TemplatePart {
    /// Text as written.
    Text(String),
    /// A CEL expression whose value is inserted.
    Expr(Box<Expr>),
}

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOrigin {
    /// Display path of the rule file (`rules/kubernetes/x.yaml` for built-in rules).
    pub path: String,
    /// Whether it is embedded in the binary.
    pub builtin: bool,
}

/// A checked, compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique kebab-case id (the file stem).
    pub id: String,
    /// One-line summary.
    pub title: String,
    /// What the rule checks, in a few sentences.
    pub description: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Which scans run it (`default` unless the rule says otherwise).
    pub profile: Profile,
    /// Document kinds it judges.
    pub kinds: Vec<Kind>,
    /// File globs a document's path must match (required for generic kinds).
    pub files: Option<(Vec<String>, GlobSet)>,
    /// Annex A controls it evidences.
    pub controls: Vec<ControlLink>,
    /// Path inside the element to point at.
    pub at: Option<path::KeyPath>,
    /// How to fix a finding.
    pub remediation: String,
    /// Further reading.
    pub references: Vec<String>,
    /// Extra tags for SARIF.
    pub tags: Vec<String>,
    /// Where the rule file is.
    pub origin: RuleOrigin,
    /// The ids of `controls`, shared by every finding of the rule.
    pub control_ids: Arc<[String]>,
    /// `select` and `when`, compiled (at load for user rules, on first use for built-in ones).
    selection: OnceLock<Selection>,
    /// `assert` and the message, compiled (at load for user rules, for built-in ones when a
    /// document first passes the rule's gate).
    verdict: OnceLock<Verdict>,
    /// What to compile from when compiling was deferred.
    deferred: Option<Arc<load::DeferredCel>>,
}

/// What a rule judges: its `select` and `when`, and the gate read from them.
#[derive(Debug)]
pub struct Selection {
    /// Elements to judge (default: the document).
    pub select: Option<Expr>,
    /// Filter on each element.
    pub when: Option<Expr>,
    /// What a document must contain for the rule to report anything on it.
    pub gate: gate::Gate,
    /// What the rule looks for, in words (see [`gate::scope_words`]).
    pub scope: Option<String>,
}

/// How a rule judges: its `assert` and message.
#[derive(Debug)]
pub struct Verdict {
    /// True when the element is compliant.
    pub assert: Expr,
    /// Message template.
    pub message: Vec<TemplatePart>,
    /// Whether `when` or `assert` read `key` (else it is bound only to render messages).
    pub uses_key: bool,
}

impl Rule {
    /// The rule's `select`, `when` and gate. Built-in rules compile them on first use, so a run
    /// compiles only the rules of the document kinds it meets (the test suite compiles them all).
    pub fn selection(&self) -> &Selection {
        self.selection
            .get_or_init(|| load::compile_deferred(self.deferred(), load::compile_selection))
    }

    /// The rule's `assert` and message; built-in rules compile them when first needed, after a
    /// document passed the gate.
    pub fn verdict(&self) -> &Verdict {
        self.verdict.get_or_init(|| {
            let when = self.selection().when.as_ref();
            load::compile_deferred(self.deferred(), |ctx, cel| {
                load::compile_verdict(ctx, cel, when)
            })
        })
    }

    /// The selection, for changing it (tests open gates with this).
    pub fn selection_mut(&mut self) -> &mut Selection {
        self.selection();
        self.selection.get_mut().expect("compiled just above")
    }

    fn deferred(&self) -> &load::DeferredCel {
        self.deferred
            .as_deref()
            .expect("a rule whose CEL was not compiled at load keeps its source")
    }

    /// Whether the rule judges documents of `kind` at `path`.
    pub fn applies_to(&self, kind: Kind, path: &str) -> bool {
        self.kinds.contains(&kind)
            && match &self.files {
                Some((_, set)) => set.is_match(path),
                None => !kind.is_generic(),
            }
    }
}

/// Which rules a run loads: the built-in ones (unless left out), the user's directories, then
/// `only` and `skip` by rule id or Annex A control id.
#[derive(Clone, Debug, Default)]
pub struct RuleSources {
    /// Directories of user rules.
    pub rules: Vec<std::path::PathBuf>,
    /// Leave the built-in rules out.
    pub no_default_rules: bool,
    /// Keep only these rule or control ids.
    pub only: Vec<String>,
    /// Drop these rule or control ids.
    pub skip: Vec<String>,
}

/// Loads the built-in rules (unless disabled) and the user's rule directories, then applies
/// `--only`/`--skip` (rule and control ids; [`crate::checks::load_selected`] also takes the
/// built-in check ids). Returns the rules and every load error.
pub fn load_selected(sel: &RuleSources) -> (RuleSet, Vec<FileDiagnostic>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    if !sel.no_default_rules {
        sources.extend(builtin_sources());
    }
    for dir in &sel.rules {
        match load_dir_sources(dir) {
            Ok(s) => sources.extend(s),
            Err(e) => errors.push(FileDiagnostic::at_offset(
                &crate::paths::display(dir),
                "",
                0,
                0,
                e,
            )),
        }
    }
    let mut set = RuleSet::load(sources);
    errors.append(&mut set.errors);
    for (flag, ids) in [("--only", &sel.only), ("--skip", &sel.skip)] {
        for sel_id in ids {
            let known = catalog::find(sel_id).is_some() || set.get(sel_id).is_some();
            if !known {
                let hint =
                    crate::suggest::hint(sel_id, set.loaded_ids().iter().map(String::as_str));
                errors.push(FileDiagnostic::at_offset(
                    flag,
                    "",
                    0,
                    0,
                    format!(
                        "'{sel_id}' is neither a loaded rule id, a built-in check id nor an Annex A control id{hint}"
                    ),
                ));
            }
        }
    }
    let matches = |r: &Rule, pat: &str| {
        r.id == pat
            || r.controls
                .iter()
                .any(|c| c.id == catalog::normalize_id(pat))
    };
    if !sel.only.is_empty() {
        set.retain(|r| sel.only.iter().any(|p| matches(r, p)));
    }
    if !sel.skip.is_empty() {
        set.retain(|r| !sel.skip.iter().any(|p| matches(r, p)));
    }
    (set, errors)
}

/// A digest of the compiled rules: every field that decides a finding, rule by rule in id order.
pub fn pack_digest(rules: &RuleSet) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in &rules.rules {
        let mut canon = format!("{}\n{}\n{}\n{:?}\n", r.id, r.title, r.severity, r.kinds);
        for c in &r.controls {
            canon.push_str(&format!(
                "{} {} {}\n",
                c.id,
                c.relation.as_str(),
                c.rationale
            ));
        }
        let (selection, verdict) = (r.selection(), r.verdict());
        for e in [&selection.select, &selection.when].into_iter().flatten() {
            canon.push_str(&e.source);
            canon.push('\n');
        }
        canon.push_str(&verdict.assert.source);
        canon.push('\n');
        if let Some(at) = &r.at {
            canon.push_str(&at.text);
        }
        for p in &verdict.message {
            match p {
                TemplatePart::Text(t) => canon.push_str(t),
                TemplatePart::Expr(e) => canon.push_str(&format!("{{{{{}}}}}", e.source)),
            }
        }
        if let Some((globs, _)) = &r.files {
            canon.push_str(&globs.join(","));
        }
        h.update((canon.len() as u64).to_le_bytes());
        h.update(canon.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The default CEL cost budget of one rule on one document (`--max-cel-cost`): what
/// `cel::cost` counts (comprehension iterations, calls, the length of strings and lists built
/// or walked), at least 100× the most any built-in rule reached on one document of the fixtures
/// and of the real-repository corpus (docs/performance.md, `tests/cel_cost.rs`).
pub const DEFAULT_MAX_CEL_COST: u64 = 20_000_000;

/// Every rule of a run, plus the errors found while loading them.
#[derive(Debug)]
pub struct RuleSet {
    /// Compiled rules, sorted by id.
    pub rules: Vec<Rule>,
    /// Indices into `rules`, by kind.
    by_kind: BTreeMap<Kind, Vec<usize>>,
    /// Rule file problems, each at its own line.
    pub errors: Vec<FileDiagnostic>,
    /// Measure each rule's evaluation time (`--timings`); off by default.
    pub profile: bool,
    /// The CEL cost budget of one rule on one document (`--max-cel-cost`): past it the rule
    /// stops on that document with a rule error. Default [`DEFAULT_MAX_CEL_COST`].
    pub max_cel_cost: u64,
    /// Which evaluator runs the rules' CEL (compiled, unless testing against the interpreter).
    pub engine: Engine,
    /// Every rule id that loaded, including those `--only`, `--skip` or the config later left
    /// out (suppressions and waivers may name them), sorted.
    loaded_ids: Vec<String>,
    /// Built-in checks (`parse-error`…) turned off by `--skip`/`--only`.
    pub skipped_builtins: Vec<String>,
    /// Rules loaded but left out because their profile was not selected: not run, and shown
    /// as *not evaluated: not in profile* in the Statement of Applicability.
    pub not_in_profile: Vec<Rule>,
}

impl Default for RuleSet {
    /// No rules, with the default cost budget.
    fn default() -> Self {
        RuleSet {
            rules: Vec::new(),
            by_kind: BTreeMap::new(),
            errors: Vec::new(),
            profile: false,
            max_cel_cost: DEFAULT_MAX_CEL_COST,
            engine: Engine::default(),
            loaded_ids: Vec::new(),
            skipped_builtins: Vec::new(),
            not_in_profile: Vec::new(),
        }
    }
}

impl RuleSet {
    /// Loads, checks and compiles every rule file; errors are collected, never fatal.
    pub fn load(sources: Vec<RuleSourceFile>) -> RuleSet {
        let (mut rules, mut errors) = load::compile_all(sources);
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        errors.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
        let loaded_ids = rules.iter().map(|r| r.id.clone()).collect();
        let mut set = RuleSet {
            rules,
            by_kind: BTreeMap::new(),
            errors,
            profile: false,
            max_cel_cost: DEFAULT_MAX_CEL_COST,
            engine: Engine::default(),
            loaded_ids,
            skipped_builtins: Vec::new(),
            not_in_profile: Vec::new(),
        };
        set.reindex();
        set
    }

    /// The ids of the rules that loaded, whether or not they run, sorted.
    pub fn loaded_ids(&self) -> &[String] {
        &self.loaded_ids
    }

    /// Runs only the rules whose profile is selected, or whose id `only` names; the others move
    /// to [`RuleSet::not_in_profile`].
    pub fn select_profiles(&mut self, selected: &profile::Selected, only: &[String]) {
        let (keep, out): (Vec<Rule>, Vec<Rule>) = std::mem::take(&mut self.rules)
            .into_iter()
            .partition(|r| selected.contains(r.profile) || only.contains(&r.id));
        self.rules = keep;
        self.not_in_profile.extend(out);
        self.not_in_profile.sort_by(|a, b| a.id.cmp(&b.id));
        self.reindex();
    }

    /// Keeps only the rules for which `keep` is true.
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
        self.reindex();
    }

    fn reindex(&mut self) {
        self.by_kind.clear();
        for (i, r) in self.rules.iter().enumerate() {
            for k in &r.kinds {
                self.by_kind.entry(*k).or_default().push(i);
            }
        }
    }

    /// The rules that judge `kind`, with their indices into `rules`.
    pub fn indexed_for_kind(&self, kind: Kind) -> impl Iterator<Item = (usize, &Rule)> {
        self.by_kind
            .get(&kind)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.rules[i]))
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.rules[i])
    }

    /// Whether any rule judges this kind.
    pub fn has_kind(&self, kind: Kind) -> bool {
        self.by_kind.contains_key(&kind)
    }
}
