//! The HTML Statement of Applicability: what it says (a snapshot of its text, not of its
//! styling), that it is part of every bundle and verified with it, that trends use only
//! earlier bundles that verify, and the organisation heatmap with each repository's page.
//! How it looks and behaves in a browser is checked by `.ci/html-check.sh` (headless Chromium).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const LIMITS_RULE: &str = r#"title: Containers declare resource limits
severity: medium
kinds: [kubernetes]
controls:
  - id: "8.6"
    relation: partial
    rationale: Limits keep one workload from exhausting the node.
select: containers(doc)
assert: has(item.resources) && has(item.resources.limits)
at: resources.limits
message: "container '{{ item.name }}' has no limits"
remediation: Set resources.limits.
"#;

const COMPOSE_RULE: &str = r#"title: Compose services do not use host networking
severity: high
kinds: [compose]
controls:
  - id: "8.20"
    relation: partial
    rationale: Host networking removes network isolation.
select: services(doc)
assert: "item.?network_mode.orValue('') != 'host'"
at: network_mode
message: "service '{{ key }}' uses host networking"
remediation: Remove network_mode host.
"#;

/// Two privileged containers (one suppressed inline), one without limits, one waived by path.
const PODS: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      resources:
        limits: {cpu: 100m}
      securityContext:
        privileged: true
    - name: '<script>alert(1)</script>'
      resources:
        limits: {cpu: 100m}
      securityContext:
        # isms-lint: ignore[priv] reason=\"CNI plugin needs host access; SEC-45\" until=2027-03-31
        privileged: true
";

const AGENT: &str = "apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  containers:
    - name: agent
      securityContext:
        privileged: true
";

const CONFIG: &str = r#"waivers:
  - rule: priv
    paths: ["k8s/agent/**"]
    reason: "Node agent needs host access; replacement tracked in SEC-123"
    owner: platform-team
    expires: 2027-06-30
controls:
  "5.1": {applicable: true, justification: "Policy set approved 2026-01", owner: ciso, evidence: ["https://wiki.example/policies", "javascript:alert(1)"]}
  "7.1": {applicable: false, justification: "Fully remote company, no offices"}
  "8.2": {applicable: true, owner: platform}
  "8.6": {applicable: false, justification: "Capacity is the cloud provider's problem"}
"#;

fn repo() -> tempfile::TempDir {
    tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/limits.yaml", LIMITS_RULE),
        ("rules/compose-host.yaml", COMPOSE_RULE),
        ("k8s/pods.yaml", PODS),
        ("k8s/agent/agent.yaml", AGENT),
        (".isms-lint.yaml", CONFIG),
    ])
}

fn isms(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("ISMS_LINT_TODAY", "2026-11-28")
        .env("GITHUB_REPOSITORY", "acme/payments")
        .env("GITHUB_WORKSPACE", dir)
        .output()
        .expect("binary runs")
}

const OWN_RULES: [&str; 4] = [".", "--no-default-rules", "--rules", "rules"];

fn with<'a>(cmd: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = cmd.to_vec();
    v.extend_from_slice(&OWN_RULES);
    v.extend_from_slice(extra);
    v
}

/// The text a reader sees: no styles or scripts, one line per block, cells separated by `|`.
fn text_of(html: &str) -> String {
    let mut s = html.to_string();
    for (open, close) in [
        ("<style", "</style>"),
        ("<script", "</script>"),
        ("<svg", "</svg>"),
    ] {
        while let Some(a) = s.find(open) {
            let b = s[a..]
                .find(close)
                .map(|b| a + b + close.len())
                .unwrap_or(s.len());
            s.replace_range(a..b, "");
        }
    }
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(a) = rest.find('<') {
        out.push_str(&rest[..a]);
        let b = rest[a..].find('>').map(|b| a + b + 1).unwrap_or(rest.len());
        let tag = rest[a..b].to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match name.as_str() {
            "td" | "th" if !tag.starts_with("</") => out.push_str(" | "),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "li" | "tr" | "dt" | "dd" | "div" | "br"
            | "section" | "header" | "footer" | "table" | "caption" | "summary" | "pre" | "ul"
            | "dl" | "form" | "label" | "figcaption" => out.push('\n'),
            "span" if tag.contains("class=\"hit\"") || rest[a..].starts_with("<span><i>") => {
                out.push('\n');
            }
            _ => {}
        }
        rest = &rest[b..];
    }
    out.push_str(rest);
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && l != "|")
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn soa_html_text() {
    let dir = repo();
    let o = isms(dir.path(), &with(&["soa"], &["--format", "html"]));
    let (code, html, err) = parts(&o);
    assert_eq!(code, 0, "{err}");
    // One page, nothing loaded from anywhere, nothing from the data turned into markup.
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("href=\"javascript:"));
    for external in [
        "src=\"http",
        "href=\"//",
        "@import",
        "url(http",
        "@font-face",
    ] {
        assert!(!html.contains(external), "{external}");
    }
    assert_eq!(html.matches("<a class=\"cell ").count(), 93);
    insta::assert_snapshot!(text_of(&html));
}

#[test]
fn the_bundle_page_is_listed_shows_the_bundle_digest_and_verifies() {
    let dir = repo();
    let first = isms(dir.path(), &with(&["evidence"], &["--out", "b"]));
    assert_eq!(first.status.code(), Some(0), "{}", parts(&first).2);
    let page = std::fs::read_to_string(dir.path().join("b/soa.html")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b/manifest.json")).unwrap())
            .unwrap();
    let outputs = manifest["outputs"].as_array().unwrap();
    assert_eq!(outputs.last().unwrap()["name"], "soa.html");
    // The page shows the bundle digest, which covers the data files, not the page itself.
    let digest = manifest["bundle_digest"].as_str().unwrap();
    assert!(page.contains(digest), "the page names the bundle digest");
    let lines: String = outputs
        .iter()
        .filter(|o| o["name"] != "soa.html")
        .map(|o| {
            format!(
                "{}  {}\n",
                o["sha256"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(isms_lint::evidence::sha256_hex(lines.as_bytes()), digest);
    // The same commit gives the same page.
    let again = isms(dir.path(), &with(&["evidence"], &["--out", "b"]));
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b/soa.html")).unwrap(),
        page
    );
    let ok = isms(dir.path(), &["evidence", "verify", "b"]);
    assert_eq!(ok.status.code(), Some(0), "{}", parts(&ok).1);
    // An edited page is caught like any other file.
    std::fs::write(
        dir.path().join("b/soa.html"),
        page.replace("failing", "passing"),
    )
    .unwrap();
    let bad = isms(dir.path(), &["evidence", "verify", "b"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(parts(&bad).1.contains("TAMPERED soa.html: sha256 is"));
}

#[test]
fn source_lines_are_read_when_the_page_is_made_and_a_missing_file_is_named() {
    let dir = repo();
    let o = isms(dir.path(), &with(&["soa"], &["--format", "html"]));
    let html = parts(&o).1;
    assert!(html.contains("<span class=\"hit\"><i>11</i>        privileged: true</span>"));
    // A file that is gone by the time the page is made: scanned through a second root that
    // disappears is contrived, so remove the config's waived file after a JSON round trip.
    let findings = vec![isms_lint::report::html::FindingRecord {
        rule_id: "priv".into(),
        severity: isms_lint::rules::Severity::High,
        controls: vec!["8.2".into()],
        message: "container 'x' runs privileged".into(),
        path: "k8s/deleted.yaml".into(),
        start: isms_lint::report::html::Position { line: 3, col: 1 },
        end: isms_lint::report::html::Position { line: 3, col: 5 },
        unknown: false,
        suppression: None,
    }];
    let soa: isms_lint::soa::Soa =
        serde_json::from_str(&parts(&isms(dir.path(), &with(&["soa"], &["--format", "json"]))).1)
            .unwrap();
    let rules = std::collections::BTreeMap::new();
    let page = isms_lint::report::html::render(&isms_lint::report::html::Page {
        soa: &soa,
        findings: &findings,
        rules: &rules,
        facts: Default::default(),
        history: None,
        sources: isms_lint::report::html::Sources::Read,
    });
    assert!(page.contains("Source not shown: &#39;k8s/deleted.yaml&#39; is gone"));
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", format!("{date}T02:23:00Z"))
        .env("GIT_COMMITTER_DATE", format!("{date}T02:23:00Z"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A repository named by its origin remote, with the privileged-pod rule.
fn git_repo(name: &str) -> tempfile::TempDir {
    let dir = tree(&[
        ("rules/priv.yaml", PRIVILEGED_RULE),
        ("rules/compose-host.yaml", COMPOSE_RULE),
        ("k8s/pod.yaml", PRIVILEGED_POD),
    ]);
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"], "2026-11-25");
    git(d, &["config", "user.name", "Test"], "2026-11-25");
    git(d, &["config", "user.email", "t@example.com"], "2026-11-25");
    let url = format!("https://github.com/{name}.git");
    git(d, &["remote", "add", "origin", &url], "2026-11-25");
    git(d, &["add", "-A"], "2026-11-25");
    git(d, &["commit", "-q", "-m", "first"], "2026-11-25");
    dir
}

fn bundle(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = with(&["evidence"], &["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .expect("binary runs");
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    o
}

#[test]
fn history_uses_only_bundles_that_verify() {
    let r = git_repo("acme/payments");
    let d = r.path();
    let h = tempfile::tempdir().unwrap();
    let hist = h.path();
    bundle(d, &hist.join("2026-11-25"), &[]);
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n    network_mode: host\n",
    )
    .unwrap();
    git(d, &["add", "-A"], "2026-11-26");
    git(d, &["commit", "-q", "-m", "compose"], "2026-11-26");
    // Kept as a workflow artifact download keeps it: the bundle one folder down.
    bundle(d, &hist.join("artifact-2/evidence"), &[]);
    // Tampered with: a failing control made to look passing.
    bundle(d, &hist.join("edited"), &[]);
    let soa = hist.join("edited/soa.json");
    let text = std::fs::read_to_string(&soa).unwrap();
    std::fs::write(&soa, text.replace("\"failing\"", "\"passing\"")).unwrap();
    // Another repository's bundle, an organisation merge and a folder without a bundle.
    let other = git_repo("acme/web");
    bundle(other.path(), &hist.join("other-repo"), &[]);
    let o = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args([
            "evidence",
            "merge",
            hist.join("2026-11-25").to_str().unwrap(),
            "--out",
            hist.join("org").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
    std::fs::create_dir_all(hist.join("empty")).unwrap();

    let history = isms_lint::evidence::history::load(hist, "acme/payments", None).expect("loads");
    let plotted: Vec<&str> = history.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(plotted, ["2026-11-25", "artifact-2"]);
    assert_eq!(
        history.points[0].statuses["8.2"],
        isms_lint::soa::Status::Failing
    );
    assert_eq!(
        history.points[0].statuses["8.20"],
        isms_lint::soa::Status::NotEvaluated
    );
    assert_eq!(
        history.points[1].statuses["8.20"],
        isms_lint::soa::Status::Failing
    );
    assert_eq!(history.points[1].open_by_theme, [0, 0, 0, 2]);
    let why: Vec<(&str, &str)> = history
        .rejected
        .iter()
        .map(|r| (r.name.as_str(), r.why.as_str()))
        .collect();
    assert_eq!(why.len(), 4, "{why:?}");
    assert!(
        why[0].0 == "edited"
            && why[0]
                .1
                .starts_with("fails verification: soa.json: sha256 is"),
        "{why:?}"
    );
    assert!(
        why[1].0 == "empty" && why[1].1.contains("not an evidence bundle"),
        "{why:?}"
    );
    assert_eq!(
        why[2],
        ("org", "an organisation merge, not a repository bundle")
    );
    assert_eq!(
        why[3],
        (
            "other-repo",
            "a bundle of 'acme/web', not of 'acme/payments'"
        )
    );

    // The command: the bundle being written may sit inside the history folder; it is skipped.
    git(d, &["rm", "-q", "compose.yaml"], "2026-11-27");
    git(d, &["commit", "-q", "-m", "no compose"], "2026-11-27");
    let o = bundle(
        d,
        &hist.join("2026-11-27"),
        &["--history", hist.to_str().unwrap()],
    );
    let err = parts(&o).2;
    assert!(
        err.contains("isms-lint: history: 'edited' is not plotted: fails verification"),
        "{err}"
    );
    let page = std::fs::read_to_string(hist.join("2026-11-27/soa.html")).unwrap();
    assert!(page.contains("2 earlier bundle(s) verified and plotted with this run; 4 left out"));
    assert!(page.contains(
        "<strong>not plotted: failed verification</strong> — fails verification: soa.json"
    ));
    // A.8.20: not evaluated, failing, then not evaluated again in this run.
    let marks = &page[page.find("id=\"c-8-20\"").unwrap()..];
    let marks = &marks[..marks.find("</ol>").unwrap()];
    let classes: Vec<&str> = marks
        .split("<li class=\"")
        .skip(1)
        .map(|s| s.split([' ', '"']).next().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["st-not-evaluated", "st-failing", "st-not-evaluated"]
    );
    let o = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
        .args([
            "evidence",
            "verify",
            hist.join("2026-11-27").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", parts(&o).1);
}

#[test]
fn merge_html_writes_the_heatmap_and_each_repository_page_next_to_it() {
    let a = git_repo("acme/payments");
    let b = git_repo("acme/web");
    std::fs::write(
        b.path().join("k8s/pod.yaml"),
        PRIVILEGED_POD.replace("true", "false"),
    )
    .unwrap();
    git(b.path(), &["commit", "-q", "-am", "fix"], "2026-11-26");
    let w = tempfile::tempdir().unwrap();
    bundle(a.path(), &w.path().join("a"), &[]);
    bundle(b.path(), &w.path().join("b"), &[]);
    let merge = |extra: &[&str]| {
        let mut args = vec![
            "evidence".to_string(),
            "merge".into(),
            w.path().join("a").display().to_string(),
            w.path().join("b").display().to_string(),
            "--out".into(),
            w.path().join("org").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let o = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", parts(&o).2);
        let v = Command::new(env!("CARGO_BIN_EXE_isms-lint"))
            .args(["evidence", "verify", w.path().join("org").to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(v.status.code(), Some(0), "{}", parts(&v).1);
    };
    merge(&["--format", "html"]);
    let org = w.path().join("org");
    let page = std::fs::read_to_string(org.join("soa.html")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&org)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let repo_pages: Vec<&String> = names.iter().filter(|n| n.starts_with("repo-")).collect();
    assert_eq!(repo_pages.len(), 2, "{names:?}");
    assert!(repo_pages[0].starts_with("repo-acme-payments-"));
    assert!(repo_pages[1].starts_with("repo-acme-web-"));
    for p in &repo_pages {
        assert!(page.contains(&format!("<a href=\"{p}\">")), "links to {p}");
        // Each repository's page is its bundle's own page, verified with the bundle.
        let copied = std::fs::read(org.join(p)).unwrap();
        let from = if p.contains("payments") { "a" } else { "b" };
        assert_eq!(
            copied,
            std::fs::read(w.path().join(from).join("soa.html")).unwrap()
        );
    }
    // Rows ordered by failing controls: payments fails A.8.2, web fails nothing.
    let rows: Vec<&str> = page.split("<tr data-name=\"").skip(1).collect();
    assert!(
        rows[0].starts_with("acme/payments\" data-failing=\"1\""),
        "{}",
        &rows[0][..60]
    );
    assert!(rows[1].starts_with("acme/web\" data-failing=\"0\""));
    assert_eq!(rows[0].matches("<td class=\"hm ").count(), 93);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(org.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed[..4], ["soa.md", "soa.csv", "soa.json", "soa.html"]);
    assert_eq!(listed.len(), 6);
    // A later merge without pages into the same folder leaves none behind, and verifies.
    merge(&[]);
    assert!(!org.join("soa.html").exists());
    assert!(!org.join(repo_pages[0]).exists());
}

/// A page made from a bundle that has no `soa.html` (written by an older isms-lint): rendered
/// from its JSON, with rule rationales from its SARIF and no source lines.
#[test]
fn a_repository_page_is_rendered_from_the_bundle_data_when_it_has_none() {
    let a = git_repo("acme/payments");
    let w = tempfile::tempdir().unwrap();
    let b = w.path().join("a");
    bundle(a.path(), &b, &[]);
    let soa: isms_lint::soa::Soa =
        serde_json::from_slice(&std::fs::read(b.join("soa.json")).unwrap()).unwrap();
    std::fs::remove_file(b.join("soa.html")).unwrap();
    let page = isms_lint::report::html::org::repository_page(&b, &soa).unwrap();
    assert!(page.contains("Root on the node is privileged access."));
    assert!(page.contains("container &#39;app&#39; runs privileged"));
    assert!(page.contains("Source not shown: this page was made by `evidence merge`"));
}
