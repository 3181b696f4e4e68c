//! Three-valued verdicts on real inputs with the built-in rules: values the input cannot give
//! before deployment make a verdict unknown (an `info` finding at the unresolved value, never a
//! pass and never a failed run), conditions are judged branch by branch, Terraform `null` is
//! unset, and the Statement of Applicability counts what was judged.

mod common;

use common::*;
use serde_json::Value;

/// Scans `dir`/`path` with the built-in rules (no config) and returns exit code and report.
fn scan(dir: &std::path::Path, path: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["scan", path, "--format", "json", "--no-config"];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    (o.status.code().unwrap_or(-1), json(&o))
}

/// `(rule, line, unknown, severity)` of every finding of `rule`.
fn of(report: &Value, rule: &str) -> Vec<(u64, bool, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| {
            (
                f["start"]["line"].as_u64().unwrap(),
                f["unknown"].as_bool().unwrap_or(false),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn message(report: &Value, rule: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no finding of {rule}: {report}"))
}

fn soa(dir: &std::path::Path, path: &str) -> Value {
    let o = run_in(dir, &["soa", path, "--format", "json", "--no-config"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    json(&o)
}

fn row<'a>(soa: &'a Value, id: &str) -> &'a Value {
    soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

const SG_DYNAMIC: &str = r#"locals {
  rules = {
    ssh   = { port = 22, cidrs = ["0.0.0.0/0"] }
    https = { port = 443, cidrs = ["0.0.0.0/0"] }
  }
}

resource "aws_security_group" "bastion" {
  name = "bastion"
  dynamic "ingress" {
    for_each = local.rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidrs
    }
  }
}
"#;

#[test]
fn dynamic_blocks_over_known_maps_are_expanded_and_judged() {
    let dir = tree(&[("infra/main.tf", SG_DYNAMIC)]);
    let (code, r) = scan(
        dir.path(),
        "infra",
        &["--only", "tf-aws-sg-admin-ports-open-to-world"],
    );
    assert_eq!(code, 1, "{r}");
    // The ssh item opens 22 to the world: reported at `cidr_blocks` of the content block.
    assert_eq!(
        of(&r, "tf-aws-sg-admin-ports-open-to-world"),
        [(16, false, "high".to_string())]
    );
}

#[test]
fn dynamic_blocks_over_unknown_collections_are_unknown_not_silent() {
    let text = SG_DYNAMIC
        .replace("for_each = local.rules", "for_each = var.rules")
        .replace("locals {", "variable \"rules\" {}\nlocals {");
    let dir = tree(&[("infra/main.tf", &text)]);
    let (code, r) = scan(
        dir.path(),
        "infra",
        &["--only", "tf-aws-sg-admin-ports-open-to-world"],
    );
    assert_eq!(code, 0, "unknowns never fail a run: {r}");
    let found = of(&r, "tf-aws-sg-admin-ports-open-to-world");
    assert_eq!(found.len(), 1, "{r}");
    assert!(found[0].1 && found[0].2 == "info", "{found:?}");
    assert!(
        message(&r, "tf-aws-sg-admin-ports-open-to-world").contains("`ingress.value.cidrs`"),
        "{r}"
    );
    assert_eq!(r["summary"]["unknown_findings"], 1);
    assert_eq!(r["summary"]["open_findings"], 0);
    // Not even --fail-on info fails on an unknown.
    let (code, _) = scan(
        dir.path(),
        "infra",
        &[
            "--only",
            "tf-aws-sg-admin-ports-open-to-world",
            "--fail-on",
            "info",
        ],
    );
    assert_eq!(code, 0);
}

#[test]
fn for_each_values_and_templatefile_policies_are_unknown() {
    let dir = tree(&[(
        "infra/main.tf",
        r#"resource "aws_s3_bucket_acl" "site" {
  for_each = toset(["public-read"])
  bucket   = "acme-site"
  acl      = each.value
}

resource "aws_iam_policy" "deployer" {
  name   = "deployer"
  policy = templatefile("${path.module}/policy.json", { bucket = "x" })
}
"#,
    )]);
    let (code, r) = scan(
        dir.path(),
        "infra",
        &[
            "--only",
            "tf-aws-s3-acl-public,tf-aws-iam-policy-full-admin",
        ],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        of(&r, "tf-aws-s3-acl-public"),
        [(4, true, "info".to_string())]
    );
    assert!(message(&r, "tf-aws-s3-acl-public").contains("`each.value`"));
    assert_eq!(
        of(&r, "tf-aws-iam-policy-full-admin"),
        [(9, true, "info".to_string())]
    );
    assert!(message(&r, "tf-aws-iam-policy-full-admin").contains("templatefile("));
}

#[test]
fn terraform_null_is_unset_and_the_provider_default_applies() {
    let dir = tree(&[(
        "infra/main.tf",
        r#"variable "encrypt" {
  default = null
}

resource "aws_db_instance" "a" {
  engine            = "postgres"
  storage_encrypted = null
}

resource "aws_db_instance" "b" {
  engine            = "postgres"
  storage_encrypted = var.encrypt
}

resource "aws_db_instance" "c" {
  engine            = "postgres"
  storage_encrypted = true
}
"#,
    )]);
    let (code, r) = scan(
        dir.path(),
        "infra",
        &["--only", "tf-aws-rds-storage-encrypted"],
    );
    assert_eq!(code, 1, "{r}");
    // Unset: the finding points at the resource header (where the setting belongs).
    assert_eq!(
        of(&r, "tf-aws-rds-storage-encrypted"),
        [
            (5, false, "high".to_string()),
            (10, false, "high".to_string())
        ]
    );
}

const CFN: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
Conditions:
  Open: !Equals [!Ref Env, sandbox]
Resources:
  Bastion:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !If [Open, 0.0.0.0/0, 10.0.0.0/8]
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: !Sub "0.0.0.0/0"
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.small
      StorageEncrypted: !If [Open, false, true]
"#;

#[test]
fn cloudformation_conditions_are_judged_on_both_branches_and_subs_resolve() {
    let dir = tree(&[("template.yaml", CFN)]);
    let (code, r) = scan(
        dir.path(),
        "template.yaml",
        &[
            "--only",
            "cfn-sg-admin-ports-open-to-world,cfn-rds-storage-encrypted",
        ],
    );
    assert_eq!(code, 1, "{r}");
    assert_eq!(
        of(&r, "cfn-sg-admin-ports-open-to-world"),
        [
            (16, false, "high".to_string()),
            (20, false, "high".to_string())
        ]
    );
    let sg: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "cfn-sg-admin-ports-open-to-world")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        sg[0].ends_with("(may apply: when `Open` is true)"),
        "{sg:?}"
    );
    assert!(!sg[1].contains("may apply"), "{sg:?}");
    assert_eq!(
        of(&r, "cfn-rds-storage-encrypted"),
        [(26, false, "high".to_string())]
    );
    assert!(message(&r, "cfn-rds-storage-encrypted").contains("(may apply: when `Open` is true)"));
}

#[test]
fn cloudformation_values_only_known_at_deployment_are_unknown() {
    let text = CFN
        .replace(
            "!If [Open, 0.0.0.0/0, 10.0.0.0/8]",
            "!ImportValue shared-admin-cidr",
        )
        .replace("!Sub \"0.0.0.0/0\"", "10.0.0.0/8");
    let dir = tree(&[("template.yaml", &text)]);
    let (code, r) = scan(
        dir.path(),
        "template.yaml",
        &["--only", "cfn-sg-admin-ports-open-to-world"],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        of(&r, "cfn-sg-admin-ports-open-to-world"),
        [(16, true, "info".to_string())]
    );
    assert!(message(&r, "cfn-sg-admin-ports-open-to-world")
        .contains("`!ImportValue shared-admin-cidr`"));
}

#[test]
fn a_control_with_nothing_in_scope_is_not_evaluated_with_the_reason() {
    let bucket = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"acme-logs\"\n}\n";
    let dir = tree(&[("infra/main.tf", bucket)]);
    let s = soa(dir.path(), "infra");
    let r = row(&s, "5.7");
    assert_eq!(r["status"], "not evaluated", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("no `aws_guardduty_detector`"),
        "{r}"
    );
    assert_eq!(r["judged"], 0);

    // The same module with a disabled detector fails 5.7.
    std::fs::write(
        dir.path().join("infra/guardduty.tf"),
        "resource \"aws_guardduty_detector\" \"main\" {\n  enable = false\n}\n",
    )
    .unwrap();
    let s = soa(dir.path(), "infra");
    let r = row(&s, "5.7");
    assert_eq!(r["status"], "failing", "{r}");
    assert_eq!((&r["judged"], &r["failed"]), (&1.into(), &1.into()));
    let rule = r["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "tf-aws-guardduty-enabled")
        .unwrap();
    assert_eq!(
        (&rule["documents"], &rule["failed"]),
        (&1.into(), &1.into())
    );
}

#[test]
fn kubernetes_without_rbac_objects_leaves_access_rights_not_evaluated() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n";
    let dir = tree(&[("k8s/web.yaml", deployment)]);
    let s = soa(dir.path(), "k8s");
    let r = row(&s, "5.18");
    assert_eq!(r["status"], "not evaluated", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("Kubernetes `ClusterRole`"),
        "{r}"
    );
}

#[test]
fn an_unknown_never_makes_a_control_failing_and_only_unknowns_are_unknown() {
    let trail = "variable \"kms\" {}\n\nresource \"aws_cloudtrail\" \"main\" {\n  name           = \"main\"\n  s3_bucket_name = \"acme-trail\"\n  kms_key_id     = var.kms\n}\n";
    let dir = tree(&[("infra/main.tf", trail)]);
    let (code, r) = scan(
        dir.path(),
        "infra",
        &["--only", "tf-aws-cloudtrail-kms-encryption"],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        of(&r, "tf-aws-cloudtrail-kms-encryption"),
        [(6, true, "info".to_string())]
    );
    let s = soa(dir.path(), "infra");
    let r = row(&s, "8.24");
    assert_ne!(r["status"], "failing", "{r}");
    assert_eq!(r["open"], 0, "{r}");
    assert!(r["unknown"].as_u64().unwrap() >= 1, "{r}");
    // A reference to a key resource is set: judged, and compliant.
    std::fs::write(
        dir.path().join("infra/main.tf"),
        trail
            .replace(
                "variable \"kms\" {}\n\n",
                "resource \"aws_kms_key\" \"trail\" {\n  enable_key_rotation = true\n}\n\n",
            )
            .replace("var.kms", "aws_kms_key.trail.arn"),
    )
    .unwrap();
    let (code, r) = scan(
        dir.path(),
        "infra",
        &["--only", "tf-aws-cloudtrail-kms-encryption"],
    );
    assert_eq!(
        (code, of(&r, "tf-aws-cloudtrail-kms-encryption")),
        (0, vec![])
    );
}
