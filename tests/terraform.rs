//! Terraform modules and plans end to end: the split S3 style, variable defaults, unknown
//! values, parse errors, sibling files and plan JSON.

mod common;

use common::*;

const S3_RULES: &str =
    "tf-aws-s3-encryption,tf-aws-s3-versioning,tf-aws-s3-logging,tf-aws-s3-public-access-block";

const COMPANIONS: &str = r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "logs" {
  bucket        = aws_s3_bucket.logs.id
  target_bucket = "audit-logs"
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = var.strict
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = BLOCK
}
"#;

const BUCKET: &str = "variable \"strict\" {\n  default = true\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"acme-logs\"\n}\n";

fn scan(dir: &std::path::Path, path: &str) -> (i32, serde_json::Value) {
    let o = run_in(
        dir,
        &[
            "scan",
            path,
            "--only",
            S3_RULES,
            "--format",
            "json",
            "--no-config",
        ],
    );
    (o.status.code().unwrap_or(-1), json(&o))
}

fn found(v: &serde_json::Value) -> Vec<(String, String, u64, String)> {
    v["findings"]
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
        .collect()
}

#[test]
fn split_style_with_all_companions_is_clean_and_without_them_each_is_missing_at_the_bucket() {
    let dir = tree(&[
        ("infra/main.tf", BUCKET),
        ("infra/s3.tf", &COMPANIONS.replace("BLOCK", "true")),
    ]);
    let (code, v) = scan(dir.path(), "infra");
    assert_eq!(code, 0, "{v}");
    assert!(found(&v).is_empty(), "{v}");
    assert_eq!(v["summary"]["documents_by_kind"]["terraform"], 1);

    std::fs::remove_file(dir.path().join("infra/s3.tf")).unwrap();
    let (code, v) = scan(dir.path(), "infra");
    assert_eq!(code, 1);
    let got = found(&v);
    let rules: Vec<&str> = got.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        rules,
        [
            "tf-aws-s3-encryption",
            "tf-aws-s3-logging",
            "tf-aws-s3-public-access-block",
            "tf-aws-s3-versioning"
        ]
    );
    assert!(
        got.iter().all(|f| f.1 == "infra/main.tf" && f.2 == 5),
        "{got:?}"
    );
}

#[test]
fn variable_defaults_are_judged_and_data_sources_are_unknown() {
    // var.strict defaults to false: a real violation.
    let dir = tree(&[
        (
            "infra/main.tf",
            &BUCKET.replace("default = true", "default = false"),
        ),
        ("infra/s3.tf", &COMPANIONS.replace("BLOCK", "true")),
    ]);
    let (code, v) = scan(dir.path(), "infra");
    assert_eq!(code, 1);
    assert_eq!(
        found(&v),
        [(
            "tf-aws-s3-public-access-block".to_string(),
            "infra/main.tf".to_string(),
            5,
            "high".to_string()
        )]
    );
    // A value from a data source cannot be known before apply: reported as unknown (info).
    std::fs::write(dir.path().join("infra/main.tf"), BUCKET).unwrap();
    std::fs::write(
        dir.path().join("infra/s3.tf"),
        COMPANIONS.replace("BLOCK", "data.aws_ssm_parameter.block.value"),
    )
    .unwrap();
    let (code, v) = scan(dir.path(), "infra");
    assert_eq!(code, 0, "unknown values do not fail the run: {v}");
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(f["message"].as_str().unwrap().starts_with(
        "cannot be judged before deployment: depends on `data.aws_ssm_parameter.block.value`"
    ));
}

#[test]
fn an_explicit_file_loads_its_sibling_files() {
    let dir = tree(&[
        ("infra/main.tf", BUCKET),
        ("infra/s3.tf", &COMPANIONS.replace("BLOCK", "true")),
    ]);
    let (code, v) = scan(dir.path(), "infra/main.tf");
    assert_eq!(code, 0, "the companions in s3.tf are seen: {v}");
}

#[test]
fn hcl_syntax_errors_are_parse_errors_and_the_scan_goes_on() {
    let dir = tree(&[
        (
            "broken/main.tf",
            "resource \"aws_s3_bucket\" \"x\" {\n  bucket = \"a\"\n  tags = {\n",
        ),
        ("good/main.tf", BUCKET),
    ]);
    let (code, v) = scan(dir.path(), ".");
    assert_eq!(code, 1);
    let got = found(&v);
    assert_eq!(got[0].0, "parse-error");
    assert_eq!(got[0].1, "broken/main.tf");
    assert_eq!(got[0].2, 3);
    assert!(
        got.iter().filter(|f| f.1 == "good/main.tf").count() == 4,
        "{got:?}"
    );
}

const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.9.5",
  "planned_values": {
    "root_module": {
      "child_modules": [
        {
          "address": "module.storage",
          "resources": [
            {
              "address": "module.storage.aws_s3_bucket.data",
              "mode": "managed",
              "type": "aws_s3_bucket",
              "name": "data",
              "values": {
                "bucket": "acme-data"
              }
            }
          ]
        }
      ]
    }
  },
  "resource_changes": []
}
"#;

#[test]
fn plans_point_at_the_resource_in_the_json() {
    let dir = tree(&[("plan/tfplan.json", PLAN)]);
    let o = run_in(
        dir.path(),
        &[
            "scan",
            "plan",
            "--only",
            "tf-aws-s3-encryption",
            "--format",
            "json",
            "--no-config",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let f = &v["findings"][0];
    assert_eq!(f["path"], "plan/tfplan.json");
    assert_eq!(f["start"]["line"], 11);
    assert_eq!(
        f["message"],
        "S3 bucket 'module.storage.aws_s3_bucket.data' has no server-side encryption configuration"
    );
    assert_eq!(v["summary"]["documents_by_kind"]["terraform-plan"], 1);
}
