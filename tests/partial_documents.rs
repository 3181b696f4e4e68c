//! Partial documents (issue 14): kustomize patches and workloads whose containers have no image
//! are judged only on the values they set — no "missing …" finding, but a value they set wrong
//! is still reported at its line. Image placeholders are unknowns, not tags.

mod common;

use common::*;

fn findings(args: &[&str]) -> Vec<(String, String, u64, String)> {
    let mut all = vec![
        "scan",
        "--no-config",
        "--profile",
        "all",
        "--format",
        "json",
        "--fail-on",
        "none",
    ];
    all.extend(args);
    let report = json(&run(&all));
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn patches_get_no_missing_findings_with_every_profile() {
    let got = findings(&[
        "fixtures/k8s-run-as-non-root/pass/overlays",
        "fixtures/k8s-run-as-non-root/pass/sidecar-patch.yaml",
    ]);
    assert!(got.is_empty(), "{got:#?}");
}

#[test]
fn a_value_a_patch_sets_is_still_judged() {
    let got = findings(&["fixtures/k8s-run-as-non-root/fail/overlays"]);
    assert_eq!(
        got,
        [(
            "k8s-run-as-non-root".to_string(),
            "fixtures/k8s-run-as-non-root/fail/overlays/prod/api-security.yaml".to_string(),
            12,
            "medium".to_string()
        )]
    );
}

#[test]
fn image_placeholders_cannot_be_judged() {
    let got = findings(&["fixtures/k8s-image-mutable-tag/pass/placeholders.yaml"]);
    let mut want = Vec::new();
    for line in [24, 42, 60, 78] {
        for rule in [
            "k8s-image-mutable-tag",
            "k8s-image-not-digest-pinned",
            "k8s-image-pull-policy-floating-tag",
        ] {
            want.push((
                rule.to_string(),
                "fixtures/k8s-image-mutable-tag/pass/placeholders.yaml".to_string(),
                line,
                "info".to_string(),
            ));
        }
    }
    want.sort();
    assert_eq!(got, want);
}
