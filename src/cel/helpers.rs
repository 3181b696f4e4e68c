//! The helpers every input kind shares: map values, policy statements, glob and CIDR tests, image
//! references, version comparison, unknown values, and a `matches`
//! that compiles each regular expression once per thread.

use std::net::IpAddr;

use cel::common::types::{CelBool, CelInt, CelString, CelUInt, Kind as CelKind};
use cel::common::value::{CowVal, Val};
use cel::ExecutionError;

use super::args::{arg_map, arg_str, bool_ret, charge, list_of, map_of, s, Args, Ret};
use super::values::display;
use super::{Helper, HelperGate};
use crate::doc::image::split_image;
use crate::doc::{Node, Value};

/// The generic helpers.
pub const GENERIC: &[Helper] = &[
    Helper { name: "values", signature: "values(map) -> list", doc: "The values of a map, in source order (keeps their source locations).", arity: 1, function: values, gate: HelperGate::None },
    Helper { name: "statements", signature: "statements(policy) -> list<map>", doc: "The statements of a JSON policy document (its `Statement`, a list or a single map); empty for anything else. Terraform `jsonencode(...)` policies and JSON heredocs are structures, so their statements keep their lines.", arity: 1, function: statements, gate: HelperGate::None },
    Helper { name: "globMatch", signature: "globMatch(text, pattern) -> bool", doc: "Shell-style glob match (`*`, `**`, `?`, `[abc]`, `{a,b}`).", arity: 2, function: glob_match, gate: HelperGate::None },
    Helper { name: "cidrIsWorld", signature: "cidrIsWorld(cidr) -> bool", doc: "True for `0.0.0.0/0` and `::/0`: open to the whole internet.", arity: 1, function: cidr_is_world, gate: HelperGate::None },
    Helper { name: "cidrContains", signature: "cidrContains(cidr, ip) -> bool", doc: "Whether the CIDR block contains the IP address.", arity: 2, function: cidr_contains, gate: HelperGate::None },
    Helper { name: "cidrIsPrivate", signature: "cidrIsPrivate(cidr) -> bool", doc: "Whether the whole block lies in private, loopback or link-local ranges.", arity: 1, function: cidr_is_private, gate: HelperGate::None },
    Helper { name: "scalar", signature: "scalar(value) -> string", doc: "A scalar as text, the way `string()` writes it (`1.2`, `true`, `443`); `\"\"` for null, a list or a map, where `string()` would fail. A value not known before deployment stays unknown.", arity: 1, function: scalar, gate: HelperGate::None },
    Helper { name: "portInSpec", signature: "portInSpec(spec, port) -> bool", doc: "Whether a port (`22`) or a whole range (`'1-65535'`) lies inside a firewall port spec: a number, `'22'`, a range `'3000-4000'`, `'*'` or `'any'`, a comma list `'22,3389'`, or a list of these. Parts that are not ports match nothing; a part not known before deployment makes the result unknown unless a known part covers the port.", arity: 2, function: port_in_spec, gate: HelperGate::None },
    Helper { name: "parseImage", signature: "parseImage(ref) -> map", doc: "Splits an OCI image reference into `registry`, `repository`, `tag` and `digest` (empty strings when absent).", arity: 1, function: parse_image, gate: HelperGate::None },
    Helper { name: "semverCompare", signature: "semverCompare(a, b) -> int", doc: "Compares two versions (leading `v` allowed): -1, 0 or 1.", arity: 2, function: semver_compare, gate: HelperGate::None },
    Helper { name: "isUnknown", signature: "isUnknown(value) -> bool", doc: "Whether the value is not known before deployment (an unresolved variable, `each.value`, a function call, `!ImportValue`…): such a value is not written literally in the file. Every other use of an unknown value makes the verdict unknown.", arity: 1, function: is_unknown, gate: HelperGate::None },
    Helper { name: "sourceText", signature: "sourceText(value) -> string", doc: "The value as written: the source text of a value not known before deployment (`var.token`, `nonsensitive(var.x)`, `!Ref Password`), or the value itself as text. Reading it never makes a verdict unknown: use it to judge how a value is written.", arity: 1, function: source_text, gate: HelperGate::None },
];

/// `matches`, registered in place of the standard one (which compiles its pattern on every
/// call), as a function and as a string method.
pub const MATCHES: Helper = Helper {
    name: "matches",
    signature: "text.matches(regex) -> bool",
    doc: "RE2 match, anywhere in the text unless anchored.",
    arity: 2,
    function: matches,
    gate: HelperGate::None,
};

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

/// What rule compilation makes of a call's literal arguments ([`cel::compiled::Specializer`]):
/// `matches` with a literal pattern (`x.matches('^a')`, `matches(x, '^a')`) checks its regular
/// expression when the rule loads (an invalid one is a load-time error at the rule's line) and
/// builds it once, when the call first runs, so rules that never reach the call do not pay for
/// building it. Other calls run their overload.
pub fn specialize(
    name: &str,
    _member: bool,
    literals: &[Option<&cel::common::ast::LiteralValue>],
) -> Result<Option<cel::compiled::Special>, String> {
    use cel::common::ast::LiteralValue;
    let (MATCHES_NAME, [_, Some(LiteralValue::String(pattern))]) = (name, literals) else {
        return Ok(None);
    };
    let pattern = pattern.inner().to_string();
    regex_syntax::Parser::new()
        .parse(&pattern)
        .map_err(|e| format!("'{pattern}' is not a valid regular expression: {e}"))?;
    let built: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    Ok(Some(std::sync::Arc::new(move |args| {
        // A text that is not a string, or a pattern too large to build: the overload says what
        // is wrong, as without this.
        let text = args.first()?.downcast_ref::<CelString>()?;
        let re = built
            .get_or_init(|| regex::Regex::new(&pattern).ok())
            .as_ref()?;
        Some(Ok(Box::new(CelBool::from(re.is_match(text.inner())))))
    })))
}

const MATCHES_NAME: &str = "matches";

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
        }) => {
            charge(l.items().len())?;
            l.items()
                .iter()
                .filter(|n| n.as_map().is_some())
                .cloned()
                .collect()
        }
        Some(n) if n.as_map().is_some() => vec![n.clone()],
        _ => Vec::new(),
    };
    list_of(found)
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

/// `scalar(x)`: text of a scalar, empty for null and containers; an unresolved value fails.
fn scalar<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let v = args
        .first()
        .ok_or_else(|| ExecutionError::function_error("scalar", "missing argument"))?;
    if crate::doc::reads::is_unresolved(v.as_ref()) {
        return Err(crate::doc::reads::error());
    }
    let text = match v.get_type().kind() {
        CelKind::String | CelKind::Int | CelKind::UInt | CelKind::Double | CelKind::Boolean => {
            display(v.as_ref())
        }
        _ => String::new(),
    };
    Ok(CowVal::owned(CelString::from(text)))
}

/// One part of a port spec (`22`, `3000-4000`, `*`, `any`) as an inclusive range.
fn port_part(part: &str) -> Option<(u32, u32)> {
    let part = part.trim();
    if part == "*" || part.eq_ignore_ascii_case("any") {
        return Some((0, 65535));
    }
    let (lo, hi) = part.split_once('-').unwrap_or((part, part));
    let (lo, hi) = (
        lo.trim().parse::<u32>().ok()?,
        hi.trim().parse::<u32>().ok()?,
    );
    (lo <= hi && hi <= 65535).then_some((lo, hi))
}

/// The port ranges a spec value stands for: numbers, strings (comma lists of parts) and lists of
/// them. Returns whether some part is not known before deployment (an unresolved value).
fn port_ranges(v: &dyn Val, out: &mut Vec<(u32, u32)>) -> bool {
    if crate::doc::reads::is_unresolved(v) {
        return true;
    }
    let port = |n: Option<u32>| n.filter(|p| *p <= 65535).map(|p| (p, p));
    if let Some(s) = v.downcast_ref::<CelString>() {
        out.extend(s.inner().split(',').filter_map(port_part));
    } else if let Some(i) = v.downcast_ref::<CelInt>() {
        out.extend(port(u32::try_from(**i).ok()));
    } else if let Some(u) = v.downcast_ref::<CelUInt>() {
        out.extend(port(u32::try_from(**u).ok()));
    } else if v.get_type().kind() == CelKind::List {
        let mut unknown = false;
        if let Some(it) = v.as_iterable() {
            let mut it = it.iter();
            while let Some(x) = it.next() {
                unknown |= port_ranges(x, out);
            }
        }
        return unknown;
    }
    false
}

/// `portInSpec(spec, port)`: a known part that covers the port decides; otherwise a part not
/// known before deployment makes the result unknown.
fn port_in_spec<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let (Some(spec), Some(port)) = (args.first(), args.get(1)) else {
        return Err(ExecutionError::function_error(
            "portInSpec",
            "missing argument",
        ));
    };
    let mut wanted = Vec::new();
    if port_ranges(port.as_ref(), &mut wanted) {
        return Err(crate::doc::reads::error());
    }
    let [(lo, hi)] = wanted[..] else {
        return Err(ExecutionError::function_error(
            "portInSpec",
            "the port must be one number or one range such as '1-65535'",
        ));
    };
    let mut ranges = Vec::new();
    let unknown = port_ranges(spec.as_ref(), &mut ranges);
    if ranges.iter().any(|&(a, b)| a <= lo && hi <= b) {
        bool_ret(true)
    } else if unknown {
        Err(crate::doc::reads::error())
    } else {
        bool_ret(false)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::env::{env, root_context};
    use cel::common::types::{CelBool, CelList};

    fn eval(expr: &str) -> cel::Value {
        let program = env().compile(expr).unwrap();
        program.execute(&root_context()).unwrap()
    }

    #[test]
    fn scalars_as_text() {
        for (expr, want) in [
            ("scalar('a')", "a"),
            ("scalar(1.2)", "1.2"),
            ("scalar(443)", "443"),
            ("scalar(true)", "true"),
            ("scalar(null)", ""),
            ("scalar([1])", ""),
            ("scalar({'a': 1})", ""),
        ] {
            assert_eq!(eval(expr), cel::Value::from(want), "{expr}");
        }
    }

    #[test]
    fn port_specs() {
        for (expr, want) in [
            ("portInSpec('22', 22)", true),
            ("portInSpec(22, 22)", true),
            ("portInSpec('3000-4000', 3389)", true),
            ("portInSpec('3000-4000', 22)", false),
            ("portInSpec('*', 3389)", true),
            ("portInSpec('Any', 1)", true),
            ("portInSpec('80, 22', 22)", true),
            ("portInSpec(['80', '443'], 22)", false),
            ("portInSpec(['80', '20-23'], 22)", true),
            ("portInSpec(['var.ports'], 22)", false),
            ("portInSpec(null, 22)", false),
            ("portInSpec('0-65535', '1-65535')", true),
            ("portInSpec('1-1024,1025-65535', '1-65535')", false),
            ("portInSpec('*', '1-65535')", true),
            ("portInSpec('70000', 22)", false),
        ] {
            assert_eq!(eval(expr), cel::Value::Bool(want), "{expr}");
        }
        let program = env().compile("portInSpec('22', 'x')").unwrap();
        assert!(program.execute(&root_context()).is_err());
        // Three-valued: a known part that covers the port decides, else an unknown part is unknown.
        let unknown =
            || -> Box<dyn Val> { Box::new(crate::doc::reads::Unresolved::new("var.port")) };
        let list = |items: Vec<Box<dyn Val>>| CowVal::owned(CelList::from(items));
        let port = || CowVal::owned(CelInt::from(22));
        let covered = port_in_spec(vec![
            list(vec![unknown(), Box::new(CelString::from("20-23"))]),
            port(),
        ]);
        assert!(covered.is_ok_and(|v| v.downcast_ref::<CelBool>().is_some_and(|b| **b)));
        assert!(port_in_spec(vec![
            list(vec![unknown(), Box::new(CelString::from("443"))]),
            port()
        ])
        .is_err());
        assert!(port_in_spec(vec![
            list(vec![Box::new(CelString::from("443"))]),
            CowVal::owned(crate::doc::reads::Unresolved::new("var.p"))
        ])
        .is_err());
    }
}
