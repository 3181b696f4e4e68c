//! Terraform module calls end to end: local modules evaluated with the call's arguments, the
//! call named as a related location (JSON, SARIF, text), downloaded modules followed through
//! `.terraform/modules/modules.json`, a `not-evaluated` notice when they are not, and companions
//! linked through `count` and `for_each`.

mod common;

use common::*;

const RDS: &str = "tf-aws-rds-storage-encrypted";

/// A root module calling `./modules/db` twice (a literal `false`, an unknown variable) and a
/// registry module.
const ROOT: &str = r#"module "orders_db" {
  source    = "./modules/db"
  name      = "orders"
  encrypted = false
}

module "ledger_db" {
  source    = "./modules/db"
  name      = "ledger"
  encrypted = var.ledger_encrypted
}

module "safe_db" {
  source    = "./modules/db"
  name      = "safe"
  encrypted = true
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

variable "ledger_encrypted" {}
"#;

/// The child: encrypted by default, a hard-coded unencrypted replica.
const DB: &str = r#"variable "name" {}

variable "encrypted" {
  default = true
}

resource "aws_db_instance" "this" {
  identifier        = var.name
  engine            = "postgres"
  instance_class    = "db.t4g.micro"
  storage_encrypted = var.encrypted
}

resource "aws_db_instance" "scratch" {
  identifier        = "scratch"
  engine            = "postgres"
  instance_class    = "db.t4g.micro"
  storage_encrypted = false
}
"#;

const VPC: &str = r#"resource "aws_db_instance" "inner" {
  identifier     = "inner"
  engine         = "postgres"
  instance_class = "db.t4g.micro"
}
"#;

const MANIFEST: &str = r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"vpc","Source":"registry.terraform.io/terraform-aws-modules/vpc/aws","Version":"5.0.0","Dir":".terraform/modules/vpc"}]}"#;

fn scan(dir: &std::path::Path, format: &str, only: &str) -> std::process::Output {
    run_in(
        dir,
        &[
            "scan",
            "infra",
            "--only",
            only,
            "--format",
            format,
            "--no-config",
        ],
    )
}

/// (rule, path, line, unknown, related "path:line" list) of every finding.
fn found(v: &serde_json::Value) -> Vec<(String, String, u64, bool, Vec<String>)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let related = f["related"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|r| format!("{}:{}", r["path"].as_str().unwrap(), r["start"]["line"]))
                        .collect()
                })
                .unwrap_or_default();
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
                f["unknown"].as_bool().unwrap_or(false),
                related,
            )
        })
        .collect()
}

fn row(
    rule: &str,
    path: &str,
    line: u64,
    unknown: bool,
    related: &[&str],
) -> (String, String, u64, bool, Vec<String>) {
    (
        rule.to_string(),
        path.to_string(),
        line,
        unknown,
        related.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn a_local_module_is_judged_with_each_calls_arguments_and_names_the_call() {
    let dir = tree(&[("infra/main.tf", ROOT), ("infra/modules/db/main.tf", DB)]);
    let o = scan(dir.path(), "json", RDS);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(
        found(&v),
        [
            // The registry module was not downloaded: said so at the call, not judged.
            row("not-evaluated", "infra/main.tf", 19, true, &[]),
            // `encrypted = false` in the call: a violation at the child's line, via the call.
            row(
                RDS,
                "infra/modules/db/main.tf",
                11,
                false,
                &["infra/main.tf:1"]
            ),
            // `encrypted = var.ledger_encrypted`, unknown in the root: unknown, via the call.
            row(
                RDS,
                "infra/modules/db/main.tf",
                11,
                true,
                &["infra/main.tf:7"]
            ),
            // Hard-coded in the module: reported once, by the module scanned on its own.
            row(RDS, "infra/modules/db/main.tf", 18, false, &[]),
        ],
        "{v}"
    );
    let notice = &v["findings"][0];
    assert_eq!(notice["severity"], "info");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .starts_with("module \"vpc\" not evaluated: module not downloaded"),
        "{notice}"
    );
    assert_eq!(
        v["findings"][1]["related"][0]["message"],
        "module call \"orders_db\" (./modules/db)"
    );
    assert_eq!(
        v["findings"][1]["logical_path"],
        "module.orders_db/resource.aws_db_instance.this/storage_encrypted"
    );

    let text = String::from_utf8_lossy(&scan(dir.path(), "text", RDS).stdout).into_owned();
    assert!(
        text.contains("does not encrypt its storage (via module call at infra/main.tf:1)"),
        "{text}"
    );

    let sarif: serde_json::Value =
        serde_json::from_slice(&scan(dir.path(), "sarif", RDS).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let via = results
        .iter()
        .find(|r| r["relatedLocations"].is_array() && r["properties"]["unknown"].is_null())
        .expect("a result with related locations");
    let related = &via["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "main.tf"
    );
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(
        related["message"]["text"],
        "module call \"orders_db\" (./modules/db)"
    );
    assert_eq!(
        via["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
}

#[test]
fn downloaded_modules_are_followed_through_modules_json_and_not_scanned_on_their_own() {
    let dir = tree(&[
        ("infra/main.tf", ROOT),
        ("infra/modules/db/main.tf", DB),
        ("infra/.terraform/modules/modules.json", MANIFEST),
        ("infra/.terraform/modules/vpc/main.tf", VPC),
    ]);
    let v = json(&scan(dir.path(), "json", RDS));
    let got = found(&v);
    assert!(
        got.contains(&row(
            RDS,
            "infra/.terraform/modules/vpc/main.tf",
            1,
            false,
            &["infra/main.tf:19"]
        )),
        "{got:?}"
    );
    assert!(!got.iter().any(|f| f.0 == "not-evaluated"), "{got:?}");
    // `.terraform` is read through the calls only: no finding without the call.
    assert!(
        !got.iter()
            .any(|f| f.1.contains(".terraform") && f.4.is_empty()),
        "{got:?}"
    );
}

#[test]
fn nested_calls_list_every_call_innermost_first_and_a_missing_local_module_is_a_notice() {
    let dir = tree(&[
        (
            "infra/main.tf",
            "module \"app\" {\n  source = \"./modules/app\"\n}\n\nmodule \"gone\" {\n  source = \"./modules/gone\"\n}\n",
        ),
        (
            "infra/modules/app/main.tf",
            "module \"db\" {\n  source    = \"../db\"\n  name      = \"app\"\n  encrypted = false\n}\n",
        ),
        ("infra/modules/db/main.tf", DB),
    ]);
    let v = json(&scan(dir.path(), "json", RDS));
    let got = found(&v);
    assert!(
        got.contains(&row(
            RDS,
            "infra/modules/db/main.tf",
            11,
            false,
            &["infra/modules/app/main.tf:1", "infra/main.tf:1"]
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&row("not-evaluated", "infra/main.tf", 5, true, &[])),
        "{got:?}"
    );
    let names: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["logical_path"].as_str())
        .filter(|p| p.starts_with("module.app.module.db/"))
        .collect();
    assert_eq!(
        names,
        ["module.app.module.db/resource.aws_db_instance.this/storage_encrypted"]
    );
}

/// Buckets made with `count` or `for_each`, companions pointing at an instance.
const COUNTED: &str = r#"resource "aws_s3_bucket" "counted" {
  count  = 2
  bucket = "acme-counted-${count.index}"
}

resource "aws_s3_bucket_public_access_block" "counted" {
  count                   = 2
  bucket                  = aws_s3_bucket.counted[count.index].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "keyed" {
  for_each = toset(["a", "b"])
  bucket   = "acme-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "keyed" {
  for_each                = toset(["a", "b"])
  bucket                  = aws_s3_bucket.keyed[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "iterated" {
  for_each = toset(["c", "d"])
  bucket   = "acme-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "iterated" {
  for_each                = aws_s3_bucket.iterated
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "first" {
  count  = 1
  bucket = "acme-first"
}

resource "aws_s3_bucket_public_access_block" "first" {
  bucket                  = aws_s3_bucket.first[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "alone" {
  count  = 1
  bucket = "acme-alone"
}

resource "aws_s3_bucket_public_access_block" "other" {
  for_each                = aws_s3_bucket.counted_other
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"#;

#[test]
fn companions_link_to_buckets_made_with_count_and_for_each() {
    let dir = tree(&[("infra/main.tf", COUNTED)]);
    let v = json(&scan(dir.path(), "json", "tf-aws-s3-public-access-block"));
    // Every bucket has its block but `alone` (the last block iterates another resource).
    assert_eq!(
        found(&v),
        [row(
            "tf-aws-s3-public-access-block",
            "infra/main.tf",
            56,
            false,
            &[]
        )],
        "{v}"
    );
}

/// A plan whose companions' `bucket` is unknown at plan time: only `configuration` links them.
const LINKED_PLAN: &str = r#"{
  "format_version": "FORMAT",
  "terraform_version": "1.9.5",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_s3_bucket.logs",
          "mode": "managed",
          "type": "aws_s3_bucket",
          "name": "logs",
          "values": { "bucket": "acme-logs", "force_destroy": false }
        },
        {
          "address": "aws_s3_bucket.open",
          "mode": "managed",
          "type": "aws_s3_bucket",
          "name": "open",
          "values": { "bucket": "acme-open", "force_destroy": false }
        },
        {
          "address": "aws_s3_bucket.counted[0]",
          "mode": "managed",
          "type": "aws_s3_bucket",
          "name": "counted",
          "index": 0,
          "values": { "bucket": "acme-counted-0" }
        },
        {
          "address": "aws_s3_bucket_public_access_block.logs",
          "mode": "managed",
          "type": "aws_s3_bucket_public_access_block",
          "name": "logs",
          "values": {
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true
          }
        },
        {
          "address": "aws_s3_bucket_public_access_block.counted[0]",
          "mode": "managed",
          "type": "aws_s3_bucket_public_access_block",
          "name": "counted",
          "index": 0,
          "values": {
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true
          }
        }
      ]
    }
  },
  "configuration": {
    "root_module": {
      "resources": [
        {
          "address": "aws_s3_bucket_public_access_block.logs",
          "mode": "managed",
          "type": "aws_s3_bucket_public_access_block",
          "name": "logs",
          "expressions": {
            "bucket": { "references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"] },
            "block_public_acls": { "constant_value": true }
          }
        },
        {
          "address": "aws_s3_bucket_public_access_block.counted",
          "mode": "managed",
          "type": "aws_s3_bucket_public_access_block",
          "name": "counted",
          "expressions": {
            "bucket": { "references": ["aws_s3_bucket.counted", "count.index"] }
          },
          "count_expression": { "constant_value": 1 }
        }
      ]
    }
  },
  "resource_changes": []
}
"#;

/// The sources of the plan above.
const LINKED_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket" "open" {
  bucket = "acme-open"
}

resource "aws_s3_bucket" "counted" {
  count  = 1
  bucket = "acme-counted-${count.index}"
}
"#;

fn scan_plan(dir: &std::path::Path) -> serde_json::Value {
    json(&run_in(
        dir,
        &[
            "scan",
            "plan",
            "--only",
            "tf-aws-s3-public-access-block",
            "--format",
            "json",
            "--no-config",
        ],
    ))
}

#[test]
fn plan_companions_link_through_configuration_references() {
    let dir = tree(&[("plan/tfplan.json", &LINKED_PLAN.replace("FORMAT", "1.2"))]);
    let v = scan_plan(dir.path());
    // Only `open` has no block; `logs` and `counted[0]` are linked through `configuration`.
    assert_eq!(
        found(&v),
        [row(
            "tf-aws-s3-public-access-block",
            "plan/tfplan.json",
            15,
            false,
            &[]
        )],
        "{v}"
    );
}

#[test]
fn plan_findings_point_at_the_tf_block_when_the_sources_are_beside_the_plan() {
    let dir = tree(&[
        ("plan/tfplan.json", &LINKED_PLAN.replace("FORMAT", "1.2")),
        ("plan/main.tf", LINKED_TF),
    ]);
    let v = scan_plan(dir.path());
    let got: Vec<_> = found(&v)
        .into_iter()
        .filter(|f| f.1 == "plan/tfplan.json" || f.1 == "plan/main.tf")
        .collect();
    // The module scanned on its own has no companions (they exist in the plan only): its three
    // buckets fail at lines 1, 5 and 9. The plan's one finding (`open`) is at its `.tf` block,
    // line 5, not in the JSON.
    let lines: Vec<u64> = got.iter().map(|f| f.2).collect();
    assert_eq!(lines, [1, 5, 5, 9], "{got:?}");
    assert!(got.iter().all(|f| f.1 == "plan/main.tf"), "{got:?}");
    let plan_finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["start"]["line"] == 5)
        .count();
    assert_eq!(plan_finding, 2, "{v}");
}

#[test]
fn an_unknown_plan_format_is_a_notice_at_its_version() {
    let dir = tree(&[("plan/tfplan.json", &LINKED_PLAN.replace("FORMAT", "2.0"))]);
    let v = scan_plan(dir.path());
    let notice = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "not-evaluated")
        .unwrap_or_else(|| panic!("a notice: {v}"));
    assert_eq!(notice["path"], "plan/tfplan.json");
    assert_eq!(notice["start"]["line"], 2);
    assert_eq!(notice["severity"], "info");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .starts_with("plan format_version 2.0 is not one isms-lint knows"),
        "{notice}"
    );
    // The resources are still judged as 1.x.
    assert!(found(&v)
        .iter()
        .any(|f| f.0 == "tf-aws-s3-public-access-block" && f.2 == 15));
}

#[test]
fn a_call_that_cannot_be_followed_is_said_once_whatever_the_chains_leading_to_it() {
    // Two examples call one module, which calls a registry module that is not downloaded: the
    // call is met through each example and through the module's own scan, and said once.
    let example = |n: u32| {
        format!("module \"net\" {{\n  source = \"../../modules/net\"\n  name   = \"ex{n}\"\n}}\n")
    };
    let one = example(1);
    let two = example(2);
    let dir = tree(&[
        ("infra/examples/one/main.tf", one.as_str()),
        ("infra/examples/two/main.tf", two.as_str()),
        (
            "infra/modules/net/main.tf",
            "variable \"name\" {}\n\nmodule \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}\n",
        ),
    ]);
    let v = json(&scan(dir.path(), "json", RDS));
    let notices: Vec<_> = found(&v)
        .into_iter()
        .filter(|f| f.0 == "not-evaluated")
        .collect();
    assert_eq!(
        notices,
        [row(
            "not-evaluated",
            "infra/modules/net/main.tf",
            3,
            true,
            &[]
        )],
        "{v}"
    );
}
