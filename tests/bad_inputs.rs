//! Bad input never aborts a scan: each case puts one broken file (or rule, or config) beside a
//! good manifest, and checks the exact diagnostic (rule or notice, file, line), the exit code,
//! and that the good file's finding is still reported.

mod common;

use std::path::Path;

use common::*;

/// What a case must produce.
enum Expect {
    /// A finding of this rule at this file and line.
    Finding(&'static str, &'static str, u64),
    /// A notice mentioning this text for this file.
    Notice(&'static str, &'static str),
    /// A rule/config error at this file and line.
    ConfigError(&'static str, u64),
    /// A config error that stops the run before the scan: nothing on stdout, the file, line and
    /// column on stderr.
    ConfigStops(&'static str, u64),
    /// A rule run error for this rule and file.
    RuleError(&'static str, &'static str),
    /// Nothing besides the good file's finding.
    Nothing,
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    exit: i32,
    expect: Expect,
}

fn case(
    name: &'static str,
    path: &'static str,
    content: impl Into<Vec<u8>>,
    exit: i32,
    expect: Expect,
) -> Case {
    Case {
        name,
        files: vec![(path, content.into())],
        exit,
        expect,
    }
}

const BROKEN_RULE_BASE: &str = r#"title: Broken
severity: low
kinds: [kubernetes]
controls: [{id: "8.9", relation: supports, rationale: Used to test broken rule handling here.}]
assert: "true"
message: m
remediation: r
"#;

fn rule_case(name: &'static str, text: String, line: u64) -> Case {
    Case {
        name,
        files: vec![("rules/broken.yaml", text.into_bytes())],
        exit: 2,
        expect: Expect::ConfigError("rules/broken.yaml", line),
    }
}

fn cases() -> Vec<Case> {
    let deep_flow = "a: ".to_string() + &"[".repeat(10_000);
    let deep_block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let long_line = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: \"{}\"\n",
        "x".repeat(1_000_000)
    );
    let crlf = PRIVILEGED_POD.replace('\n', "\r\n");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(PRIVILEGED_POD.as_bytes());
    let mut bad_utf8 = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"".to_vec();
    bad_utf8.extend_from_slice(&[0xC3, 0x28, b'"', b'\n']);
    let mut nul = b"apiVersion: v1\n".to_vec();
    nul.extend_from_slice(&[0, 1, 2, 3]);
    vec![
        case("truncated flow mapping", "k8s/bad.yaml", "apiVersion: v1\nkind: Pod\nspec: {containers: [\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 4)),
        case("unclosed double quote", "k8s/bad.yaml", "a: 1\nb: \"never closed\nc: 2\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 2)),
        case("tab indentation", "k8s/bad.yaml", "a:\n\tb: 1\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 2)),
        case("bad indentation", "k8s/bad.yaml", "a:\n  b: 1\n c: 2\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 3)),
        case("duplicate keys", "k8s/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", 1, Expect::Finding("duplicate-key", "k8s/bad.yaml", 3)),
        case("BOM before a privileged pod", "k8s/bom.yaml", bom, 1, Expect::Finding("priv", "k8s/bom.yaml", 9)),
        case("CRLF line endings", "k8s/crlf.yaml", crlf, 1, Expect::Finding("priv", "k8s/crlf.yaml", 9)),
        case("invalid UTF-8", "k8s/bad.yaml", bad_utf8, 1, Expect::Finding("parse-error", "k8s/bad.yaml", 4)),
        case("NUL bytes", "k8s/bin.yaml", nul, 1, Expect::Notice("k8s/bin.yaml", "binary")),
        case("10,000-deep flow nesting", "k8s/bad.yaml", deep_flow, 1, Expect::Finding("parse-error", "k8s/bad.yaml", 1)),
        case("300-deep block nesting", "k8s/bad.yaml", deep_block, 1, Expect::Finding("parse-error", "k8s/bad.yaml", 201)),
        case("alias bomb", "k8s/bad.yaml", bomb, 1, Expect::Finding("parse-error", "k8s/bad.yaml", 6)),
        case("undefined alias", "k8s/bad.yaml", "a: 1\nb: *nope\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 2)),
        case("1 MB single line", "k8s/long.yaml", long_line, 1, Expect::Nothing),
        case("empty file", "k8s/empty.yaml", "", 1, Expect::Nothing),
        case("only comments", "k8s/comments.yaml", "# nothing here\n# at all\n", 1, Expect::Nothing),
        case("only document markers", "k8s/markers.yaml", "---\n---\n...\n", 1, Expect::Nothing),
        case("scalar document", "k8s/scalar.yaml", "just a string\n", 1, Expect::Nothing),
        case("list document", "k8s/list.yaml", "- a\n- b\n", 1, Expect::Nothing),
        case("second document broken", "k8s/bad.yaml", "a: 1\n---\nb: [\n", 1, Expect::Finding("parse-error", "k8s/bad.yaml", 4)),
        case("unknown tag", "k8s/tag.yaml", "a: !Whatever 1\n", 1, Expect::Nothing),
        case("spec is null", "k8s/null.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n", 1, Expect::Nothing),
        case("containers is a string", "k8s/odd.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: nope\n", 1, Expect::Nothing),
        case("container is a number", "k8s/odd.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [1, [2], null]\n", 1, Expect::Nothing),
        case("kind is not a string", "k8s/odd.yaml", "apiVersion: 1\nkind: [Pod]\n", 1, Expect::Nothing),
        case("merge key of a list", "k8s/merge.yaml", "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n", 1, Expect::Nothing),
        case("implicit key over YAML's 1024-character limit", "k8s/key.yaml", format!("{}: 1\n", "k".repeat(100_000)), 1, Expect::Finding("parse-error", "k8s/key.yaml", 1)),
        case("JSON truncated", "k8s/bad.json", "{\"apiVersion\": \"v1\",\n \"kind\": [1, 2\n", 1, Expect::Finding("parse-error", "k8s/bad.json", 3)),
        case("JSON with comments", "k8s/bad.json", "{\n  // no comments in JSON\n  \"a\": 1\n}\n", 1, Expect::Finding("parse-error", "k8s/bad.json", 2)),
        case("JSON unterminated string", "k8s/bad.json", "{\"a\": \"b}\n", 1, Expect::Finding("parse-error", "k8s/bad.json", 1)),
        case("JSON trailing garbage", "k8s/bad.json", "{\"a\": 1}\n{\"b\": 2} x\n", 1, Expect::Finding("parse-error", "k8s/bad.json", 2)),
        case("JSON privileged pod is judged", "k8s/pod.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"},\n \"spec\": {\"containers\": [\n  {\"name\": \"c\", \"securityContext\": {\"privileged\": true}}]}}\n", 1, Expect::Finding("priv", "k8s/pod.json", 3)),
        case("Kubernetes List with a broken item", "k8s/list.yaml", "apiVersion: v1\nkind: List\nitems:\n  - 42\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec:\n      containers:\n        - name: c\n          securityContext: {privileged: true}\n", 1, Expect::Finding("priv", "k8s/list.yaml", 11)),
        case("truncated HCL", "k8s/main.tf", "resource \"a\" \"b\" {\n  x = 1\n", 1, Expect::Finding("parse-error", "k8s/main.tf", 2)),
        case("invalid HCL expression", "k8s/main.tf", "resource \"a\" \"b\" {\n  x = @\n}\n", 1, Expect::Finding("parse-error", "k8s/main.tf", 2)),
        Case {
            name: "broken terraform.tfvars",
            files: vec![
                ("k8s/main.tf", b"variable \"x\" {}\n".to_vec()),
                ("k8s/terraform.tfvars", b"x = [\n".to_vec()),
            ],
            exit: 1,
            expect: Expect::Finding("parse-error", "k8s/terraform.tfvars", 1),
        },
        case("unknown Dockerfile instruction", "k8s/Dockerfile", "FROM alpine:3.20\nRUNN echo\n", 1, Expect::Finding("parse-error", "k8s/Dockerfile", 2)),
        case("unterminated heredoc", "k8s/Dockerfile", "FROM alpine:3.20\nRUN <<EOF\necho hi\n", 1, Expect::Finding("parse-error", "k8s/Dockerfile", 2)),
        case("FROM without an image", "k8s/Dockerfile", "FROM\n", 1, Expect::Finding("parse-error", "k8s/Dockerfile", 1)),
        case("FROM with extra words", "k8s/app.dockerfile", "FROM a b c\n", 1, Expect::Finding("parse-error", "k8s/app.dockerfile", 1)),
        case("Dockerfile with CRLF and continuations", "k8s/Dockerfile", "FROM alpine:3.20\r\nRUN apk add \\\r\n  curl\r\n", 1, Expect::Nothing),
        case("huge file over the size limit", "k8s/huge.yaml", vec![b'#'; 50 * 1024 * 1024], 1, Expect::Notice("k8s/huge.yaml", "limit")),
        rule_case("rule with a CEL syntax error", BROKEN_RULE_BASE.replace("assert: \"true\"", "assert: \"item.a ==\""), 5),
        rule_case("rule with an unknown function", BROKEN_RULE_BASE.replace("assert: \"true\"", "assert: \"frobnicate(item)\""), 5),
        rule_case("rule with an unknown variable", BROKEN_RULE_BASE.replace("assert: \"true\"", "assert: \"thing.x\""), 5),
        rule_case("rule file that is a list", "- title: x\n".to_string(), 1),
        rule_case("rule file that is not YAML", "title: [unclosed\n".to_string(), 2),
        rule_case("rule with an unknown kind", BROKEN_RULE_BASE.replace("[kubernetes]", "[helm]"), 3),
        rule_case("rule with a bad severity", BROKEN_RULE_BASE.replace("severity: low", "severity: urgent"), 2),
        rule_case("rule with an unknown field", BROKEN_RULE_BASE.replace("message: m", "message: m\nseverty: low"), 7),
        rule_case("rule with an unclosed template", BROKEN_RULE_BASE.replace("message: m", "message: \"x {{ item.name\""), 6),
        rule_case("rule with a bad at path", BROKEN_RULE_BASE.replace("message: m", "message: m\nat: a..b"), 7),
        rule_case("rule with an id differing from its file", format!("id: other\n{BROKEN_RULE_BASE}"), 1),
        rule_case("rule with an empty control list", BROKEN_RULE_BASE.replace("controls: [{id: \"8.9\", relation: supports, rationale: Used to test broken rule handling here.}]", "controls: []"), 1),
        Case {
            name: "duplicate rule id",
            files: vec![("rules/sub/priv.yaml", PRIVILEGED_RULE.as_bytes().to_vec())],
            exit: 2,
            expect: Expect::ConfigError("rules/sub/priv.yaml", 1),
        },
        Case {
            name: "rule erroring at run time on some documents",
            files: vec![
                ("rules/fragile.yaml", BROKEN_RULE_BASE.replace("assert: \"true\"", "assert: \"doc.metadata.labels.team != ''\"").into_bytes()),
            ],
            exit: 2,
            expect: Expect::RuleError("fragile", "k8s/good.yaml"),
        },
        Case {
            name: "config with an unknown key",
            files: vec![(".isms-lint.yaml", b"exclude: []\nwaivres: []\n".to_vec())],
            exit: 2,
            expect: Expect::ConfigStops(".isms-lint.yaml", 2),
        },
        Case {
            name: "config that is not YAML",
            files: vec![(".isms-lint.yaml", b"exclude: [\n".to_vec())],
            exit: 2,
            expect: Expect::ConfigStops(".isms-lint.yaml", 1),
        },
        Case {
            name: "config waiver with a bad date",
            files: vec![(".isms-lint.yaml", b"waivers:\n  - rule: priv\n    reason: x\n    expires: 31/12/2027\n".to_vec())],
            exit: 2,
            expect: Expect::ConfigStops(".isms-lint.yaml", 4),
        },
        Case {
            name: "config deciding an unknown control",
            files: vec![(".isms-lint.yaml", b"controls:\n  \"9.9\": {applicable: true}\n".to_vec())],
            exit: 2,
            expect: Expect::ConfigStops(".isms-lint.yaml", 2),
        },
    ]
}

fn write(dir: &Path, path: &str, content: &[u8]) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn run_case(c: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "rules/priv.yaml", PRIVILEGED_RULE.as_bytes());
    write(d, "k8s/good.yaml", PRIVILEGED_POD.as_bytes());
    for (p, content) in &c.files {
        write(d, p, content);
    }
    let o = run_in(
        d,
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    let code = o.status.code().unwrap_or(-1);
    if let Expect::ConfigStops(path, line) = c.expect {
        let stderr = String::from_utf8_lossy(&o.stderr);
        let at = format!("[{path}:{line}:");
        return if code == 2
            && o.stdout.is_empty()
            && stderr.contains(&at)
            && stderr.contains("nothing was scanned")
        {
            Ok(())
        } else {
            Err(format!(
                "exit {code}, expected 2 with nothing on stdout and {at} on stderr; stdout: {}; stderr: {stderr}",
                String::from_utf8_lossy(&o.stdout)
            ))
        };
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|e| {
        format!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    })?;
    if code != c.exit {
        return Err(format!("exit {code}, expected {}: {v}", c.exit));
    }
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let has = |rule: &str, path: &str, line: u64| {
        findings
            .iter()
            .any(|f| f["rule_id"] == rule && f["path"] == path && f["start"]["line"] == line)
    };
    if !has("priv", "k8s/good.yaml", 9) {
        return Err(format!("the good file's finding is missing: {v}"));
    }
    let ok = match &c.expect {
        Expect::Finding(rule, path, line) => has(rule, path, *line),
        Expect::Notice(path, text) => v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["path"] == *path && n["message"].as_str().unwrap_or("").contains(text)),
        Expect::ConfigError(path, line) => v["config_errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == *path && e["line"] == *line),
        Expect::RuleError(rule, path) => v["rule_errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule_id"] == *rule && e["path"] == *path),
        Expect::ConfigStops(..) => unreachable!("handled before the report is read"),
        Expect::Nothing => findings.len() == 1 && v["rule_errors"].as_array().unwrap().is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected diagnostic not found: {v}"))
    }
}

#[test]
fn bad_inputs_are_reported_and_never_abort_the_scan() {
    let cases = cases();
    assert!(cases.len() >= 50, "the suite has {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}: {e}", c.name)))
        .map(|e| e.chars().take(1500).collect())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_are_skipped_with_a_notice() {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/good.yaml", PRIVILEGED_POD),
    ]);
    let d = dir.path();
    std::os::unix::fs::symlink(d.join("k8s/b.yaml"), d.join("k8s/a.yaml")).unwrap();
    std::os::unix::fs::symlink(d.join("k8s/a.yaml"), d.join("k8s/b.yaml")).unwrap();
    std::os::unix::fs::symlink(d.join("k8s"), d.join("k8s/loop")).unwrap();
    let o = run_in(
        d,
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let notices: Vec<String> = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                n["path"].as_str().unwrap(),
                n["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("k8s/a.yaml symbolic link")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("k8s/b.yaml symbolic link")),
        "{notices:?}"
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_reported_when_permissions_apply() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/good.yaml", PRIVILEGED_POD),
        ("k8s/secret.yaml", "a: 1\n"),
    ]);
    let d = dir.path();
    let f = d.join("k8s/secret.yaml");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&f).is_ok() {
        // Running as root: permissions do not apply, the file is simply read.
        return;
    }
    let o = run_in(
        d,
        &[
            "scan",
            "k8s",
            "--no-default-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    assert!(v["notices"][0]["message"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}
