//! Reading rule files: raw serde structs, checked field by field, compiled into [`Rule`]s.
//! Every problem is reported at its own line of the rule file, all of them at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use globset::{GlobBuilder, GlobSetBuilder};
use include_dir::{include_dir, Dir};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::gate::Gate;
use super::path::KeyPath;
use super::{
    ControlLink, Expr, Relation, Rule, RuleOrigin, Selection, Severity, TemplatePart, Verdict,
};
use crate::catalog;
use crate::diagnostic::FileDiagnostic;
use crate::doc::{yaml, Node};
use crate::inputs::Kind;

static BUILTIN_RULES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// A rule file's text and where it came from.
#[derive(Clone, Debug)]
pub struct RuleSourceFile {
    /// Display path.
    pub path: String,
    /// File content.
    pub text: String,
    /// Whether it is embedded in the binary.
    pub builtin: bool,
}

/// The rule files embedded in the binary, sorted by path.
pub fn builtin_sources() -> Vec<RuleSourceFile> {
    let mut out = Vec::new();
    collect_embedded(&BUILTIN_RULES, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<RuleSourceFile>) {
    for f in dir.files() {
        if is_rule_file(f.path()) {
            out.push(RuleSourceFile {
                path: format!("rules/{}", f.path().display()),
                text: String::from_utf8_lossy(f.contents()).into_owned(),
                builtin: true,
            });
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

fn is_rule_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

/// The rule files under a user directory (recursively, skipping `fixtures/`), sorted by path.
pub fn load_dir_sources(dir: &Path) -> Result<Vec<RuleSourceFile>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "rules directory '{}' does not exist",
            dir.display()
        ));
    }
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .filter_entry(|e| e.file_name() != "fixtures")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| e.to_string())?;
        let p = entry.path();
        if entry.file_type().is_some_and(|t| t.is_file()) && is_rule_file(p) {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read rule file '{}': {e}", p.display()))?;
            out.push(RuleSourceFile {
                path: crate::paths::display(p),
                text,
                builtin: false,
            });
        }
    }
    Ok(out)
}

/// A rule file: the one type serde reads it into and its JSON Schema (`schemas/rule.schema.json`)
/// is derived from. Every field is optional to serde so that all problems are reported at their
/// line; the schema marks what a rule must have.
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(
    title = "isms-lint rule",
    description = "An isms-lint rule file (see docs/rule-format.md).",
    deny_unknown_fields
)]
pub struct RawRule {
    /// Kebab-case id; defaults to the file stem and must equal it.
    #[schemars(with = "Option<String>")]
    id: Option<Spanned<String>>,
    /// One line, imperative.
    #[schemars(with = "String")]
    title: Option<Spanned<String>>,
    /// What the rule checks and why.
    description: Option<String>,
    /// Severity of its findings.
    #[schemars(with = "Severity")]
    severity: Option<Spanned<String>>,
    /// Which scans run it: `default` (every scan; the default), `strict` (hardening and
    /// conventions that are right but loud on most repositories) or `org` (an organisation's own
    /// conventions, such as owner labels). See docs/rules.md.
    #[schemars(with = "Option<crate::rules::Profile>")]
    profile: Option<Spanned<String>>,
    /// Document kinds it judges.
    #[schemars(with = "Vec<Kind>")]
    kinds: Option<Vec<Spanned<String>>>,
    /// Globs the document's path must match (required for the generic yaml/json kinds).
    #[schemars(with = "Option<Vec<String>>")]
    files: Option<Vec<Spanned<String>>>,
    /// Annex A controls the rule evidences.
    #[schemars(with = "Vec<RawControl>")]
    controls: Option<Vec<RawControl>>,
    /// CEL: the list of elements to judge (default: the document).
    #[schemars(with = "Option<String>")]
    select: Option<Spanned<String>>,
    /// CEL filter on each element.
    #[schemars(with = "Option<String>")]
    when: Option<Spanned<String>>,
    /// CEL, true when the element is compliant.
    #[serde(rename = "assert")]
    #[schemars(with = "String")]
    assertion: Option<Spanned<String>>,
    /// Path inside the element to point at, e.g. `securityContext.privileged` (alternatives:
    /// `a|b`).
    #[schemars(with = "Option<String>")]
    at: Option<Spanned<String>>,
    /// Message with `{{ cel }}` holes.
    #[schemars(with = "String")]
    message: Option<Spanned<String>>,
    /// How to fix a finding.
    #[schemars(with = "String")]
    remediation: Option<Spanned<String>>,
    /// Links.
    references: Option<Vec<String>>,
    /// Extra SARIF tags.
    tags: Option<Vec<String>>,
}

/// A link to an Annex A control.
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawControl {
    /// Annex A 2022 id, `8.24` or `A.8.24`.
    #[schemars(with = "String", regex(pattern = r"^(A\.)?[5-8]\.[0-9]{1,2}$"))]
    id: Option<Spanned<String>>,
    /// How strongly the rule evidences the control.
    #[schemars(with = "Relation")]
    relation: Option<Spanned<String>>,
    /// Why this configuration is evidence for the control, in plain words.
    #[schemars(with = "String", length(min = 1))]
    rationale: Option<Spanned<String>>,
}

/// The top-level keys of a schema's object, as the loader checks them.
fn schema_keys(schema: schemars::Schema) -> Vec<&'static str> {
    schema
        .as_object()
        .and_then(|o| o.get("properties"))
        .and_then(|p| p.as_object())
        .map(|p| {
            p.keys()
                .map(|k| &*Box::leak(k.clone().into_boxed_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// Fields a rule file may have (read from [`RawRule`]'s schema).
pub fn rule_fields() -> &'static [&'static str] {
    static FIELDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    FIELDS.get_or_init(|| schema_keys(schemars::schema_for!(RawRule)))
}

fn control_fields() -> &'static [&'static str] {
    static FIELDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    FIELDS.get_or_init(|| schema_keys(schemars::schema_for!(RawControl)))
}

/// Compiles every source; returns the rules that compiled and every error found.
pub fn compile_all(sources: Vec<RuleSourceFile>) -> (Vec<Rule>, Vec<FileDiagnostic>) {
    let mut rules: Vec<Rule> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    // Compiling CEL dominates start-up: compile the files in parallel, then check ids in order.
    use rayon::prelude::*;
    let compiled: Vec<_> = sources
        .par_iter()
        .map(|src| compile_one(src, src.builtin))
        .collect();
    for (src, result) in sources.iter().zip(compiled) {
        match result {
            Ok((rule, id_offset)) => {
                if let Some(first) = seen.get(&rule.id) {
                    errors.push(
                        FileDiagnostic::at_offset(
                            &src.path,
                            &src.text,
                            id_offset,
                            rule.id.len(),
                            format!("duplicate rule id '{}' (already defined in {first})", rule.id),
                        )
                        .with_help("rule ids are unique across built-in and user rules; rename one of them"),
                    );
                    continue;
                }
                seen.insert(rule.id.clone(), src.path.clone());
                rules.push(rule);
            }
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    (rules, errors)
}

pub(super) struct Ctx<'a> {
    src: &'a RuleSourceFile,
    errors: Vec<FileDiagnostic>,
    /// Where the spans of the rule file's tree point.
    positions: crate::doc::Positions,
}

impl Ctx<'_> {
    fn at(&mut self, loc: &Location, message: impl Into<String>, help: Option<&str>) {
        let span = loc.span();
        let offset = span.byte_offset().map(|o| o as usize).unwrap_or_else(|| {
            crate::diagnostic::offset_of(&self.src.text, loc.line() as u32, loc.column() as u32)
        });
        let len = span.byte_len().unwrap_or(1) as usize;
        let mut d = FileDiagnostic::at_offset(&self.src.path, &self.src.text, offset, len, message);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.errors.push(d);
    }

    fn at_top(&mut self, message: impl Into<String>, help: &str) {
        self.errors.push(
            FileDiagnostic::at_line_col(&self.src.path, &self.src.text, 1, 1, message)
                .with_help(help),
        );
    }
}

fn file_stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

fn unknown_fields(ctx: &mut Ctx<'_>, root: &Node) {
    let Some(map) = root.as_map() else { return };
    check_keys(ctx, map, rule_fields(), "");
    if let Some(controls) = map.get("controls").and_then(Node::as_list) {
        for c in controls.items().iter().filter_map(Node::as_map) {
            check_keys(ctx, c, control_fields(), " in a control link");
        }
    }
}

/// Reports every key of `map` not in `allowed`, at the key, with the closest allowed name.
fn check_keys(ctx: &mut Ctx<'_>, map: &crate::doc::MapNode, allowed: &[&str], context: &str) {
    for (key, entry) in map.iter() {
        if allowed.contains(&key) {
            continue;
        }
        let at = ctx.positions.start(entry.key_span);
        let start = crate::diagnostic::offset_of(&ctx.src.text, at.line, at.col);
        let hint = crate::suggest::closest(key, allowed.iter().copied())
            .map(|s| format!("did you mean '{s}'?"))
            .unwrap_or_else(|| format!("allowed here: {}", allowed.join(", ")));
        ctx.errors.push(
            FileDiagnostic::at_offset(
                &ctx.src.path,
                &ctx.src.text,
                start,
                key.len(),
                format!("unknown field '{key}'{context}"),
            )
            .with_help(hint),
        );
    }
}

/// Checks and compiles one rule file. With `defer_cel` (built-in rules, which the test suite
/// checks), the field check is skipped and the CEL is compiled when first needed.
fn compile_one(
    src: &RuleSourceFile,
    defer_cel: bool,
) -> Result<(Rule, usize), Vec<FileDiagnostic>> {
    let mut ctx = Ctx {
        src,
        errors: Vec::new(),
        positions: crate::doc::Positions::default(),
    };
    let spanned = if defer_cel {
        Ok(None)
    } else {
        yaml::parse(&src.text).map(Some)
    };
    match spanned {
        Ok(None) => {}
        Err(e) => {
            return Err(vec![FileDiagnostic::at_line_col(
                &src.path,
                &src.text,
                e.pos.line,
                e.pos.col,
                format!("rule file is not valid YAML: {}", e.message),
            )]);
        }
        Ok(Some(mut stream)) => match stream.documents.first() {
            Some(root) if root.as_map().is_some() => {
                ctx.positions = std::mem::take(&mut stream.positions);
                unknown_fields(&mut ctx, root);
            }
            _ => {
                ctx.at_top(
                    "a rule file holds one mapping",
                    "start from an existing rule: id, title, severity, kinds, controls, assert, message, remediation",
                );
                return Err(ctx.errors);
            }
        },
    }
    let raw: RawRule = match serde_saphyr::from_str(&src.text) {
        Ok(r) => r,
        Err(e) => {
            let (line, col) = e
                .location()
                .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or("invalid rule file")
                .to_string();
            ctx.errors.push(FileDiagnostic::at_line_col(
                &src.path, &src.text, line, col, first,
            ));
            return Err(ctx.errors);
        }
    };
    let stem = file_stem(&src.path);
    let (id, id_offset) = match &raw.id {
        Some(id) => {
            if id.value != stem {
                ctx.at(
                    &id.referenced,
                    format!("rule id '{}' differs from its file name '{stem}'", id.value),
                    Some("the id is the file stem: rename the file or the id"),
                );
            }
            let off = id.referenced.span().byte_offset().unwrap_or(0) as usize;
            (id.value.clone(), off)
        }
        None => (stem.clone(), 0),
    };
    if !is_kebab(&id) {
        ctx.at_top(
            format!("rule id '{id}' is not kebab-case"),
            "use lowercase letters, digits and single dashes, e.g. k8s-container-privileged",
        );
    }
    let title = required_text(&mut ctx, &raw.title, "title");
    let remediation = required_text(&mut ctx, &raw.remediation, "remediation");
    let severity = match &raw.severity {
        Some(s) => match s.value.parse::<Severity>() {
            Ok(v) => v,
            Err(e) => {
                ctx.at(&s.referenced, e, None);
                Severity::Info
            }
        },
        None => {
            ctx.at_top(
                "missing field 'severity'",
                "add severity: critical | high | medium | low | info",
            );
            Severity::Info
        }
    };
    let profile = match &raw.profile {
        Some(p) => p
            .value
            .parse::<crate::rules::Profile>()
            .unwrap_or_else(|e| {
                ctx.at(&p.referenced, e, None);
                crate::rules::Profile::Default
            }),
        None => crate::rules::Profile::Default,
    };
    let mut kinds = Vec::new();
    match &raw.kinds {
        Some(ks) if !ks.is_empty() => {
            for k in ks {
                match k.value.parse::<Kind>() {
                    Ok(kind) => kinds.push(kind),
                    Err(e) => ctx.at(&k.referenced, e, None),
                }
            }
        }
        _ => ctx.at_top(
            "missing field 'kinds'",
            "add kinds: [kubernetes] (or another document kind)",
        ),
    }
    let files = match &raw.files {
        Some(globs) => {
            let mut b = GlobSetBuilder::new();
            let mut texts = Vec::new();
            for g in globs {
                match GlobBuilder::new(&g.value).literal_separator(true).build() {
                    Ok(glob) => {
                        b.add(glob);
                        texts.push(g.value.clone());
                    }
                    Err(e) => ctx.at(&g.referenced, format!("invalid glob: {e}"), None),
                }
            }
            b.build().ok().map(|set| (texts, set))
        }
        None => {
            if kinds.iter().any(|k| k.is_generic()) {
                ctx.at_top(
                    "rules on generic yaml/json/toml documents must name their files",
                    "add files: ['**/values.yaml'] (glob patterns relative to the scan root)",
                );
            }
            None
        }
    };
    let controls = check_controls(&mut ctx, &raw.controls);
    let at = raw
        .at
        .as_ref()
        .and_then(|a| match KeyPath::parse(&a.value) {
            Ok(p) => Some(p),
            Err(e) => {
                ctx.at(&a.referenced, e, None);
                None
            }
        });
    if raw.assertion.is_none() {
        ctx.at_top(
            "missing field 'assert'",
            "add assert: <CEL expression, true when compliant>",
        );
    }
    if raw.message.is_none() {
        ctx.at_top(
            "missing field 'message'",
            "add message: \"what is wrong, with {{ item.name }}\"",
        );
    }
    let cel = CelText {
        select: raw.select,
        when: raw.when,
        assertion: raw.assertion,
        message: raw.message,
    };
    let (selection, verdict) = (OnceLock::new(), OnceLock::new());
    if !defer_cel {
        // Both halves are compiled whatever happens, so that every error is reported at once.
        let sel = compile_selection(&mut ctx, &cel);
        let when = sel.as_ref().and_then(|s| s.when.as_ref());
        if let Some(v) = compile_verdict(&mut ctx, &cel, when) {
            let _ = verdict.set(v);
        }
        if let Some(sel) = sel {
            let _ = selection.set(sel);
        }
    }
    let control_ids = controls.iter().map(|c| c.id.clone()).collect();
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    let rule = Rule {
        id,
        title,
        description: raw.description.unwrap_or_default().trim().to_string(),
        severity,
        profile,
        kinds,
        files,
        controls,
        at,
        remediation,
        references: raw.references.unwrap_or_default(),
        tags: raw.tags.unwrap_or_default(),
        origin: RuleOrigin {
            path: src.path.clone(),
            builtin: src.builtin,
        },
        control_ids,
        selection,
        verdict,
        deferred: defer_cel.then(|| {
            Arc::new(DeferredCel {
                src: src.clone(),
                cel,
            })
        }),
    };
    Ok((rule, id_offset))
}

/// A rule's CEL fields as written.
#[derive(Debug)]
pub(super) struct CelText {
    select: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    assertion: Option<Spanned<String>>,
    message: Option<Spanned<String>>,
}

/// A built-in rule's CEL, kept to be compiled when first needed.
#[derive(Debug)]
pub(super) struct DeferredCel {
    src: RuleSourceFile,
    cel: CelText,
}

/// Compiles `select` and `when` and reads the gate; `None` after reporting an error.
pub(super) fn compile_selection(ctx: &mut Ctx<'_>, cel: &CelText) -> Option<Selection> {
    let select = cel.select.as_ref().map(|s| compile_expr(ctx, s, "select"));
    let when = cel.when.as_ref().map(|s| compile_expr(ctx, s, "when"));
    // A field that is present but did not compile has reported its error.
    if matches!(select, Some(None)) || matches!(when, Some(None)) {
        return None;
    }
    let (select, when) = (select.flatten(), when.flatten());
    let (s, w) = (
        select.as_ref().map(|e| e.program.expression()),
        when.as_ref().map(|e| e.program.expression()),
    );
    let gate = Gate::of_rule(s, w);
    let scope = super::gate::scope_words(s, w);
    Some(Selection {
        select,
        when,
        gate,
        scope,
    })
}

/// Compiles `assert` and the message; `None` after reporting an error.
pub(super) fn compile_verdict(
    ctx: &mut Ctx<'_>,
    cel: &CelText,
    when: Option<&Expr>,
) -> Option<Verdict> {
    let errors_before = ctx.errors.len();
    let assert = cel
        .assertion
        .as_ref()
        .and_then(|a| compile_expr(ctx, a, "assert"));
    let message = cel
        .message
        .as_ref()
        .map(|m| compile_template(ctx, m))
        .unwrap_or_default();
    let assert = assert.filter(|_| ctx.errors.len() == errors_before)?;
    let uses_key = [when, Some(&assert)]
        .into_iter()
        .flatten()
        .any(|e| e.program.references().has_variable("key"));
    Some(Verdict {
        assert,
        message,
        uses_key,
    })
}

/// Compiles part of a built-in rule's CEL on first use (`compile_selection` or
/// `compile_verdict`). Built-in rules are compiled in full by the test suite, so failing here
/// is a bug in isms-lint, reported as an internal error of the file being scanned.
pub(super) fn compile_deferred<T>(
    d: &DeferredCel,
    compile: impl FnOnce(&mut Ctx<'_>, &CelText) -> Option<T>,
) -> T {
    let mut ctx = Ctx {
        src: &d.src,
        errors: Vec::new(),
        positions: crate::doc::Positions::default(),
    };
    match compile(&mut ctx, &d.cel) {
        Some(compiled) if ctx.errors.is_empty() => compiled,
        _ => panic!(
            "built-in rule {} does not compile: {}",
            d.src.path,
            ctx.errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

fn required_text(ctx: &mut Ctx<'_>, field: &Option<Spanned<String>>, name: &str) -> String {
    match field {
        Some(t) if !t.value.trim().is_empty() => t.value.trim().to_string(),
        Some(t) => {
            ctx.at(&t.referenced, format!("'{name}' is empty"), None);
            String::new()
        }
        None => {
            ctx.at_top(format!("missing field '{name}'"), "see docs/rule-format.md");
            String::new()
        }
    }
}

fn check_controls(ctx: &mut Ctx<'_>, raw: &Option<Vec<RawControl>>) -> Vec<ControlLink> {
    let Some(raw) = raw.as_ref().filter(|c| !c.is_empty()) else {
        ctx.at_top(
            "missing field 'controls'",
            "link at least one Annex A control: controls: [{id: \"8.9\", relation: partial, rationale: …}]",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in raw {
        let Some(id) = &c.id else {
            ctx.at_top("a control link has no 'id'", "add id: \"8.9\"");
            continue;
        };
        let control = catalog::find(&id.value);
        if control.is_none() {
            ctx.at(
                &id.referenced,
                format!("unknown Annex A control '{}'", id.value),
                Some("ISO/IEC 27001:2022 Annex A ids run 5.1–5.37, 6.1–6.8, 7.1–7.14, 8.1–8.34; see `isms-lint controls`"),
            );
        }
        let relation = match &c.relation {
            Some(r) => match r.value.parse::<Relation>() {
                Ok(rel) => Some(rel),
                Err(e) => {
                    ctx.at(&r.referenced, e, None);
                    None
                }
            },
            None => {
                ctx.at(
                    &id.referenced,
                    "control link has no 'relation'",
                    Some("add relation: full | partial | supports"),
                );
                None
            }
        };
        let rationale = match &c.rationale {
            Some(r) if !r.value.trim().is_empty() => Some(r.value.trim().to_string()),
            _ => {
                ctx.at(
                    &id.referenced,
                    "control link has no 'rationale'",
                    Some("say in a sentence why this configuration is evidence for the control"),
                );
                None
            }
        };
        if let (Some(control), Some(relation), Some(rationale)) = (control, relation, rationale) {
            out.push(ControlLink {
                id: control.id.clone(),
                relation,
                rationale,
            });
        }
    }
    out
}

/// Byte offset in the rule file where an expression's text starts (quotes skipped).
fn value_start(text: &str, s: &Spanned<String>) -> usize {
    let off = s
        .referenced
        .span()
        .byte_offset()
        .map(|o| o as usize)
        .unwrap_or_else(|| {
            crate::diagnostic::offset_of(
                text,
                s.referenced.line() as u32,
                s.referenced.column() as u32,
            )
        });
    let first_line = s.value.lines().next().unwrap_or("");
    match text.get(off..).and_then(|rest| rest.find(first_line)) {
        Some(i) if !first_line.is_empty() => off + i,
        _ => off,
    }
}

/// Maps a 1-based line/column inside an expression to a byte offset in the rule file.
fn offset_in_file(text: &str, start: usize, expr: &str, line: usize, col: usize) -> usize {
    let mut pos = start;
    for (i, l) in expr.lines().enumerate() {
        if i > 0
            && let Some(found) = text.get(pos..).and_then(|rest| rest.find(l))
        {
            pos += found;
        }
        if i + 1 == line.max(1) {
            let within: usize = l
                .char_indices()
                .nth(col.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            return (pos + within).min(text.len());
        }
        pos += l.len();
    }
    start
}

fn compile_expr(ctx: &mut Ctx<'_>, s: &Spanned<String>, field: &str) -> Option<Expr> {
    compile_source(ctx, s, &s.value, 0, field)
}

/// Compiles `source`, which starts `delta` bytes after the start of the field's value.
fn compile_source(
    ctx: &mut Ctx<'_>,
    s: &Spanned<String>,
    source: &str,
    delta: usize,
    field: &str,
) -> Option<Expr> {
    let text = &ctx.src.text;
    let start = value_start(text, s) + delta;
    // The Pratt parser, many times faster than the ANTLR one (half of a pre-commit run's CPU
    // was parsing rules' CEL); what it rejects is parsed again by the ANTLR parser for its
    // error. Both give the same trees (tests/compiled_cel.rs).
    match super::env::env().compile_pratt(source) {
        Err(errs) => {
            for e in errs.errors.iter().take(1) {
                let (line, col) = (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize);
                let off = offset_in_file(text, start, source, line, col);
                let msg = e.msg.strip_prefix("Syntax error: ").unwrap_or(&e.msg);
                let d = FileDiagnostic::at_offset(
                    &ctx.src.path,
                    text,
                    off,
                    1,
                    format!("CEL syntax error in '{field}': {msg}"),
                )
                .with_help("see https://cel.dev for the expression language");
                ctx.errors.push(d);
            }
            None
        }
        Ok(program) => {
            let allowed: Vec<&str> = crate::cel::VARIABLES
                .iter()
                .copied()
                .filter(|v| field == "message" || !crate::cel::MESSAGE_ONLY.contains(v))
                .collect();
            let unknown = crate::cel::unknown_names(
                program.expression(),
                &allowed,
                &super::env::is_known_function,
            );
            let mut ok = true;
            for v in &unknown.variables {
                ok = false;
                let off = find_word(text, start, source, v);
                let help = if v == "key" {
                    "'key' (the element's name in its parent map) is only available in 'message'"
                        .to_string()
                } else {
                    format!(
                        "variables are {}; use a comprehension (list.all(x, …)) to bind others",
                        crate::cel::VARIABLES.join(", ")
                    )
                };
                ctx.errors.push(
                    FileDiagnostic::at_offset(
                        &ctx.src.path,
                        text,
                        off,
                        v.len(),
                        format!("unknown variable '{v}' in '{field}'"),
                    )
                    .with_help(help),
                );
            }
            for f in &unknown.functions {
                ok = false;
                let off = find_word(text, start, source, f);
                let names: Vec<&str> = crate::inputs::all_helpers().map(|h| h.name).collect();
                let help = crate::suggest::closest(f, names.iter().copied())
                    .map(|s| format!("did you mean '{s}'?"))
                    .unwrap_or_else(|| {
                        "see `isms-lint rules --helpers` for the functions isms-lint adds to CEL"
                            .to_string()
                    });
                ctx.errors.push(
                    FileDiagnostic::at_offset(
                        &ctx.src.path,
                        text,
                        off,
                        f.len(),
                        format!("unknown function '{f}' in '{field}'"),
                    )
                    .with_help(help),
                );
            }
            if !ok {
                return None;
            }
            match Expr::new(source.to_string(), program) {
                Ok(expr) => Some(expr),
                Err(e) => {
                    ctx.errors.push(
                        FileDiagnostic::at_offset(
                            &ctx.src.path,
                            text,
                            start,
                            source.len().max(1),
                            format!("CEL in '{field}' cannot be compiled: {e}"),
                        )
                        .with_help("docs/rule-format.md lists the CEL that rules may use"),
                    );
                    None
                }
            }
        }
    }
}

/// Byte offset of the first occurrence of `word` in the expression, as written in the file.
fn find_word(text: &str, start: usize, source: &str, word: &str) -> usize {
    for (i, line) in source.lines().enumerate() {
        if let Some(col) = line.find(word) {
            let chars = line[..col].chars().count() + 1;
            return offset_in_file(text, start, source, i + 1, chars);
        }
    }
    start
}

/// Index of the `}}` that closes a template hole, skipping any inside CEL string literals.
fn closing_braces(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'}' && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn compile_template(ctx: &mut Ctx<'_>, m: &Spanned<String>) -> Vec<TemplatePart> {
    let mut parts = Vec::new();
    let s = m.value.as_str();
    let mut rest = s;
    let mut consumed = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let Some(close) = closing_braces(after) else {
            ctx.at(
                &m.referenced,
                "'{{' without a closing '}}' in message",
                None,
            );
            return parts;
        };
        let inner = &after[..close];
        let lead = inner.len() - inner.trim_start().len();
        let delta = consumed + open + 2 + lead;
        if let Some(e) = compile_source(ctx, m, inner.trim(), delta, "message") {
            parts.push(TemplatePart::Expr(Box::new(e)));
        }
        let step = open + 2 + close + 2;
        consumed += step;
        rest = &rest[step..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, text: &str) -> RuleSourceFile {
        RuleSourceFile {
            path: path.into(),
            text: text.into(),
            builtin: false,
        }
    }

    const GOOD: &str = r#"id: demo-rule
title: Demo
severity: high
kinds: [kubernetes]
controls:
  - id: "8.9"
    relation: partial
    rationale: Because.
select: containers(doc)
assert: "!item.?securityContext.?privileged.orValue(false)"
at: securityContext.privileged
message: "container '{{ item.name }}' is privileged"
remediation: Do not.
"#;

    #[test]
    fn every_built_in_rule_passes_the_full_check_that_loading_defers() {
        let sources = builtin_sources();
        assert!(sources.len() >= 300);
        let failures: Vec<String> = sources
            .iter()
            .filter_map(|s| compile_one(s, false).err())
            .flatten()
            .map(|e| format!("{}:{}: {}", e.path, e.line, e.message))
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn built_in_rules_compile_their_cel_on_first_use() {
        let (rules, errors) = compile_all(builtin_sources());
        assert!(errors.is_empty(), "{errors:?}");
        let rule = rules
            .iter()
            .find(|r| r.id == "k8s-container-privileged")
            .unwrap();
        assert!(rule.selection.get().is_none() && rule.verdict.get().is_none());
        let select = &rule.selection().select;
        assert_eq!(select.as_ref().unwrap().source, "containers(doc)");
        // `assert` waits until a document passes the gate.
        assert!(rule.verdict.get().is_none());
        assert!(rule.verdict().assert.source.contains("privileged"));
        // User rules are compiled at load, so their CEL errors are reported then.
        let (rules, _) = compile_all(vec![src("r/demo-rule.yaml", GOOD)]);
        assert!(rules[0].selection.get().is_some() && rules[0].verdict.get().is_some());
    }

    #[test]
    fn a_good_rule_compiles() {
        let (rules, errors) = compile_all(vec![src("r/demo-rule.yaml", GOOD)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rules[0].id, "demo-rule");
        assert_eq!(rules[0].controls[0].id, "8.9");
        assert_eq!(rules[0].verdict().message.len(), 3);
    }

    #[test]
    fn three_problems_three_lines() {
        let text = GOOD
            .replace("\"8.9\"", "\"8.99\"")
            .replace("orValue(false)\"", "orValue(false) &&\"")
            .replace("remediation: Do not.", "remediation: Do not.\nseverty: low");
        let (_, errors) = compile_all(vec![src("r/demo-rule.yaml", &text)]);
        let mut lines: Vec<(u32, String)> =
            errors.iter().map(|e| (e.line, e.message.clone())).collect();
        lines.sort();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0].0, 6);
        assert!(lines[0].1.contains("unknown Annex A control '8.99'"));
        assert_eq!(lines[1].0, 10);
        assert!(lines[1].1.contains("CEL syntax error in 'assert'"));
        assert_eq!(lines[2].0, 14);
        assert!(lines[2].1.contains("unknown field 'severty'"));
        assert_eq!(
            errors
                .iter()
                .find(|e| e.line == 14)
                .unwrap()
                .help
                .as_deref(),
            Some("did you mean 'severity'?")
        );
    }

    #[test]
    fn unknown_names_point_into_the_expression() {
        let text = GOOD
            .replace("containers(doc)", "containerz(doc)")
            .replace("{{ item.name }}", "{{ itm.name }}");
        let (_, errors) = compile_all(vec![src("r/demo-rule.yaml", &text)]);
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.line, e.col, e.message.as_str()))
            .collect();
        assert!(
            got.contains(&(9, 9, "unknown function 'containerz' in 'select'")),
            "{got:?}"
        );
        assert!(
            got.contains(&(12, 25, "unknown variable 'itm' in 'message'")),
            "{got:?}"
        );
    }

    #[test]
    fn braces_inside_cel_strings_do_not_close_a_hole() {
        assert_eq!(closing_braces(" 'a}}b' }} tail"), Some(8));
        assert_eq!(closing_braces(" \"x\\\"}}\" }}"), Some(9));
        assert_eq!(closing_braces(" item.name "), None);
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let (rules, errors) = compile_all(vec![
            src("a/demo-rule.yaml", GOOD),
            src("b/demo-rule.yaml", GOOD),
        ]);
        assert_eq!(rules.len(), 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "b/demo-rule.yaml");
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("duplicate rule id"));
    }

    #[test]
    fn id_must_match_file_name() {
        let (_, errors) = compile_all(vec![src("r/other.yaml", GOOD)]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("differs from its file name"));
    }

    #[test]
    fn key_is_a_variable_everywhere() {
        let text = GOOD.replace("orValue(false)\"", "orValue(false) && key != ''\"");
        let (_, errors) = compile_all(vec![src("r/demo-rule.yaml", &text)]);
        assert!(errors.is_empty(), "{errors:?}");
    }
}
