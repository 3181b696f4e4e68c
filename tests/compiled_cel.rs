//! The compiled CEL evaluator (`cel::compiled`, the default engine) against the `cel` crate's
//! interpreter it replaced, which stays as the oracle:
//!
//! - random expressions over random documents (proptest, a fixed seed): the same value or
//!   error, and the same CEL cost, in lenient and strict reading;
//! - every built-in rule over every fixture, in the differential engine, which runs both
//!   evaluators on every evaluation of a real scan and panics on the first difference in value,
//!   error, cost or values read; and the interpreter's JSON and SARIF reports byte for byte;
//! - CEL that does not compile is a load-time error at the rule's line.
//!
//! `.ci/corpus.sh` runs the differential engine and the byte comparison over
//! `../shared/corpus` and the benchmark corpus as well.

mod common;

use std::path::Path;
use std::process::Command;

use isms_lint::doc::{yaml, MapBuilder, Node, Span};
use isms_lint::rules::{env, Engine, Expr, Vars};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The properties' fixed seed: the same cases on every run (tests are deterministic).
const SEED: u64 = 27_001;

const FIELDS: &[&str] = &["a", "b", "name", "items", "n", "image"];

/// A random JSON document over a few keys, scalars of the kinds rules meet.
fn document() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (-3i64..300).prop_map(J::from),
        Just(J::from(1.5)),
        prop::sample::select(vec![
            "",
            "a",
            "abc",
            "0.0.0.0/0",
            "10.0.0.0/8",
            "nginx:1.25",
            "AKIA1234567890ABCDEF",
            "true",
            "*",
        ])
        .prop_map(J::from),
    ];
    let object = |inner: BoxedStrategy<J>| {
        prop::collection::vec((prop::sample::select(FIELDS), inner), 0..5)
            .prop_map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    };
    let tree = leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            object(inner.boxed()),
        ]
    });
    // A document is a map, most often with a list of maps under `items` (what rules select).
    (
        prop::collection::vec((prop::sample::select(FIELDS), tree.clone()), 0..5),
        prop::collection::vec(
            prop::collection::vec((prop::sample::select(FIELDS), tree), 0..4),
            0..4,
        ),
    )
        .prop_map(|(top, items)| {
            let mut doc: serde_json::Map<String, J> =
                top.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let items = items
                .into_iter()
                .map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
                .collect();
            doc.insert("items".into(), J::Array(items));
            J::Object(doc)
        })
}

/// A random CEL expression over `doc`, `item` and the comprehension variable `x`, within what
/// rules use: literals, selections, optional paths, presence tests, operators, conditionals,
/// list and map literals, standard and isms-lint functions, and the comprehension macros.
/// Anything goes, type errors included (both engines must fail alike); comprehension bodies
/// are mostly well-typed predicates and projections, so that loops run to the end.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => prop::sample::select(vec!["doc", "item", "doc.items", "item.items", "doc.?a.orValue(1)"])
            .prop_map(String::from),
        1 => prop::sample::select(vec!["file", "key", "nope", "x"]).prop_map(String::from),
        2 => (-2i64..5).prop_map(|i| i.to_string()),
        3 => prop::sample::select(vec![
            "''", "'a'", "'abc'", "'0.0.0.0/0'", "true", "false", "null", "[]", "{}", "1.5",
            "2u", "int", "string", "[1, 2, 3]", "['a', 'abc']", "doc.?items.orValue([])",
        ])
        .prop_map(String::from),
    ];
    leaf.prop_recursive(4, 48, 3, |e| {
        let field = prop::sample::select(FIELDS);
        prop_oneof![
            (e.clone(), field.clone()).prop_map(|(e, f)| format!("{e}.{f}")),
            (e.clone(), field.clone(), field.clone(), e.clone())
                .prop_map(|(e, f, g, d)| format!("{e}.?{f}.?{g}.orValue({d})")),
            (e.clone(), field.clone()).prop_map(|(e, f)| format!("{e}.?{f}.hasValue()")),
            (e.clone(), field.clone()).prop_map(|(e, f)| format!("{e}.?{f}")),
            (e.clone(), field.clone()).prop_map(|(e, f)| format!("has({e}.{f})")),
            (e.clone(), e.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            (e.clone(), e.clone()).prop_map(|(a, i)| format!("{a}[?{i}]")),
            (
                e.clone(),
                prop::sample::select(vec![
                    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&&", "||", "in"
                ]),
                e.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            e.clone().prop_map(|a| format!("!{a}")),
            e.clone().prop_map(|a| format!("-{a}")),
            (e.clone(), e.clone(), e.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (e.clone(), e.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            // One entry: a map CEL builds iterates in hash order, which no engine decides.
            e.clone().prop_map(|a| format!("{{'k': {a}}}")),
            e.clone().prop_map(|a| format!("{{{a}: 1}}")),
            (
                prop::sample::select(vec![
                    "size",
                    "string",
                    "int",
                    "type",
                    "cidrIsWorld",
                    "parseImage",
                    "isSecretLiteral",
                    "optional.of",
                ]),
                e.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (
                e.clone(),
                prop::sample::select(vec![
                    "size()",
                    "startsWith('a')",
                    "contains('b')",
                    "lowerAscii()",
                    "matches('^a')",
                    "orValue(0)",
                    "hasValue()",
                    "split('.')",
                    "join(',')",
                ])
            )
                .prop_map(|(a, m)| format!("{a}.{m}")),
            (
                e.clone(),
                prop::sample::select(vec!["all", "exists", "exists_one", "filter"]),
                predicate()
            )
                .prop_map(|(r, m, p)| format!("{r}.{m}(x, {p})")),
            (e.clone(), predicate()).prop_map(|(r, p)| format!("{r}.exists(x, {p})")),
            (e.clone(), predicate()).prop_map(|(r, p)| format!("{r}.filter(x, {p}).size()")),
            (e.clone(), projection()).prop_map(|(r, v)| format!("{r}.map(x, {v})")),
            (e.clone(), predicate(), projection())
                .prop_map(|(r, p, v)| format!("{r}.map(x, {p}, {v})")),
            (e.clone(), e.clone(), predicate())
                .prop_map(|(r, s, p)| format!("{r}.all(x, {s}.exists(y, {p}))")),
        ]
    })
}

/// What the property evaluates: any expression, or (as often) a rule-shaped one — a
/// comprehension over the document's items with a predicate or a projection.
fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => expression(),
        1 => (
            prop::sample::select(vec!["all", "exists", "exists_one", "filter"]),
            predicate()
        )
            .prop_map(|(m, p)| format!("doc.items.{m}(x, {p})")),
        1 => (predicate(), projection())
            .prop_map(|(p, v)| format!("doc.items.filter(x, {p}).map(x, {v})")),
    ]
}

/// A condition on the comprehension variable `x` (and `y` in a nested one), well-typed on
/// most documents.
fn predicate() -> impl Strategy<Value = String> {
    let field = || prop::sample::select(FIELDS);
    let atom = prop_oneof![
        (field(), 0i64..5).prop_map(|(f, n)| format!("x.?{f}.orValue(0) > {n}")),
        field().prop_map(|f| format!("has(x.{f})")),
        (field(), prop::sample::select(vec!["a", "abc", ""]))
            .prop_map(|(f, v)| format!("x.?{f}.orValue('') == '{v}'")),
        field().prop_map(|f| format!("x.?{f}.orValue('').startsWith('a')")),
        Just("x == 'a'".to_string()),
        Just("x != null".to_string()),
        Just("y == x".to_string()),
        Just("cidrIsWorld(x.?cidr.orValue(''))".to_string()),
        (field(), field()).prop_map(|(f, g)| format!("x.?{f}.?{g}.hasValue()")),
        field().prop_map(|f| format!("'{f}' in x")),
    ];
    atom.prop_recursive(2, 6, 2, |p| {
        prop_oneof![
            (p.clone(), p.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (p.clone(), p.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            p.prop_map(|a| format!("!{a}")),
        ]
    })
}

/// A value computed from the comprehension variable `x`.
fn projection() -> impl Strategy<Value = String> {
    let field = prop::sample::select(FIELDS);
    prop_oneof![
        Just("x".to_string()),
        field.clone().prop_map(|f| format!("x.?{f}.orValue(null)")),
        field.clone().prop_map(|f| format!("x.{f}")),
        Just("[x, x]".to_string()),
        Just("{'v': x}".to_string()),
        Just("string(x) + '!'".to_string()),
    ]
}

/// The root of a JSON document, read as the scanner reads it.
fn root_of(json: &str) -> Node {
    yaml::parse(json).expect("JSON parses").documents.remove(0)
}

/// What the property binds to `item`: the document's `items` (rules' usual elements).
fn item_of(root: &Node) -> Node {
    root.get("items").cloned().unwrap_or_else(|| root.clone())
}

/// `doc`, `item` and `file` bound as the property binds them.
fn bindings<'a>(root: &'a Node, item: &'a Node, file: &'a Node) -> Vars<'a> {
    let mut vars: Vars<'a> = [None; 6];
    vars[0] = Some(root.as_val());
    vars[1] = Some(item.as_val());
    vars[2] = Some(file.as_val());
    vars
}

fn file_map() -> Node {
    let mut b = MapBuilder::new();
    b.insert(
        "path".into(),
        Span::default(),
        Node::string("k8s/app.yaml", Span::default()),
    );
    Node::new(
        isms_lint::doc::Value::Map(b.finish(Span::default())),
        Span::default(),
    )
}

/// What one engine gives: the value's type and JSON form, or the error's text; and the cost.
fn run(expr: &Expr, vars: &Vars<'_>, strict: bool, engine: Engine) -> (String, u64) {
    cel::cost::start(u64::MAX);
    let shown = expr.evaluate(vars, strict, engine, |r| match r {
        Ok(v) => format!(
            "{} {}",
            v.get_type().name(),
            sorted(isms_lint::cel::to_json(v))
        ),
        Err(e) => format!("error: {e}"),
    });
    let cost = cel::cost::spent();
    cel::cost::stop();
    (shown, cost)
}

/// JSON with the keys of every object sorted: a map built by CEL iterates in hash order.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let mut entries: Vec<(String, J)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            J::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        J::Array(items) => J::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn compile(source: &str) -> Option<Expr> {
    let program = env::env().compile(source).ok()?;
    Some(Expr::new(source.to_string(), program).expect("every construct of the grammar compiles"))
}

/// The tree `source` parses to with the ANTLR parser and with the Pratt parser that loading
/// rules uses (`Env::compile_pratt`), node ids left out (evaluation never reads them, and the
/// two parsers number `?.` selections differently); `None` for what a parser rejects.
fn trees(source: &str) -> (Option<String>, Option<String>) {
    static IDS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"id: [0-9]+, ").unwrap());
    let tree = |p: Result<cel::Program, _>| {
        p.ok().map(|p| {
            IDS.replace_all(&format!("{:?}", p.expression()), "")
                .into_owned()
        })
    };
    (
        tree(env::env().compile(source)),
        tree(env::env().compile_pratt(source)),
    )
}

proptest! {
    #![proptest_config(Config {
        cases: 4000,
        rng_seed: RngSeed::Fixed(SEED),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn random_expressions_give_what_the_interpreter_gives(doc in document(), source in source()) {
        let Some(expr) = compile(&source) else {
            return Ok(()); // not valid CEL (say, has() of a non-selection): nothing to compare
        };
        let (root, file) = (root_of(&doc.to_string()), file_map());
        let item = item_of(&root);
        let vars = bindings(&root, &item, &file);
        for strict in [false, true] {
            let oracle = run(&expr, &vars, strict, Engine::Interpreter);
            let compiled = run(&expr, &vars, strict, Engine::Compiled);
            prop_assert_eq!(&compiled, &oracle, "`{}` on {} (strict: {})", source, doc, strict);
        }
    }

    #[test]
    fn random_expressions_and_their_prefixes_parse_to_the_same_tree_with_both_parsers(
        source in source(),
        cut in 0.0..1.0f64,
    ) {
        // A prefix is mostly not valid CEL: the Pratt parser must reject it too (what it
        // rejects is parsed again by the ANTLR parser, so it cannot accept less).
        let mut end = (source.len() as f64 * cut) as usize;
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        for text in [source.as_str(), &source[..end]] {
            let (antlr, pratt) = trees(text);
            prop_assert_eq!(antlr, pratt, "`{}`", text);
        }
    }
}

#[test]
fn every_built_in_expression_parses_to_the_same_tree_with_both_parsers() {
    let rules = isms_lint::rules::RuleSet::load(isms_lint::rules::builtin_sources());
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    let mut sources: Vec<&str> = Vec::new();
    for rule in &rules.rules {
        let (selection, verdict) = (rule.selection(), rule.verdict());
        sources.extend(selection.select.iter().map(|e| e.source.as_str()));
        sources.extend(selection.when.iter().map(|e| e.source.as_str()));
        sources.push(verdict.assert.source.as_str());
        for part in &verdict.message {
            if let isms_lint::rules::TemplatePart::Expr(e) = part {
                sources.push(e.source.as_str());
            }
        }
    }
    assert!(sources.len() > 2000, "only {} expressions", sources.len());
    for source in sources {
        let (antlr, pratt) = trees(source);
        assert!(antlr.is_some(), "`{source}` does not parse");
        assert_eq!(antlr, pratt, "`{source}`");
    }
}

#[test]
fn literals_escapes_and_unary_chains_parse_to_the_same_tree_with_both_parsers() {
    let mut parsed = 0;
    for source in [
        r#""a\n\u00e9\x41\101""#,
        r#"r'\d+' + R"\w""#,
        r#"'''multi
line''' + """x""""#,
        r#"b'abc' == b"\xff""#,
        "1u + 0x1Fu + 18446744073709551615u",
        "0x1F - -0x1F + 9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "1e3 + -1.5e-3 + .5 + 2.",
        "1e3 + -1.5e-3 + 0.5 + 2.0",
        "!-1 && !!-2.5 && !-1.?a.hasValue()",
        "--1 + ---x + -(-x)",
        "-!x",
        "!-x",
        "a.?b[?0].?c.orValue([?a, 1]) == {?'a': b, 'c': 1}",
        "x in [1] && has(a.b.c) && a ? b : c ? d : e",
        "1 + 2 * 3 - -4 % 5 / 6",
        "a.all(x, x > 0) || a.exists_one(x, x) || [1, 2].map(x, x > 1, x * 2) == []",
        "a.b.c(d).e[f]['g'].h()",
        "'unterminated",
        "a.(b)",
        "[1, 2,] == [1, 2] && {'a': 1,}.size() == 1",
        "null == null && true != false && type(1) == int",
        "a.in",
    ] {
        let (antlr, pratt) = trees(source);
        parsed += usize::from(antlr.is_some());
        assert_eq!(antlr, pratt, "`{source}`");
    }
    // Invalid: an int out of range, `2.` (CEL needs a digit after the point), mixed unary
    // chains, an unterminated string, `.(`, a reserved word as a field.
    assert_eq!(
        parsed, 17,
        "the valid sources parse, the seven invalid ones do not"
    );
}

#[test]
fn the_grammar_reaches_values_errors_and_costs() {
    // The property above must not pass for want of anything to compare: over its first cases
    // it sees values and errors of many kinds, and non-trivial costs.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(SEED),
        ..Config::default()
    });
    let (mut values, mut errors, mut costly) = (0, 0, 0);
    for _ in 0..500 {
        let source = source().new_tree(&mut runner).unwrap().current();
        let doc = document().new_tree(&mut runner).unwrap().current();
        let Some(expr) = compile(&source) else {
            continue;
        };
        let (root, file) = (root_of(&doc.to_string()), file_map());
        let item = item_of(&root);
        let vars = bindings(&root, &item, &file);
        let (shown, cost) = run(&expr, &vars, false, Engine::Compiled);
        if shown.starts_with("error:") {
            errors += 1;
        } else {
            values += 1;
        }
        if cost > 3 {
            costly += 1;
        }
    }
    assert!(
        values > 150 && errors > 100 && costly > 80,
        "{values} values, {errors} errors, {costly} costly"
    );
}

/// Each expression, with `doc` bound to the JSON document `doc`, gives `expected` (type and
/// JSON, or the error), and the interpreter gives the same, cost included.
fn gives(doc: &str, cases: &[(&str, &str)]) {
    let root = root_of(doc);
    let mut vars: Vars<'_> = [None; 6];
    vars[0] = Some(root.as_val());
    for (source, expected) in cases {
        let expr = compile(source).unwrap();
        let compiled = run(&expr, &vars, false, Engine::Compiled);
        assert_eq!(compiled.0, *expected, "{source}");
        assert_eq!(
            compiled,
            run(&expr, &vars, false, Engine::Interpreter),
            "{source}"
        );
    }
}

#[test]
fn fused_optional_paths_and_comprehensions_match_on_a_known_document() {
    gives(
        r#"{"spec": {"containers": [{"name": "web", "securityContext": {"privileged": true}},
                                      {"name": "side"}]}}"#,
        &[
            (
                "doc.spec.containers.map(c, c.?securityContext.?privileged.orValue(false))",
                "list [true,false]",
            ),
            (
                "doc.spec.containers.exists(c, c.?securityContext.hasValue())",
                "bool true",
            ),
            ("doc.?spec.?nope.?deeper.orValue('none')", "string \"none\""),
            (
                "doc.spec.containers.filter(c, has(c.securityContext)).size()",
                "int 1",
            ),
            (
                "doc.spec.containers.all(c, c.securityContext.privileged)",
                "error: No such key: securityContext",
            ),
            ("item.name", "error: Undeclared reference to 'item'"),
        ],
    );
}

#[test]
fn constant_lists_and_maps_give_what_the_interpreter_gives() {
    // List and map literals of constants are built once, when the expression compiles; those
    // whose building fails (a duplicate key, a key of a type maps cannot have) or that hold
    // optional entries or non-constants are built on each evaluation, as before.
    gives(
        r#"{"a": "abc"}"#,
        &[
            ("'b' in {'a': 1, 'b': 2}", "bool true"),
            ("{'a': [1, 2]}['a'][1]", "int 2"),
            ("[1, [2, 'x'], {'k': null}][1]", "list [2,\"x\"]"),
            ("['x', 'abc'].exists(v, v == doc.a)", "bool true"),
            ("[doc.a, 'x'][0]", "string \"abc\""),
            ("[?doc.?missing, 1].size()", "int 1"),
            (
                "{'a': 1, 'a': 2}",
                "error: Failed with repeated key: String(\"a\")",
            ),
            (
                "{1.5: 'x'}",
                "error: Unable to use value 'Float(1.5)' as a key",
            ),
        ],
    );
}

fn scan(engine: &str, format: &str, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ISMS_LINT_CEL_ENGINE", engine)
        .args([
            "scan",
            "fixtures",
            "--no-config",
            "--fail-on",
            "none",
            "--format",
            format,
        ])
        .arg("--output")
        .arg(out)
        .output()
        .expect("isms-lint runs")
}

#[test]
fn every_fixture_gives_the_interpreters_report_and_no_difference_in_any_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "sarif"] {
        let mut reports = Vec::new();
        for engine in ["interpreter", "compiled", "differential"] {
            let out = dir.path().join(format!("{engine}.{format}"));
            let run = scan(engine, format, &out);
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(0), "{engine}: {stderr}");
            assert!(!stderr.contains("differs from the interpreter"), "{stderr}");
            reports.push(std::fs::read(&out).unwrap());
        }
        let json: serde_json::Value = serde_json::from_slice(&reports[1]).unwrap();
        if format == "json" {
            assert_eq!(
                json["rule_errors"],
                serde_json::json!([]),
                "a fixture scan has no rule errors"
            );
            assert!(json["findings"].as_array().unwrap().len() > 1000);
        }
        assert!(
            reports[0] == reports[1],
            "{format}: the compiled engine's report differs from the interpreter's"
        );
        assert!(
            reports[2] == reports[1],
            "{format}: the differential engine's report differs"
        );
    }
}

#[test]
fn an_unknown_engine_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = scan("jit", "json", &dir.path().join("x.json"));
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("ISMS_LINT_CEL_ENGINE must be"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_literal_pattern_is_checked_when_the_rule_loads_and_built_once() {
    // `matches` with a literal pattern holds its expression, built on first use: it gives what
    // the interpreter gives (a string text, a non-string one, a pattern from the document, the
    // same call twice), and an invalid literal is an error when the rule compiles, not on every
    // element.
    gives(
        r#"{"a": "abc", "n": 3, "p": "^b"}"#,
        &[
            ("doc.a.matches('^a')", "bool true"),
            ("matches(doc.a, 'c$')", "bool true"),
            ("doc.a.matches('^b')", "bool false"),
            (
                "[doc.a, 'bcd'].map(v, v.matches('^b'))",
                "list [false,true]",
            ),
            ("doc.a.matches(doc.p)", "bool false"),
            (
                "doc.n.matches('^3')",
                "error: found no matching overload for 'matches' applied to 'int.(string)'",
            ),
        ],
    );
    let program = env::env().compile("doc.a.matches('(')").unwrap();
    let error = Expr::new("doc.a.matches('(')".into(), program)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("'(' is not a valid regular expression: regex parse error"),
        "{error}"
    );
}

#[test]
fn cel_that_does_not_compile_is_a_load_error_at_the_rules_line() {
    let dir = common::tree(&[
        (
            "rules/struct-literal.yaml",
            "id: struct-literal\ntitle: A rule with a struct literal\ndescription: x\nseverity: low\nkinds: [kubernetes]\ncontrols:\n  - id: \"8.9\"\n    relation: supports\n    rationale: x\nassert: \"google.protobuf.Int64Value{value: 1} == 1\"\nmessage: x\nremediation: x\n",
        ),
        ("k8s.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"),
    ]);
    let run = common::run_in(
        dir.path(),
        &[
            "scan",
            "--no-config",
            "--no-default-rules",
            "--rules",
            "rules",
            "k8s.yaml",
        ],
    );
    let (code, stdout, stderr) = common::parts(&run);
    let output = format!("{stdout}{stderr}");
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("rules/struct-literal.yaml:10:10")
            && output.contains("CEL in 'assert' cannot be compiled: struct literals (google.protobuf.Int64Value{…}) are not supported"),
        "{output}"
    );
}
