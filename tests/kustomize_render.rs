//! `scan --render-kustomize`: each root kustomization is built by the `kustomize` (or `kubectl`)
//! found on PATH and its objects judged at their source files. kustomize cannot be installed
//! here, so a shell script stands in for it: it prints what `kustomize build` prints for these
//! overlays, origin annotations included, with the paths relative to the kustomization it was
//! given (the temporary one isms-lint writes, whose one resource is the overlay).
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

const BASE_KUSTOMIZATION: &str = "resources:\n  - deployment.yaml\n";

/// Line 12 sets `privileged: true`.
const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27.0
          securityContext:
            privileged: true
";

const PROD: &str =
    "resources:\n  - ../../base\nnamePrefix: prod-\npatches:\n  - path: hostnet.yaml\n";

/// Line 8 sets `hostNetwork: true`.
const PROD_PATCH: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      hostNetwork: true
";

const DEV: &str =
    "resources:\n  - ../../base\nnamePrefix: dev-\nimages:\n  - name: nginx\n    newTag: latest\n";

/// What `kustomize build` prints for the two overlays, as the fake program prints it.
const FAKE: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
for a in "$@"; do dir="$a"; done
k="$dir/kustomization.yaml"
grep -q originAnnotations "$k" || { echo "Error: no originAnnotations asked for" >&2; exit 3; }
rel=$(sed -n 's/^  - "\(.*\)"$/\1/p' "$k")
case "$rel" in
*/overlays/prod) cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: $rel/../../base/deployment.yaml
  name: prod-web
spec:
  template:
    spec:
      containers:
      - image: nginx:1.27.0
        name: web
        securityContext:
          privileged: true
      hostNetwork: true
YAML
;;
*/overlays/dev) cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: $rel/../../base/deployment.yaml
  name: dev-web
spec:
  template:
    spec:
      containers:
      - image: nginx:latest
        name: web
        securityContext:
          privileged: true
YAML
;;
*) echo "Error: accumulating resources: unexpected $rel" >&2; exit 1;;
esac
"#;

const ONLY: &str = "k8s-container-privileged,k8s-host-network,k8s-image-mutable-tag";

fn project() -> tempfile::TempDir {
    tree(&[
        ("base/kustomization.yaml", BASE_KUSTOMIZATION),
        ("base/deployment.yaml", DEPLOYMENT),
        ("overlays/prod/kustomization.yaml", PROD),
        ("overlays/prod/hostnet.yaml", PROD_PATCH),
        ("overlays/dev/kustomization.yaml", DEV),
    ])
}

/// A directory holding `name`, an executable script of `text`.
fn program(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs `isms-lint ARGS` in `dir` with `PATH` set to `path` (and a time limit when given).
fn scan(dir: &Path, path: &Path, timeout: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isms-lint"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env_remove("ISMS_LINT_KUSTOMIZE_TIMEOUT");
    if let Some(t) = timeout {
        cmd.env("ISMS_LINT_KUSTOMIZE_TIMEOUT", t);
    }
    cmd.output().unwrap()
}

/// (rule, path, line, related paths) of each finding.
fn places(o: &Output) -> Vec<(String, String, u64, Vec<String>)> {
    json(o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let related = f["related"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|x| x["path"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
                related,
            )
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn rendered_findings_are_shown_at_their_source_lines_once() {
    let p = project();
    let bin = program("kustomize", FAKE);
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--only",
        ONLY,
        "--format",
        "json",
    ];
    let o = scan(p.path(), bin.path(), None, &args);
    let both = strings(&[
        "overlays/dev/kustomization.yaml",
        "overlays/prod/kustomization.yaml",
    ]);
    assert_eq!(
        places(&o),
        [
            // The tag the dev overlay's `images:` sets is written nowhere in a file: it is
            // shown at the object's header in its source file, naming the overlay.
            (
                "k8s-image-mutable-tag".to_string(),
                "base/deployment.yaml".to_string(),
                1,
                strings(&["overlays/dev/kustomization.yaml"])
            ),
            // Rendered by both overlays, reported once, at the line that sets it.
            (
                "k8s-container-privileged".into(),
                "base/deployment.yaml".into(),
                12,
                both
            ),
            // Set by the prod overlay's patch: shown at the patch's line.
            (
                "k8s-host-network".into(),
                "overlays/prod/hostnet.yaml".into(),
                8,
                strings(&["overlays/prod/kustomization.yaml"])
            ),
        ],
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(o.status.code(), Some(1));
    let j = json(&o);
    // Fingerprints and logical paths name the object as its source file does (`web`, not
    // `prod-web`), so they do not change with the overlays' name prefixes; the origin
    // annotation is gone before any rule sees the object.
    let logical: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["logical_path"].as_str().unwrap())
        .collect();
    assert!(
        logical.iter().all(|l| l.starts_with("Deployment/web/")),
        "{logical:?}"
    );
    // The deployment and the patch, judged only through the output, count once each; the
    // three kustomization files are read on their own, as before.
    assert_eq!(j["summary"]["files_scanned"], 5, "{j}");
    assert_eq!(j["summary"]["documents_by_kind"]["kubernetes"], 2, "{j}");
    assert_eq!(j["notices"], serde_json::json!([]));
}

#[test]
fn kubectl_builds_when_kustomize_is_missing() {
    let p = project();
    let fake = FAKE.replace(
        "for a in \"$@\"",
        "[ \"$1\" = kustomize ] || exit 9\nfor a in \"$@\"",
    );
    let bin = program("kubectl", &fake);
    let o = scan(
        p.path(),
        bin.path(),
        None,
        &[
            "scan",
            ".",
            "--render-kustomize",
            "--only",
            "k8s-host-network",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        places(&o),
        [(
            "k8s-host-network".to_string(),
            "overlays/prod/hostnet.yaml".to_string(),
            8,
            strings(&["overlays/prod/kustomization.yaml"])
        )],
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn without_a_program_each_kustomization_is_not_evaluated_and_read_as_before() {
    let p = project();
    let empty = tempfile::tempdir().unwrap();
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--only",
        "k8s-host-pid",
        "--format",
        "json",
    ];
    let o = scan(p.path(), empty.path(), None, &args);
    let j = json(&o);
    assert_eq!(
        places(&o),
        [
            (
                "not-evaluated".to_string(),
                "overlays/dev/kustomization.yaml".to_string(),
                1,
                vec![]
            ),
            (
                "not-evaluated".into(),
                "overlays/prod/kustomization.yaml".into(),
                1,
                vec![]
            ),
        ],
        "{j}"
    );
    assert_eq!(j["findings"][0]["severity"], "info");
    assert_eq!(
        j["findings"][0]["message"],
        "not evaluated: kustomization 'overlays/dev' was not rendered: neither kustomize nor kubectl is on PATH"
    );
    assert_eq!(j["notices"][0]["level"], "warning");
    assert_eq!(j["notices"][0]["path"], "--render-kustomize");
    assert!(
        j["notices"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("neither kustomize nor kubectl is on PATH, so 2 kustomizations were read without rendering"),
        "{j}"
    );
    // Info findings never fail a run: the exit code is the one without the flag.
    assert_eq!(o.status.code(), Some(0));
    let plain = scan(
        p.path(),
        empty.path(),
        None,
        &args[..args.len() - 2]
            .iter()
            .filter(|a| **a != "--render-kustomize")
            .copied()
            .collect::<Vec<_>>(),
    );
    assert_eq!(plain.status.code(), Some(0));
    // The files are read as without the flag: the patch is judged on what it sets.
    let o = scan(
        p.path(),
        empty.path(),
        None,
        &[
            "scan",
            ".",
            "--render-kustomize",
            "--only",
            "k8s-host-network",
            "--format",
            "json",
        ],
    );
    assert!(
        places(&o).contains(&(
            "k8s-host-network".to_string(),
            "overlays/prod/hostnet.yaml".to_string(),
            8,
            vec![]
        )),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_failing_build_is_not_evaluated_with_its_first_error_line() {
    let p = project();
    let bin = program(
        "kustomize",
        "#!/bin/sh\necho 'Error: accumulating resources: accumulation err: file ../../base not found' >&2\necho 'second line' >&2\nexit 1\n",
    );
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--only",
        "k8s-host-network",
        "--format",
        "json",
    ];
    let o = scan(p.path(), bin.path(), None, &args);
    let j = json(&o);
    let f = &j["findings"];
    assert_eq!(f[2]["rule_id"], "not-evaluated", "{j}");
    assert_eq!(f[2]["path"], "overlays/prod/kustomization.yaml");
    assert_eq!(f[0]["path"], "overlays/dev/kustomization.yaml");
    assert_eq!(
        f[2]["message"],
        "not evaluated: kustomization 'overlays/prod' was not rendered: kustomize build failed (exit status: 1): accumulating resources: accumulation err: file ../../base not found"
    );
    // What the failed trees read is still judged, as without the flag.
    assert_eq!(f[1]["path"], "overlays/prod/hostnet.yaml");
    assert_eq!(f[1]["rule_id"], "k8s-host-network");
    assert!(f[1].get("related").is_none());
    assert_eq!(f.as_array().unwrap().len(), 3);
}

#[test]
fn a_build_that_does_not_finish_is_stopped() {
    let p = tree(&[
        ("app/kustomization.yaml", "resources: [d.yaml]\n"),
        ("app/d.yaml", "kind: ConfigMap\n"),
    ]);
    let bin = program("kustomize", "#!/bin/sh\nexec /bin/sleep 30\n");
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--format",
        "json",
        "--only",
        "k8s-host-pid",
    ];
    let o = scan(p.path(), bin.path(), Some("1"), &args);
    let j = json(&o);
    assert_eq!(
        j["findings"][0]["message"],
        "not evaluated: kustomization 'app' was not rendered: kustomize build did not finish within 1 s (ISMS_LINT_KUSTOMIZE_TIMEOUT sets the limit)",
        "{j}"
    );
}

#[test]
fn the_text_report_names_the_overlays_and_base_suppressions_apply() {
    let p = project();
    let bin = program("kustomize", FAKE);
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--only",
        "k8s-container-privileged",
        "--format",
        "concise",
    ];
    let o = scan(p.path(), bin.path(), None, &args);
    let (code, out, _) = parts(&o);
    assert_eq!(code, 1, "{out}");
    let text = scan(
        p.path(),
        bin.path(),
        None,
        &[
            "scan",
            ".",
            "--render-kustomize",
            "--only",
            "k8s-container-privileged",
        ],
    );
    let (_, text, _) = parts(&text);
    // The text report wraps long messages; unwrap them.
    let text = text.replace("\n  │ ", "");
    assert!(
        text.contains("(via kustomization at overlays/dev/kustomization.yaml:1, via kustomization at overlays/prod/kustomization.yaml:1)"),
        "{text}"
    );
    // A reasoned suppression written in the base holds for what every overlay renders.
    std::fs::write(
        p.path().join("base/deployment.yaml"),
        DEPLOYMENT.replace(
            "privileged: true",
            "privileged: true # isms-lint: ignore[k8s-container-privileged] reason=\"lab cluster\"",
        ),
    )
    .unwrap();
    let o = scan(p.path(), bin.path(), None, &args);
    let (code, out, _) = parts(&o);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_kustomization_file_without_extension_is_built_too() {
    let p = tree(&[
        ("app/Kustomization", "resources:\n  - pod.yaml\n"),
        (
            "app/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers:\n    - name: c\n      image: x:1\n",
        ),
    ]);
    let bin = program(
        "kustomize",
        r#"#!/bin/sh
PATH=/usr/bin:/bin
for a in "$@"; do dir="$a"; done
rel=$(sed -n 's/^  - "\(.*\)"$/\1/p' "$dir/kustomization.yaml")
cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: $rel/pod.yaml
  name: p
spec:
  containers:
  - image: x:1
    name: c
  hostPID: true
YAML
"#,
    );
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--only",
        "k8s-host-pid",
        "--format",
        "json",
    ];
    let o = scan(p.path(), bin.path(), None, &args);
    assert_eq!(
        places(&o),
        [(
            "k8s-host-pid".to_string(),
            "app/pod.yaml".to_string(),
            6,
            strings(&["app/Kustomization"])
        )],
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn base_suppressions_are_judged_once_over_every_overlay() {
    let p = project();
    // Used by what the dev overlay renders only; and one that nothing uses.
    let base = DEPLOYMENT
        .replacen(
            "apiVersion: apps/v1",
            "apiVersion: apps/v1 # isms-lint: ignore[k8s-image-mutable-tag] reason=\"dev builds float\"",
            1,
        )
        .replace(
            "privileged: true",
            "privileged: true # isms-lint: ignore[k8s-host-pid] reason=\"stale\"",
        );
    std::fs::write(p.path().join("base/deployment.yaml"), base).unwrap();
    let bin = program("kustomize", FAKE);
    let only = format!("{ONLY},k8s-host-pid");
    let args = [
        "scan",
        ".",
        "--render-kustomize",
        "--report-unused-suppressions",
        "--only",
        &only,
        "--format",
        "json",
    ];
    let o = scan(p.path(), bin.path(), None, &args);
    let j = json(&o);
    let unused: Vec<(&str, u64)> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "unused-suppression")
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(unused, [("base/deployment.yaml", 12)], "{j}");
    // The dev overlay's tag finding is suppressed, and the directive is not unused because
    // the prod overlay renders no such finding.
    assert_eq!(j["summary"]["suppressed_findings"], 1, "{j}");
    assert_eq!(j["summary"]["unused_suppressions"], 1, "{j}");
    assert!(
        !j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "k8s-image-mutable-tag"),
        "{j}"
    );
}
