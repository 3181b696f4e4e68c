//! Secrets by tokens and values, shared by every secret rule of every family: a *name* is a
//! secret's name when one of its tokens (snake, kebab, camel or Pascal case) is a secret token
//! not followed by a metadata token (`password_rotation_duration`, `db_secret_arn` and
//! `passwordPattern` name settings about a secret, not a secret); a *value* is a secret only when
//! it is a literal (not a reference, placeholder, empty or boolean); and values in a known
//! credential format (cloud access keys, GitHub/GitLab/Slack tokens, private key blocks, JWTs,
//! URLs with a password) are secrets whatever their name.

use std::sync::OnceLock;

use cel::common::types::{CelInt, CelString};
use cel::ExecutionError;

use super::args::{arg_str, bool_ret, Args, Ret};
use super::{Helper, HelperGate};

/// The secret helpers.
pub const HELPERS: &[Helper] = &[
    Helper { name: "isSecretName", signature: "isSecretName(name) -> bool", doc: "Whether a variable or key name names a secret: one of its tokens (split on `_`, `-`, `.`, `/` and camelCase) is a secret token (`password`, `passwd`, `secret`, `token`, `apikey`, `api_key`, `private_key`, `access_key`, `credentials`…) that no metadata token follows (`arn`, `id`, `name(s)`, `path`, `file`, `ref`, `version`, `rotation`, `duration`, `interval`, `length`, `policy`, `kms`, `pattern`, `url`, `enabled`…), and it does not start with a flag word (`enable_`, `create_`, `min_`…). `secrets` (plural) names a list of secret references (`imagePullSecrets`), not a secret.", arity: 1, function: is_secret_name, gate: HelperGate::None },
    Helper { name: "looksLikeSecret", signature: "looksLikeSecret(value) -> bool", doc: "Whether a value is in a known credential format, whatever its name: AWS access keys, GitHub, GitLab and Slack tokens, Stripe and Google API keys, private key blocks, JWTs, URLs with a password.", arity: 1, function: looks_like_secret, gate: HelperGate::None },
    Helper { name: "isSecretLiteral", signature: "isSecretLiteral(name, value) -> bool", doc: "Whether `name: value` writes a secret literally: the value is a literal (not a value known only at deployment, not a reference or placeholder such as `${X}`, `$(X)`, `{{ x }}`, `<X>`, `{{resolve:…}}`, not empty, not a boolean, a number of seconds, a version, a path or a URL without a password, not a dummy such as `changeme`) and either `looksLikeSecret(value)` or `isSecretName(name)`. The one test every literal-secret rule uses.", arity: 2, function: is_secret_literal, gate: HelperGate::None },
];

/// The tokens of a name: split on anything that is not a letter or digit and at camelCase
/// boundaries (`DbSecretArn` → `db secret arn`, `KMSKey` → `kms key`), lower-cased.
pub fn tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // `dbSecret` | `DB2Secret` | `KMSKey` (the last capital of an acronym starts a word).
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Single tokens that name a secret.
const SECRET_TOKENS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "authkey",
    "credential",
    "credentials",
    "connectionstring",
    "connstr",
];

/// Two-token secret names (`api_key`, `private_key`…): the second token counts as the secret
/// token when it follows the first.
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("auth", "key"),
    ("connection", "string"),
    ("conn", "str"),
];

/// Tokens that, after a secret token, make the name a setting *about* a secret.
const METADATA_TOKENS: &[&str] = &[
    "arn",
    "arns",
    "id",
    "ids",
    "name",
    "names",
    "path",
    "paths",
    "file",
    "files",
    "ref",
    "refs",
    "reference",
    "version",
    "versions",
    "rotation",
    "schedule",
    "duration",
    "interval",
    "length",
    "policy",
    "policies",
    "config",
    "configuration",
    "kms",
    "pattern",
    "regex",
    "title",
    "summary",
    "description",
    "url",
    "urls",
    "uri",
    "endpoint",
    "enabled",
    "disabled",
    "type",
    "mode",
    "count",
    "ttl",
    "seconds",
    "minutes",
    "hours",
    "days",
    "age",
    "expiry",
    "expiration",
    "timeout",
    "prefix",
    "suffix",
    "location",
    "store",
    "manager",
    "provider",
    "source",
    "mount",
    "dir",
    "template",
    "format",
    "label",
    "field",
    "header",
    "hint",
    "prompt",
    "placeholder",
    "complexity",
    "strength",
    "reuse",
    "required",
    "authentication",
    "hash",
    "digest",
    "env",
    "var",
    "variable",
    "min",
    "max",
    "minimum",
    "maximum",
];

/// First tokens that make the name a switch or a bound (`enable_password_auth`, `min_token`).
const FLAG_TOKENS: &[&str] = &[
    "enable", "enabled", "disable", "disabled", "create", "manage", "use", "generate", "rotate",
    "is", "has", "allow", "require", "skip", "min", "max", "minimum", "maximum", "should",
];

/// Whether a name names a secret (see the module documentation).
pub fn secret_name(name: &str) -> bool {
    let t = tokens(name);
    if t.first().is_some_and(|f| FLAG_TOKENS.contains(&f.as_str())) {
        return false;
    }
    let is_secret = |i: usize| {
        SECRET_TOKENS.contains(&t[i].as_str())
            || (i > 0
                && SECRET_PAIRS
                    .iter()
                    .any(|(a, b)| t[i - 1] == *a && t[i] == *b))
    };
    // The last secret token decides: the name is a secret unless a metadata token follows it.
    let Some(last) = (0..t.len()).rev().find(|&i| is_secret(i)) else {
        return false;
    };
    !t[last + 1..]
        .iter()
        .any(|x| METADATA_TOKENS.contains(&x.as_str()))
}

/// Whether a value is in a known credential format.
pub fn secret_value(v: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"(?:^|[^A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?:$|[^A-Z0-9])",
            r"|gh[pousr]_[A-Za-z0-9]{36,}",
            r"|github_pat_[A-Za-z0-9_]{40,}",
            r"|glpat-[A-Za-z0-9_-]{20,}",
            r"|xox[abposr]-[A-Za-z0-9-]{10,}",
            r"|xapp-[0-9]-[A-Za-z0-9-]{10,}",
            r"|hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
            r"|-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----",
            r"|sk_live_[A-Za-z0-9]{16,}",
            r"|AIza[0-9A-Za-z_-]{35}",
            r"|(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        ))
        .expect("secret patterns compile")
    });
    re.is_match(v) || url_password(v).is_some_and(|p| !is_placeholder(p))
}

/// The password of a `scheme://user:password@host` URL in the text, if any.
fn url_password(v: &str) -> Option<&str> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]+:([^/@\s]+)@")
            .expect("URL pattern compiles")
    });
    re.captures(v).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Whether the text is, or contains, a reference or a template placeholder: `${X}`, `$X`,
/// `$(X)`, `{{ x }}`, `<X>`, `%X%`, a CloudFormation `{{resolve:…}}`, a GitHub `${{ … }}`.
pub fn is_placeholder(v: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"\$\{|\$\(|\$[A-Za-z_]|\{\{|<[A-Za-z_][A-Za-z0-9_ .-]*>|%[A-Za-z_]+%")
            .expect("placeholder pattern compiles")
    });
    re.is_match(v)
}

/// Literal values that are not secrets even under a secret's name.
fn trivial(v: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"(?i)^(?:true|false|yes|no|on|off|y|n|none|null|nil|enabled|disabled|required|optional",
            r"|changeme|change[_-]?me|replace[_-]?me|example|dummy|fake|redacted|todo|tbd|xxx+|\*+)$",
            r"|^[0-9]+[smhd]$",
            r"|^v?[0-9]+(?:\.[0-9]+)+$",
            r"|^[/~]",
            r"|^[a-z][a-z0-9+.-]*://[^@\s]*$",
        ))
        .expect("trivial pattern compiles")
    });
    re.is_match(v.trim())
}

/// Whether `name: value` writes a secret literally (`value` already known to be a literal
/// string).
pub fn secret_literal(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return false;
    }
    if secret_value(v) {
        return true;
    }
    secret_name(name) && !is_placeholder(v) && !trivial(v)
}

fn is_secret_name<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    bool_ret(secret_name(arg_str(&args, 0, "isSecretName")?))
}

fn looks_like_secret<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    bool_ret(secret_value(arg_str(&args, 0, "looksLikeSecret")?))
}

/// `isSecretLiteral(name, value)`: a value known only at deployment is not a literal (decided,
/// not unknown); a string is judged, a number by its name (`REDIS_PASSWORD: 123456`); anything
/// else (null, a boolean, a list, a map) is not a literal secret.
fn is_secret_literal<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let value = args
        .get(1)
        .ok_or_else(|| ExecutionError::function_error("isSecretLiteral", "missing argument"))?;
    if crate::doc::reads::is_unresolved(value.as_ref()) {
        return bool_ret(false);
    }
    let text = match (
        value.downcast_ref::<CelString>(),
        value.downcast_ref::<CelInt>(),
    ) {
        (Some(s), _) => s.inner().to_string(),
        (None, Some(i)) => i.inner().to_string(),
        _ => return bool_ret(false),
    };
    if secret_value(&text) {
        return bool_ret(true);
    }
    let name = arg_str(&args, 0, "isSecretLiteral")?;
    bool_ret(secret_literal(name, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_tokens() {
        assert_eq!(tokens("DbSecretArn"), ["db", "secret", "arn"]);
        assert_eq!(
            tokens("RdsCredentialsSecretsKMSKey"),
            ["rds", "credentials", "secrets", "kms", "key"]
        );
        assert_eq!(
            tokens("GH_AW_SECRET_NAMES"),
            ["gh", "aw", "secret", "names"]
        );
        assert_eq!(tokens("x-api-key"), ["x", "api", "key"]);
        assert_eq!(tokens("APIKey"), ["api", "key"]);
        assert_eq!(tokens("passwordPattern"), ["password", "pattern"]);
        assert_eq!(tokens("OAuth2Token"), ["o", "auth2", "token"]);
    }

    #[test]
    fn settings_about_secrets_are_not_secrets() {
        for name in [
            "password_rotation_duration",
            "secret_rotation_interval",
            "image_pull_secrets",
            "imagePullSecrets",
            "db_instance_master_user_secret_arn",
            "RdsCredentialsSecretsKMSKey",
            "GH_AW_SECRET_NAMES",
            "passwordPattern",
            "AWS_ACCESS_KEY_ID",
            "secret_name",
            "password_min_length",
            "minimum_password_length",
            "enable_password_auth",
            "create_random_password",
            "disable_password_authentication",
            "token_url",
            "kms_key_id",
            "monkey",
            "tokenizer",
            "region",
        ] {
            assert!(!secret_name(name), "{name} is not a secret's name");
        }
    }

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "DB_PASSWORD",
            "master_password",
            "MasterUserPassword",
            "client_secret",
            "GITHUB_TOKEN",
            "apiKey",
            "x-api-key",
            "API_KEY",
            "private_key",
            "secret_access_key",
            "AWS_SECRET_ACCESS_KEY",
            "aws_credentials",
            "passphrase",
            "SecretKey",
            "connection_string",
        ] {
            assert!(secret_name(name), "{name} names a secret");
        }
    }

    #[test]
    fn credential_formats_by_value() {
        for v in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS",
            "glpat-abcdefghij0123456789",
            "xoxb-123456789012-abcdefghijkl",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "postgres://app:s3cr3t@db:5432/app",
        ] {
            assert!(secret_value(v), "{v}");
            assert!(secret_literal("ANY_NAME", v), "{v} whatever the name");
        }
        for v in [
            "postgres://app:${DB_PASSWORD}@db/app",
            "https://example.com/a",
            "AKIA",
            "-----BEGIN PUBLIC KEY-----",
            "eyJhbGciOiJIUzI1NiJ9",
        ] {
            assert!(!secret_value(v), "{v}");
        }
    }

    #[test]
    fn only_literals_are_secret_values() {
        assert!(secret_literal("DB_PASSWORD", "hunter2-s3cret"));
        for v in [
            "",
            "  ",
            "${DB_PASSWORD}",
            "$(DB_PASSWORD)",
            "$DB_PASSWORD",
            "{{ .Values.password }}",
            "${{ secrets.TOKEN }}",
            "{{resolve:secretsmanager:db:SecretString:password}}",
            "<YOUR_PASSWORD>",
            "true",
            "False",
            "yes",
            "changeme",
            "30s",
            "1.2.3",
            "/run/secrets/db",
            "https://vault.example.com/v1/secret",
        ] {
            assert!(!secret_literal("DB_PASSWORD", v), "{v:?}");
        }
        assert!(!secret_literal("GREETING", "hunter2-s3cret"));
    }
}
