//! The one CEL environment every rule is compiled against: the standard library, the strings,
//! lists and math extensions, and isms-lint's helper functions for what CEL lacks.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelNull, CelString, CelUInt, Kind as CelKind, DYN_TYPE,
};
use cel::common::value::{CowVal, Val};
use cel::{extensions, Context, Env, ExecutionError};

use crate::doc::{ListNode, MapBuilder, MapNode, Node, Span, Value};

/// Variables a rule expression may use.
pub const VARIABLES: &[&str] = &["doc", "item", "file", "repo", "key", "path"];

/// Variables only a message can use (they are computed when a finding is made).
pub const MESSAGE_ONLY: &[&str] = &["path"];

/// Type names CEL lets an expression mention as identifiers (`type(x) == string`).
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// One helper registered in the environment, documented for `isms-lint rules` and rule authors.
pub struct Helper {
    /// Name as called from CEL.
    pub name: &'static str,
    /// Signature as shown to authors.
    pub signature: &'static str,
    /// What it returns.
    pub doc: &'static str,
}

/// The helper functions isms-lint adds to CEL.
pub const HELPERS: &[Helper] = &[
    Helper { name: "podSpecs", signature: "podSpecs(doc) -> list<map>", doc: "The pod spec of a Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) as a list of zero or one map." },
    Helper { name: "containers", signature: "containers(doc) -> list<map>", doc: "Every container of a Kubernetes workload: containers, initContainers and ephemeralContainers." },
    Helper { name: "values", signature: "values(map) -> list", doc: "The values of a map, in source order (keeps their source locations)." },
    Helper { name: "statements", signature: "statements(policy) -> list<map>", doc: "The statements of a JSON policy document (its `Statement`, a list or a single map); empty for anything else. Terraform `jsonencode(...)` policies and JSON heredocs are structures, so their statements keep their lines." },
    Helper { name: "jobs", signature: "jobs(doc) -> list<map>", doc: "The jobs of a GitHub workflow." },
    Helper { name: "steps", signature: "steps(doc) -> list<map>", doc: "Every step of every job of a GitHub workflow, or of a composite action." },
    Helper { name: "services", signature: "services(doc) -> list<map>", doc: "The services of a Compose file." },
    Helper { name: "resources", signature: "resources(doc, type) -> list<map>", doc: "Resources of a type ('*' for all): CloudFormation `Resources` whose `Type` equals it, or Terraform `resource.<type>.*` (modules and plans)." },
    Helper { name: "referrers", signature: "referrers(doc, item, type, attr) -> list<map>", doc: "Terraform: resources of `type` whose `attr` refers to the resource `item` (by address, e.g. `bucket = aws_s3_bucket.logs.id`, or by the same literal name) — for the split resources of AWS provider v4+." },
    Helper { name: "refsAt", signature: "refsAt(doc, type, path) -> map", doc: "CloudFormation: the logical ids that resources of `type` ('*' for all) reference with `Ref` (or `Fn::GetAtt`) at `path` inside their `Properties`, as a map for `key in refsAt(...)`; computed once per document." },
    Helper { name: "globMatch", signature: "globMatch(text, pattern) -> bool", doc: "Shell-style glob match (`*`, `**`, `?`, `[abc]`, `{a,b}`)." },
    Helper { name: "cidrIsWorld", signature: "cidrIsWorld(cidr) -> bool", doc: "True for `0.0.0.0/0` and `::/0`: open to the whole internet." },
    Helper { name: "cidrContains", signature: "cidrContains(cidr, ip) -> bool", doc: "Whether the CIDR block contains the IP address." },
    Helper { name: "cidrIsPrivate", signature: "cidrIsPrivate(cidr) -> bool", doc: "Whether the whole block lies in private, loopback or link-local ranges." },
    Helper { name: "parseImage", signature: "parseImage(ref) -> map", doc: "Splits an OCI image reference into `registry`, `repository`, `tag` and `digest` (empty strings when absent)." },
    Helper { name: "semverCompare", signature: "semverCompare(a, b) -> int", doc: "Compares two versions (leading `v` allowed): -1, 0 or 1." },
    Helper { name: "actionRef", signature: "actionRef(uses) -> map", doc: "Splits a workflow `uses:` value into `kind` (local, docker, remote), `owner`, `repo`, `path`, `ref` and `pinned` (ref is a full commit SHA)." },
    Helper { name: "isSecretName", signature: "isSecretName(name) -> bool", doc: "Whether a variable or key name suggests a secret (password, token, api key, private key…)." },
    Helper { name: "isUnknown", signature: "isUnknown(value) -> bool", doc: "Whether the value is not known before deployment (an unresolved variable, `each.value`, a function call, `!ImportValue`…): such a value is not written literally in the file. Every other use of an unknown value makes the verdict unknown." },
    Helper { name: "sourceText", signature: "sourceText(value) -> string", doc: "The value as written: the source text of a value not known before deployment (`var.token`, `nonsensitive(var.x)`, `!Ref Password`), or the value itself as text. Reading it never makes a verdict unknown: use it to judge how a value is written." },
    Helper { name: "looksLikeSecret", signature: "looksLikeSecret(value) -> bool", doc: "Whether a literal value looks like a credential (cloud keys, tokens, private keys)." },
];

/// The shared environment.
pub fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(build_env()))
}

fn build_env() -> Env {
    let mut env = Env::stdlib();
    env.add_extension(extensions::strings)
        .expect("strings extension registers once");
    env.add_extension(extensions::lists)
        .expect("lists extension registers once");
    env.add_extension(extensions::math)
        .expect("math extension registers once");
    let one = || vec![DYN_TYPE];
    let two = || vec![DYN_TYPE, DYN_TYPE];
    let three = || vec![DYN_TYPE, DYN_TYPE, DYN_TYPE];
    let four = || vec![DYN_TYPE, DYN_TYPE, DYN_TYPE, DYN_TYPE];
    let helpers: [(&str, Vec<_>, cel::common::functions::Function); 21] = [
        ("sourceText", one(), source_text),
        ("statements", one(), statements),
        ("isUnknown", one(), is_unknown),
        ("referrers", four(), referrers),
        ("refsAt", three(), refs_at),
        ("podSpecs", one(), pod_specs),
        ("containers", one(), containers),
        ("values", one(), values),
        ("jobs", one(), jobs),
        ("steps", one(), steps),
        ("services", one(), services),
        ("resources", two(), resources),
        ("globMatch", two(), glob_match),
        ("cidrIsWorld", one(), cidr_is_world),
        ("cidrContains", two(), cidr_contains),
        ("cidrIsPrivate", one(), cidr_is_private),
        ("parseImage", one(), parse_image),
        ("semverCompare", two(), semver_compare),
        ("actionRef", one(), action_ref),
        ("isSecretName", one(), is_secret_name),
        ("looksLikeSecret", one(), looks_like_secret),
    ];
    for (name, args, f) in helpers {
        env.add_overload(name, &format!("{name}_isms"), args, f)
            .expect("helper names are unique");
    }
    env.add_overload(STRICT, STRICT, one(), strict_value)
        .expect("the strict guard registers once");
    env.add_overload(STRICT_EQ, STRICT_EQ, two(), strict_eq)
        .expect("the strict equality registers once");
    env.add_overload(STRICT_NE, STRICT_NE, two(), strict_ne)
        .expect("the strict inequality registers once");
    // `matches` with a per-thread cache of compiled expressions (the standard one compiles the
    // regular expression on every call, which dominated evaluation time).
    use cel::common::types::STRING_TYPE as S;
    env.add_overload("matches", "matches", vec![S, S], matches)
        .expect("matches is registered once");
    env.add_member_overload("matches", "string_matches", S, vec![S], matches)
        .expect("matches is registered once");
    env
}

thread_local! {
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, Result<regex::Regex, String>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn matches<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let text = arg_str(&args, 0, "matches")?;
    let pattern = arg_str(&args, 1, "matches")?;
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 1024 {
            cache.clear();
        }
        let compiled = cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).map_err(|e| e.to_string()));
        match compiled {
            Ok(re) => bool_ret(re.is_match(text)),
            Err(e) => Err(ExecutionError::function_error(
                "matches",
                format!("'{pattern}' is not a valid regular expression: {e}"),
            )),
        }
    })
}

/// The guard [`strict_form`] wraps around operands: it fails on an unresolved value.
const STRICT: &str = "@isms_strict";

/// `==` in strict reading (see [`crate::doc::reads::strict_equals`]).
const STRICT_EQ: &str = "@isms_eq";
/// `!=` in strict reading.
const STRICT_NE: &str = "@isms_ne";

fn strict_compare<'b, 'v>(args: &Args<'b, 'v>, equal: bool) -> Ret<'b, 'v> {
    let [a, b] = args.as_slice() else {
        return Err(ExecutionError::function_error(STRICT_EQ, "two arguments"));
    };
    match crate::doc::reads::strict_equals(a.as_ref(), b.as_ref()) {
        Some(same) => bool_ret(same == equal),
        None => Err(crate::doc::reads::error()),
    }
}

fn strict_eq<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    strict_compare(&args, true)
}

fn strict_ne<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    strict_compare(&args, false)
}

fn strict_value<'b, 'v>(mut args: Args<'b, 'v>) -> Ret<'b, 'v> {
    match args.pop() {
        Some(v) if !crate::doc::reads::is_unresolved(v.as_ref()) => Ok(v),
        Some(_) => Err(crate::doc::reads::error()),
        None => Err(ExecutionError::function_error(STRICT, "missing argument")),
    }
}

/// The expression as it runs in strict reading: `==` and `!=` become comparisons that fail on
/// an unresolved value (unless a reference is compared with `null` or `""`), and the operands
/// of `in` and `type()` are guarded so that an unresolved value makes them fail instead of
/// comparing unequal (every other operation already fails on it). The result then depends on an unknown value
/// exactly when evaluating it fails, except where `&&`, `||`, `all()` or `exists()` decide
/// without it.
pub fn strict_form(e: &IdedExpr) -> IdedExpr {
    use cel::common::ast::operators;
    let guard = |x: &IdedExpr| IdedExpr {
        id: x.id,
        expr: Expr::Call(cel::common::ast::CallExpr {
            func_name: STRICT.to_string(),
            target: None,
            args: vec![strict_form(x)],
        }),
    };
    let expr = match &e.expr {
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let renamed = match (name, call.target.is_some(), call.args.len()) {
                (operators::EQUALS, false, 2) => STRICT_EQ,
                (operators::NOT_EQUALS, false, 2) => STRICT_NE,
                _ => name,
            };
            let guarded: &[usize] = match (name, call.target.is_some(), call.args.len()) {
                (operators::IN, false, 2) => &[0],
                ("type", false, 1) => &[0],
                _ => &[],
            };
            let args = call
                .args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if guarded.contains(&i) {
                        guard(a)
                    } else {
                        strict_form(a)
                    }
                })
                .collect();
            Expr::Call(cel::common::ast::CallExpr {
                func_name: renamed.to_string(),
                target: call.target.as_ref().map(|t| Box::new(strict_form(t))),
                args,
            })
        }
        Expr::Comprehension(c) => {
            let mut c = (**c).clone();
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                *part = strict_form(part);
            }
            Expr::Comprehension(Box::new(c))
        }
        Expr::List(l) => {
            let mut l = l.clone();
            for x in &mut l.elements {
                *x = strict_form(x);
            }
            Expr::List(l)
        }
        Expr::Map(m) => {
            let mut m = m.clone();
            for entry in &mut m.entries {
                if let EntryExpr::MapEntry(me) = &mut entry.expr {
                    me.key = strict_form(&me.key);
                    me.value = strict_form(&me.value);
                }
            }
            Expr::Map(m)
        }
        Expr::Select(sel) => {
            let mut sel = sel.clone();
            *sel.operand = strict_form(&sel.operand);
            Expr::Select(sel)
        }
        other => other.clone(),
    };
    IdedExpr { id: e.id, expr }
}

/// A root context over the shared environment; evaluations open child scopes on it.
pub fn root_context() -> Context<'static, 'static> {
    Context::with_env(env().clone())
}

/// Whether `name` is a function of the environment (standard, extension or helper).
pub fn is_known_function(name: &str) -> bool {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(known) = cache.lock().ok().and_then(|c| c.get(name).copied()) {
        return known;
    }
    // The environment does not list its functions; adding a context function of the same
    // name is refused exactly when the environment already declares it.
    fn probe() -> bool {
        true
    }
    let mut ctx = root_context();
    let known = ctx.add_function(name, probe).is_err();
    if let Ok(mut c) = cache.lock() {
        c.insert(name.to_string(), known);
    }
    known
}

/// Identifiers and functions an expression uses that the environment does not know.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UnknownNames {
    /// Variables that are not declared.
    pub variables: BTreeSet<String>,
    /// Functions that are not declared.
    pub functions: BTreeSet<String>,
}

/// Walks a compiled expression for names that are neither declared variables, variables bound
/// by a comprehension, type names, nor known functions.
pub fn unknown_names(expr: &IdedExpr, allowed_vars: &[&str]) -> UnknownNames {
    let mut out = UnknownNames::default();
    let mut bound: Vec<String> = Vec::new();
    walk(expr, allowed_vars, &mut bound, &mut out);
    out
}

fn walk(e: &IdedExpr, allowed: &[&str], bound: &mut Vec<String>, out: &mut UnknownNames) {
    match &e.expr {
        Expr::Ident(name) => {
            if !allowed.contains(&name.as_str())
                && !bound.iter().any(|b| b == name)
                && !TYPE_NAMES.contains(&name.as_str())
            {
                out.variables.insert(name.clone());
            }
        }
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let operator = name.starts_with('_') || name.starts_with('@') || name.starts_with('!');
            let namespaced = match call.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns)) if !bound.contains(ns) && !allowed.contains(&ns.as_str()) => {
                    is_known_function(&format!("{ns}.{name}"))
                }
                _ => false,
            };
            if !operator && !namespaced && !is_known_function(name) {
                out.functions.insert(name.to_string());
            }
            if !namespaced {
                if let Some(t) = &call.target {
                    walk(t, allowed, bound, out);
                }
            }
            for a in &call.args {
                walk(a, allowed, bound, out);
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, allowed, bound, out);
            walk(&c.accu_init, allowed, bound, out);
            let n = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            bound.push(c.accu_var.clone());
            walk(&c.loop_cond, allowed, bound, out);
            walk(&c.loop_step, allowed, bound, out);
            walk(&c.result, allowed, bound, out);
            bound.truncate(n);
        }
        Expr::List(l) => {
            for x in &l.elements {
                walk(x, allowed, bound, out);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    walk(&me.key, allowed, bound, out);
                    walk(&me.value, allowed, bound, out);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => walk(&f.value, allowed, bound, out),
                    EntryExpr::MapEntry(me) => walk(&me.value, allowed, bound, out),
                }
            }
        }
        Expr::Select(s) => walk(&s.operand, allowed, bound, out),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Renders a CEL value for a message: strings as they are, everything else as compact JSON.
pub fn display(v: &dyn Val) -> String {
    match to_json(v) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Converts a CEL value to JSON (maps keep their order when they come from a document).
pub fn to_json(v: &dyn Val) -> serde_json::Value {
    use serde_json::Value as J;
    if let Some(s) = v.downcast_ref::<CelString>() {
        return J::String(s.inner().to_string());
    }
    if let Some(i) = v.downcast_ref::<CelInt>() {
        return J::from(**i);
    }
    if let Some(u) = v.downcast_ref::<CelUInt>() {
        return J::from(**u);
    }
    if let Some(b) = v.downcast_ref::<CelBool>() {
        return J::Bool(**b);
    }
    if let Some(d) = v.downcast_ref::<CelDouble>() {
        return serde_json::Number::from_f64(**d).map_or(J::Null, J::Number);
    }
    if v.downcast_ref::<CelNull>().is_some() {
        return J::Null;
    }
    if let Some(m) = v.downcast_ref::<MapNode>() {
        return J::Object(
            m.iter()
                .map(|(k, e)| (k.to_string(), e.value.to_json()))
                .collect(),
        );
    }
    if let Some(l) = v.downcast_ref::<ListNode>() {
        return J::Array(l.items().iter().map(Node::to_json).collect());
    }
    match v.get_type().kind() {
        CelKind::List => {
            let mut out = Vec::new();
            if let Some(it) = v.as_iterable() {
                let mut it = it.iter();
                while let Some(x) = it.next() {
                    out.push(to_json(x));
                }
            }
            J::Array(out)
        }
        CelKind::Map => {
            let mut out = serde_json::Map::new();
            if let (Some(it), Some(ix)) = (v.as_iterable(), v.as_indexer()) {
                let mut it = it.iter();
                while let Some(k) = it.next() {
                    let value = ix.get(k).map(|x| to_json(x.as_ref())).unwrap_or(J::Null);
                    out.insert(display(k), value);
                }
            }
            J::Object(out)
        }
        _ => J::String(format!("{v:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Helper functions. Each receives its arguments as CEL values and returns one.

type Args<'b, 'v> = Vec<CowVal<'b, 'v>>;
type Ret<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// The map argument `i` (`None` when it is something else); an unresolved argument makes the
/// helper fail, so its result is unknown rather than empty.
fn arg_map<'a>(
    args: &'a [CowVal<'_, '_>],
    i: usize,
    f: &str,
) -> Result<Option<&'a MapNode>, ExecutionError> {
    let v = args
        .get(i)
        .ok_or_else(|| ExecutionError::function_error(f, "missing argument"))?;
    if crate::doc::reads::is_unresolved(v.as_ref()) {
        return Err(crate::doc::reads::error());
    }
    Ok(v.downcast_ref::<MapNode>())
}

fn arg_str<'a>(args: &'a [CowVal<'_, '_>], i: usize, f: &str) -> Result<&'a str, ExecutionError> {
    let v = args
        .get(i)
        .ok_or_else(|| ExecutionError::function_error(f, "missing argument"))?;
    v.downcast_ref::<CelString>()
        .map(|s| s.inner())
        .ok_or_else(|| {
            ExecutionError::function_error(
                f,
                format!("expected a string, got {}", v.get_type().name()),
            )
        })
}

/// A list of document nodes, as a document list: its items keep their spans and stay what they
/// are (an unknown value is still read as one).
fn list_of<'b, 'v>(nodes: Vec<Node>) -> Ret<'b, 'v> {
    Ok(CowVal::owned(ListNode::new(nodes, Span::default())))
}

fn bool_ret<'b, 'v>(b: bool) -> Ret<'b, 'v> {
    Ok(CowVal::owned(CelBool::from(b)))
}

/// The pod spec node of a Kubernetes workload, if it has one.
pub fn pod_spec_of(doc: &MapNode) -> Option<&Node> {
    let kind = doc.get("kind").and_then(Node::as_str)?;
    let spec = doc.get("spec")?;
    match kind {
        "Pod" => Some(spec),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => spec.get("template")?.get("spec"),
        "CronJob" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

fn pod_specs<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let specs = arg_map(&args, 0, "podSpecs")?
        .and_then(pod_spec_of)
        .filter(|s| s.as_map().is_some())
        .cloned()
        .into_iter()
        .collect();
    list_of(specs)
}

fn containers<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let mut out = Vec::new();
    if let Some(spec) = arg_map(&args, 0, "containers")?.and_then(pod_spec_of) {
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            if let Some(list) = spec.get(field).and_then(Node::as_list) {
                out.extend(
                    list.items()
                        .iter()
                        .filter(|n| n.as_map().is_some())
                        .cloned(),
                );
            }
        }
    }
    list_of(out)
}

fn map_values(m: Option<&Node>) -> Vec<Node> {
    m.and_then(Node::as_map)
        .map(|m| m.iter().map(|(_, e)| e.value.clone()).collect())
        .unwrap_or_default()
}

fn values<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let m = arg_map(&args, 0, "values")?;
    list_of(
        m.map(|m| m.iter().map(|(_, e)| e.value.clone()).collect())
            .unwrap_or_default(),
    )
}

fn statements<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let policy = arg_map(&args, 0, "statements")?;
    let found = match policy.and_then(|p| p.get("Statement")) {
        Some(Node {
            value: Value::List(l),
            ..
        }) => l
            .items()
            .iter()
            .filter(|n| n.as_map().is_some())
            .cloned()
            .collect(),
        Some(n) if n.as_map().is_some() => vec![n.clone()],
        _ => Vec::new(),
    };
    list_of(found)
}

fn jobs<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "jobs")?;
    let jobs = map_values(doc.and_then(|d| d.get("jobs")));
    list_of(jobs.into_iter().filter(|j| j.as_map().is_some()).collect())
}

fn steps<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "steps")?;
    let mut out = Vec::new();
    let mut push_steps = |holder: Option<&Node>| {
        if let Some(list) = holder.and_then(|h| h.get("steps")).and_then(Node::as_list) {
            out.extend(
                list.items()
                    .iter()
                    .filter(|n| n.as_map().is_some())
                    .cloned(),
            );
        }
    };
    if let Some(doc) = doc {
        for job in map_values(doc.get("jobs")) {
            push_steps(Some(&job));
        }
        push_steps(doc.get("runs"));
    }
    list_of(out)
}

fn services<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "services")?;
    let s = map_values(doc.and_then(|d| d.get("services")));
    list_of(s.into_iter().filter(|j| j.as_map().is_some()).collect())
}

/// Terraform resources of a type (`*` for all) in a module or plan document.
fn text_of(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Str(s) => Some(s.inner()),
        Value::Unknown(u) => Some(u.text()),
        _ => None,
    }
}

fn referrers<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "referrers")?;
    let item = arg_map(&args, 1, "referrers")?;
    let wanted = arg_str(&args, 2, "referrers")?;
    let attr = arg_str(&args, 3, "referrers")?;
    let (Some(doc), Some(item)) = (doc, item) else {
        return list_of(Vec::new());
    };
    let address = item.get("_address").and_then(text_of).unwrap_or("");
    let prefix = format!("{address}.");
    let names: Vec<&str> = ["bucket", "name", "id"]
        .iter()
        .filter_map(|k| item.get(k).and_then(Node::as_str))
        .collect();
    // Terraform only: a CloudFormation template has no `resource` block.
    let terraform = doc.get("resource").is_some();
    let hits = resource_nodes(doc)
        .filter(|(t, _)| terraform && (wanted == "*" || *t == Some(wanted)))
        .map(|(_, r)| r.clone())
        .filter(|r| {
            r.get(attr).and_then(text_of).is_some_and(|v| {
                (!address.is_empty() && (v.contains(&prefix) || v == address)) || names.contains(&v)
            })
        })
        .collect();
    list_of(hits)
}

fn resources<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "resources")?;
    let wanted = arg_str(&args, 1, "resources")?;
    list_of(
        doc.into_iter()
            .flat_map(resource_nodes)
            .filter(|(t, _)| wanted == "*" || *t == Some(wanted))
            .map(|(_, r)| r.clone())
            .collect(),
    )
}

/// The resources `resources(doc, …)` chooses from, with their types: a Terraform document's
/// `resource.<type>.<name>` maps, else a CloudFormation template's `Resources` maps (typed by
/// their `Type`, when it is a string).
pub fn resource_nodes(doc: &MapNode) -> Box<dyn Iterator<Item = (Option<&str>, &Node)> + '_> {
    if let Some(tf) = doc.get("resource") {
        let by_type = tf.as_map().into_iter().flat_map(|m| m.iter());
        return Box::new(by_type.flat_map(|(t, e)| {
            e.value
                .as_map()
                .into_iter()
                .flat_map(|m| m.iter())
                .filter(|(_, r)| r.value.as_map().is_some())
                .map(move |(_, r)| (Some(t), &r.value))
        }));
    }
    let all = doc.get("Resources").and_then(Node::as_map);
    Box::new(
        all.into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, r)| r.value.as_map().is_some())
            .map(|(_, r)| (r.value.get("Type").and_then(Node::as_str), &r.value)),
    )
}

/// Per-thread memo of `refsAt` for the document being evaluated. It holds that document, so
/// its address cannot be reused by another one while the memo lives.
type RefsCache = Option<(
    MapNode,
    std::collections::HashMap<(String, String), MapNode>,
)>;

thread_local! {
    static REFS_CACHE: std::cell::RefCell<RefsCache> = const { std::cell::RefCell::new(None) };
}

fn ref_target(n: &Node) -> Option<String> {
    if let Some(r) = n.get("Ref").and_then(Node::as_str) {
        return Some(r.to_string());
    }
    let att = n.get("Fn::GetAtt")?;
    match &att.value {
        Value::List(l) => l.items().first().and_then(Node::as_str).map(str::to_string),
        Value::Str(s) => s.inner().split('.').next().map(str::to_string),
        _ => None,
    }
}

fn refs_at<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let Some(doc) = arg_map(&args, 0, "refsAt")?.cloned() else {
        return Ok(CowVal::owned(MapBuilder::new().finish(Span::default())));
    };
    let wanted = arg_str(&args, 1, "refsAt")?.to_string();
    let path = arg_str(&args, 2, "refsAt")?.to_string();
    let cache_key = (wanted.clone(), path.clone());
    let hit = REFS_CACHE.with(|c| match &*c.borrow() {
        Some((d, memo)) if d.same(&doc) => memo.get(&cache_key).cloned(),
        _ => None,
    });
    if let Some(hit) = hit {
        return Ok(CowVal::owned(hit));
    }
    let mut b = MapBuilder::new();
    let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    for r in map_values(doc.get("Resources")) {
        if wanted != "*" && r.get("Type").and_then(Node::as_str) != Some(wanted.as_str()) {
            continue;
        }
        let mut nodes: Vec<&Node> = r.get("Properties").into_iter().collect();
        for seg in &segments {
            nodes = nodes
                .into_iter()
                .flat_map(|n| match &n.value {
                    Value::List(l) => l
                        .items()
                        .iter()
                        .filter_map(|i| i.get(seg))
                        .collect::<Vec<_>>(),
                    _ => n.get(seg).into_iter().collect(),
                })
                .collect();
        }
        for n in nodes {
            if let Some(t) = ref_target(n) {
                let truth = Node::new(Value::Bool(CelBool::from(true)), Span::default());
                b.insert(t, Span::default(), truth);
            }
        }
    }
    let result = b.finish(Span::default());
    REFS_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        match &mut *c {
            Some((d, memo)) if d.same(&doc) => {
                memo.insert(cache_key, result.clone());
            }
            _ => {
                let mut memo = std::collections::HashMap::new();
                memo.insert(cache_key, result.clone());
                *c = Some((doc.clone(), memo));
            }
        }
    });
    Ok(CowVal::owned(result))
}

fn glob_match<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let text = arg_str(&args, 0, "globMatch")?;
    let pattern = arg_str(&args, 1, "globMatch")?;
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map_err(|e| ExecutionError::function_error("globMatch", e))?;
    bool_ret(glob.compile_matcher().is_match(text))
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip, len.parse::<u8>().ok()?),
        None => (s, if s.contains(':') { 128 } else { 32 }),
    };
    let ip: IpAddr = ip.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn cidr_is_world<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let s = arg_str(&args, 0, "cidrIsWorld")?;
    bool_ret(parse_cidr(s).is_some_and(|(_, len)| len == 0))
}

fn ip_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn contains(cidr: (IpAddr, u8), ip: IpAddr) -> bool {
    let (net, width) = ip_bits(cidr.0);
    let (addr, w2) = ip_bits(ip);
    if width != w2 {
        return false;
    }
    let shift = u32::from(width - cidr.1);
    shift >= 128 || (net >> shift) == (addr >> shift)
}

fn cidr_contains<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let cidr = parse_cidr(arg_str(&args, 0, "cidrContains")?);
    let ip = parse_cidr(arg_str(&args, 1, "cidrContains")?);
    bool_ret(match (cidr, ip) {
        (Some(c), Some((ip, len))) => len >= c.1 && contains(c, ip),
        _ => false,
    })
}

fn cidr_is_private<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let Some(block) = parse_cidr(arg_str(&args, 0, "cidrIsPrivate")?) else {
        return bool_ret(false);
    };
    const PRIVATE: &[&str] = &[
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    ];
    bool_ret(
        PRIVATE
            .iter()
            .filter_map(|p| parse_cidr(p))
            .any(|p| block.1 >= p.1 && contains(p, block.0)),
    )
}

fn map_of<'b, 'v>(fields: &[(&str, Node)]) -> Ret<'b, 'v> {
    let mut b = MapBuilder::new();
    for (k, v) in fields {
        b.insert((*k).to_string(), Span::default(), v.clone());
    }
    Ok(CowVal::owned(b.finish(Span::default())))
}

fn s(text: &str) -> Node {
    Node::string(text, Span::default())
}

/// The parts of an OCI image reference.
#[derive(Debug, PartialEq, Eq, Default)]
pub struct ImageRef {
    /// Registry host, empty for Docker Hub.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, empty when absent.
    pub tag: String,
    /// Digest (`sha256:…`), empty when absent.
    pub digest: String,
}

/// Splits an image reference such as `ghcr.io/org/app:1.2@sha256:…`.
pub fn split_image(reference: &str) -> ImageRef {
    let reference = reference.trim();
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, d.to_string()),
        None => (reference, String::new()),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), path)
        }
        _ => (String::new(), rest),
    };
    let (repository, tag) = match path.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (path.to_string(), String::new()),
    };
    ImageRef {
        registry,
        repository,
        tag,
        digest,
    }
}

fn parse_image<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let r = split_image(arg_str(&args, 0, "parseImage")?);
    map_of(&[
        ("registry", s(&r.registry)),
        ("repository", s(&r.repository)),
        ("tag", s(&r.tag)),
        ("digest", s(&r.digest)),
    ])
}

fn version_parts(v: &str) -> Vec<u64> {
    let v = v
        .trim()
        .trim_start_matches(['v', 'V', '=', '~', '^', '>', '<', ' ']);
    let core = v.split(['-', '+']).next().unwrap_or("");
    core.split('.')
        .map(|p| p.trim().parse::<u64>().unwrap_or(0))
        .collect()
}

fn semver_compare<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let mut a = version_parts(arg_str(&args, 0, "semverCompare")?);
    let mut b = version_parts(arg_str(&args, 1, "semverCompare")?);
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    let ord = a.cmp(&b) as i64;
    Ok(CowVal::owned(CelInt::from(ord)))
}

fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn action_ref<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let uses = arg_str(&args, 0, "actionRef")?.trim();
    let pinned = |b: bool| Node::new(Value::Bool(CelBool::from(b)), Span::default());
    if uses.starts_with("./") || uses.starts_with("../") {
        return map_of(&[
            ("kind", s("local")),
            ("path", s(uses)),
            ("pinned", pinned(true)),
        ]);
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        let r = split_image(image);
        return map_of(&[
            ("kind", s("docker")),
            (
                "ref",
                s(if r.digest.is_empty() {
                    &r.tag
                } else {
                    &r.digest
                }),
            ),
            ("pinned", pinned(!r.digest.is_empty())),
        ]);
    }
    let (path, reference) = uses.split_once('@').unwrap_or((uses, ""));
    let mut parts = path.splitn(3, '/');
    let owner = parts.next().unwrap_or("");
    let repo = parts.next().unwrap_or("");
    let sub = parts.next().unwrap_or("");
    map_of(&[
        ("kind", s("remote")),
        ("owner", s(owner)),
        ("repo", s(repo)),
        ("path", s(sub)),
        ("ref", s(reference)),
        ("pinned", pinned(is_full_sha(reference))),
    ])
}

/// Whether a name suggests it holds a secret.
pub fn secret_name(name: &str) -> bool {
    // camelCase and PascalCase become snake_case: `DbSecretArn` → `db_secret_arn`.
    let mut n = String::with_capacity(name.len() + 8);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            n.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        n.push(c.to_ascii_lowercase());
    }
    let n = n.replace(['-', '.'], "_");
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "privatekey",
        "access_key",
        "accesskey",
        "credential",
        "client_secret",
        "auth_key",
        "connection_string",
        "conn_str",
    ];
    const NOT: &[&str] = &[
        "_file", "_path", "_ref", "_name", "_arn", "_id", "_length", "_ttl",
    ];
    WORDS.iter().any(|w| n.contains(w)) && !NOT.iter().any(|x| n.ends_with(x))
}

fn is_secret_name<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    bool_ret(secret_name(arg_str(&args, 0, "isSecretName")?))
}

/// `isUnknown(x)`: true for the unresolved value strict reading gives an unknown. (In the first,
/// lenient reading an unknown reads as its source text and this is false; any evaluation that
/// read an unknown is repeated strictly, and only that result counts.)
fn is_unknown<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let v = args
        .first()
        .ok_or_else(|| ExecutionError::function_error("isUnknown", "missing argument"))?;
    bool_ret(crate::doc::reads::is_unresolved(v.as_ref()))
}

/// `sourceText(x)`: the source text of an unresolved value, a string itself, else its display.
fn source_text<'b, 'v>(mut args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let v = args
        .pop()
        .ok_or_else(|| ExecutionError::function_error("sourceText", "missing argument"))?;
    if let Some(text) = crate::doc::reads::unresolved_text(v.as_ref()) {
        return Ok(CowVal::owned(CelString::from(text.to_string())));
    }
    if v.downcast_ref::<CelString>().is_some() {
        return Ok(v);
    }
    Ok(CowVal::owned(CelString::from(display(v.as_ref()))))
}

/// Whether a literal value looks like a credential.
pub fn secret_value(v: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"(?:^|[^A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?:$|[^A-Z0-9])",
            r"|gh[pousr]_[A-Za-z0-9]{36,}",
            r"|github_pat_[A-Za-z0-9_]{40,}",
            r"|xox[abpr]-[A-Za-z0-9-]{10,}",
            r"|-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY",
            r"|sk_live_[A-Za-z0-9]{16,}",
            r"|AIza[0-9A-Za-z_-]{35}",
            r"|glpat-[A-Za-z0-9_-]{20,}",
        ))
        .expect("secret patterns compile")
    });
    re.is_match(v)
}

fn looks_like_secret<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    bool_ret(secret_value(arg_str(&args, 0, "looksLikeSecret")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> cel::Value {
        let program = env().compile(expr).unwrap();
        let ctx = root_context();
        program.execute(&ctx).unwrap()
    }

    #[test]
    fn helpers_are_known_and_typos_are_not() {
        assert!(is_known_function("containers"));
        assert!(is_known_function("startsWith"));
        assert!(is_known_function("lowerAscii"));
        assert!(is_known_function("orValue"));
        assert!(!is_known_function("containerz"));
    }

    #[test]
    fn unknown_names_skip_comprehension_variables() {
        let p = env()
            .compile("item.ports.all(p, p.x > 1) && nope.y && frob(item) && optional.none() == optional.none()")
            .unwrap();
        let u = unknown_names(p.expression(), VARIABLES);
        assert_eq!(u.variables.into_iter().collect::<Vec<_>>(), ["nope"]);
        assert_eq!(u.functions.into_iter().collect::<Vec<_>>(), ["frob"]);
    }

    #[test]
    fn cidr_helpers() {
        assert_eq!(eval("cidrIsWorld('0.0.0.0/0')"), cel::Value::Bool(true));
        assert_eq!(eval("cidrIsWorld('::/0')"), cel::Value::Bool(true));
        assert_eq!(eval("cidrIsWorld('10.0.0.0/8')"), cel::Value::Bool(false));
        assert_eq!(
            eval("cidrContains('10.0.0.0/8', '10.1.2.3')"),
            cel::Value::Bool(true)
        );
        assert_eq!(
            eval("cidrIsPrivate('192.168.1.0/24')"),
            cel::Value::Bool(true)
        );
        assert_eq!(eval("cidrIsPrivate('8.8.8.0/24')"), cel::Value::Bool(false));
    }

    #[test]
    fn image_and_action_refs() {
        assert_eq!(
            split_image("ghcr.io/org/app:1.2@sha256:abc"),
            ImageRef {
                registry: "ghcr.io".into(),
                repository: "org/app".into(),
                tag: "1.2".into(),
                digest: "sha256:abc".into()
            }
        );
        assert_eq!(split_image("localhost:5000/x").registry, "localhost:5000");
        assert_eq!(split_image("nginx").tag, "");
        assert_eq!(
            eval("parseImage('nginx:1.25').tag"),
            cel::Value::from("1.25")
        );
        assert_eq!(
            eval("actionRef('actions/checkout@v4').pinned"),
            cel::Value::Bool(false)
        );
        assert_eq!(
            eval("actionRef('actions/checkout@0123456789abcdef0123456789abcdef01234567').pinned"),
            cel::Value::Bool(true)
        );
        assert_eq!(eval("actionRef('./local').kind"), cel::Value::from("local"));
    }

    #[test]
    fn matches_works_as_function_and_member() {
        assert_eq!(eval("'abc'.matches('^a.c$')"), cel::Value::Bool(true));
        assert_eq!(eval("matches('abc', 'x')"), cel::Value::Bool(false));
        let program = env().compile("'a'.matches('(')").unwrap();
        assert!(program.execute(&root_context()).is_err());
    }

    #[test]
    fn semver_and_glob() {
        assert_eq!(eval("semverCompare('v1.10.0', '1.9')"), cel::Value::Int(1));
        assert_eq!(eval("semverCompare('1.2', '1.2.0')"), cel::Value::Int(0));
        assert_eq!(
            eval("globMatch('a/b/c.pem', '**/*.pem')"),
            cel::Value::Bool(true)
        );
    }

    #[test]
    fn secrets() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("githubToken"));
        assert!(!secret_name("PASSWORD_FILE"));
        assert!(!secret_name("DbSecretArn"));
        assert!(!secret_name("TokenTtl"));
        assert!(secret_name("DbPassword"));
        assert!(!secret_name("LOG_LEVEL"));
        assert!(secret_value("AKIAIOSFODNN7EXAMPLE"));
        assert!(!secret_value("hello"));
    }
}
