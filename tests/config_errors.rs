//! A config with an unknown key or a bad value stops every scanning command before it reads a
//! file, on stderr, with the file, line, column and a "did you mean"; and whenever the exit
//! code is 2 the text summary ends in `ERROR`.

mod common;

use std::path::Path;

use common::*;

fn setup(config: &str) -> tempfile::TempDir {
    tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
        (".isms-lint.yaml", config),
    ])
}

const RULES: [&str; 3] = ["--no-default-rules", "--rules", "rules"];

fn with_rules<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&RULES);
    v
}

#[test]
fn an_unknown_key_stops_every_scanning_command_before_the_scan() {
    let dir = setup("exclude: [vendor]\nwaivres:\n  - rule: priv\n");
    let d = dir.path();
    let commands: [(&str, Vec<&str>, &str); 5] = [
        ("scan", with_rules(&["scan", "."]), ""),
        (
            "scan sarif",
            with_rules(&["scan", ".", "--format", "sarif", "-o", "out.sarif"]),
            "out.sarif",
        ),
        ("soa", with_rules(&["soa", "."]), ""),
        (
            "evidence",
            with_rules(&["evidence", ".", "--out", "bundle"]),
            "bundle",
        ),
        (
            "baseline",
            with_rules(&["baseline", ".", "-o", "base.json"]),
            "base.json",
        ),
    ];
    for (name, args, written) in commands {
        let (code, stdout, stderr) = parts(&run_in(d, &args));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains("unknown field `waivres`"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("[.isms-lint.yaml:2:1]"), "{name}: {stderr}");
        assert!(
            stderr.contains("did you mean `waivers`?"),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("error: .isms-lint.yaml has 1 error; nothing was scanned"),
            "{name}: {stderr}"
        );
        if !written.is_empty() {
            assert!(!d.join(written).exists(), "{name} wrote {written}");
        }
    }
    // --no-config is the way around it.
    let (code, _, _) = parts(&run_in(d, &with_rules(&["scan", ".", "--no-config"])));
    assert_eq!(code, 1);
}

#[test]
fn bad_values_and_unknown_ids_name_their_line_and_the_closest_choice() {
    let cases = [
        (
            "severity:\n  priv: hihg\n",
            "[.isms-lint.yaml:2:9]",
            "did you mean `high`?",
        ),
        (
            "disable:\n  - prv\n",
            "[.isms-lint.yaml:2:5]",
            "did you mean 'priv'?",
        ),
        (
            "waivers:\n  - rule: priv\n    reason: accepted\n    expires: 2027-02-30\n",
            "[.isms-lint.yaml:4:14]",
            "is not a date",
        ),
    ];
    for (config, at, hint) in cases {
        let dir = setup(config);
        let (code, stdout, stderr) = parts(&run_in(dir.path(), &with_rules(&["scan", "."])));
        assert_eq!(code, 2, "{config}: {stderr}");
        assert!(stdout.is_empty(), "{config}: {stdout}");
        assert!(stderr.contains(at), "{config}: {stderr}");
        assert!(stderr.contains(hint), "{config}: {stderr}");
    }
}

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or_default()
}

#[test]
fn the_summary_ends_in_error_whenever_the_exit_code_is_2() {
    // A rule file that does not load and nothing to find: used to end "Result: passed".
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/broken.yaml", "title: no severity\n"),
        (
            "k8s/pod.yaml",
            &PRIVILEGED_POD.replace("privileged: true", "privileged: false"),
        ),
    ]);
    let d: &Path = dir.path();
    for fail_on in ["low", "none"] {
        let (code, stdout, _) = parts(&run_in(
            d,
            &with_rules(&["scan", ".", "--no-config", "--fail-on", fail_on]),
        ));
        assert_eq!(code, 2);
        assert_eq!(
            last_line(&stdout),
            "Result: ERROR (exit code 2: the errors above make this result incomplete).",
            "{stdout}"
        );
        let (code, md, _) = parts(&run_in(
            d,
            &with_rules(&[
                "scan",
                ".",
                "--no-config",
                "--fail-on",
                fail_on,
                "--format",
                "markdown",
            ]),
        ));
        assert_eq!(code, 2);
        assert!(md.contains("**⛔ error**"), "{md}");
    }
    // A rule failing at run time, with findings elsewhere: ERROR, not FAILED.
    std::fs::write(
        d.join("rules/broken.yaml"),
        PRIVILEGED_RULE.replace(
            "assert: \"!item.?securityContext.?privileged.orValue(false)\"",
            "assert: \"item.securityContext.runAsUser > 0\"",
        ),
    )
    .unwrap();
    std::fs::write(d.join("k8s/bad.yaml"), PRIVILEGED_POD).unwrap();
    let (code, stdout, _) = parts(&run_in(d, &with_rules(&["scan", ".", "--no-config"])));
    assert_eq!(code, 2);
    assert!(stdout.contains("rule, config or file error"), "{stdout}");
    assert!(last_line(&stdout).starts_with("Result: ERROR"), "{stdout}");
    // Without errors the verdict is unchanged.
    std::fs::remove_file(d.join("rules/broken.yaml")).unwrap();
    let (code, stdout, _) = parts(&run_in(d, &with_rules(&["scan", ".", "--no-config"])));
    assert_eq!(code, 1);
    assert_eq!(last_line(&stdout), "Result: FAILED (fail-on: low).");
}
