//! The helpers every input kind shares: map values, policy statements, glob and CIDR tests, image
//! references, version comparison, secret names and values, unknown values, and a `matches`
//! that compiles each regular expression once per thread.

use std::net::IpAddr;
use std::sync::OnceLock;

use cel::common::types::{CelInt, CelString};
use cel::common::value::CowVal;
use cel::ExecutionError;

use super::args::{arg_map, arg_str, bool_ret, list_of, map_of, s, Args, Ret};
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
    Helper { name: "parseImage", signature: "parseImage(ref) -> map", doc: "Splits an OCI image reference into `registry`, `repository`, `tag` and `digest` (empty strings when absent).", arity: 1, function: parse_image, gate: HelperGate::None },
    Helper { name: "semverCompare", signature: "semverCompare(a, b) -> int", doc: "Compares two versions (leading `v` allowed): -1, 0 or 1.", arity: 2, function: semver_compare, gate: HelperGate::None },
    Helper { name: "isSecretName", signature: "isSecretName(name) -> bool", doc: "Whether a variable or key name suggests a secret (password, token, api key, private key…).", arity: 1, function: is_secret_name, gate: HelperGate::None },
    Helper { name: "looksLikeSecret", signature: "looksLikeSecret(value) -> bool", doc: "Whether a literal value looks like a credential (cloud keys, tokens, private keys).", arity: 1, function: looks_like_secret, gate: HelperGate::None },
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
