//! The one CEL environment every rule is compiled against: the standard library, the strings,
//! lists and math extensions, and every helper the inputs and [`crate::cel::helpers`] add (the
//! registry lists them once).

use std::sync::{Arc, OnceLock};

use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::{extensions, Context, Env};

use crate::cel::{helpers, strict, Helper};
use crate::inputs;

/// The shared environment.
pub fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(build_env()))
}

fn register(env: &mut Env, h: &Helper) {
    env.add_overload(
        h.name,
        &format!("{}_isms", h.name),
        (0..h.arity).map(|_| DYN_TYPE).collect(),
        h.function,
    )
    .expect("helper names are unique");
}

fn build_env() -> Env {
    let mut env = Env::stdlib();
    env.add_extension(extensions::strings)
        .expect("strings extension registers once");
    env.add_extension(extensions::lists)
        .expect("lists extension registers once");
    env.add_extension(extensions::math)
        .expect("math extension registers once");
    for h in inputs::all_helpers().chain(strict::FUNCTIONS) {
        register(&mut env, h);
    }
    // `matches` with a per-thread cache of compiled expressions (the standard one compiles the
    // regular expression on every call, which dominated evaluation time).
    let m = &helpers::MATCHES;
    env.add_overload(m.name, m.name, vec![STRING_TYPE, STRING_TYPE], m.function)
        .expect("matches is registered once");
    env.add_member_overload(
        m.name,
        "string_matches",
        STRING_TYPE,
        vec![STRING_TYPE],
        m.function,
    )
    .expect("matches is registered once");
    env
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cel::secrets::{secret_name, secret_value};
    use crate::cel::{unknown_names, VARIABLES};
    use crate::doc::image::{split_image, ImageRef};

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
        let u = unknown_names(p.expression(), VARIABLES, &is_known_function);
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
