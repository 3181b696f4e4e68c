use cel::Value as CelValue;
#[test]
fn scratch() {
    let exprs = std::fs::read_to_string("/tmp/exprs.txt").unwrap();
    let ctx = isms_lint::cel_env::root_context();
    for e in exprs.lines().filter(|l| !l.trim().is_empty()) {
        let p = match isms_lint::cel_env::env().compile(e) {
            Ok(p) => p,
            Err(err) => {
                println!("{e}  => COMPILE {err}");
                continue;
            }
        };
        match CelValue::resolve_val(p.expression(), &ctx) {
            Ok(v) => println!("{e}  => {}", isms_lint::cel_env::display(v.as_ref())),
            Err(err) => println!("{e}  => ERR {err}"),
        }
    }
}
