//! Tests of the module and plan documents.

use super::*;
use crate::doc::tree::{Span, Value};

thread_local! {
    /// The position table of the module or plan a test read last ([`module`], [`plan`]), to
    /// read its spans with [`lines`], [`start`] and [`end`].
    static LAST: std::cell::RefCell<Positions> = std::cell::RefCell::default();
}

/// Keeps `positions` as the table [`lines`], [`start`] and [`end`] read.
fn keep(positions: Positions) {
    LAST.set(positions);
}

fn start(span: Span) -> Pos {
    LAST.with_borrow(|p| p.start(span))
}

fn end(span: Span) -> Pos {
    LAST.with_borrow(|p| p.end(span))
}

fn file(span: Span) -> u32 {
    LAST.with_borrow(|p| p.file(span))
}

fn src(path: &str, text: &str) -> SourceText {
    SourceText {
        path: path.into(),
        text: text.into(),
    }
}

fn module(files: &[(&str, &str)]) -> Node {
    let tf: Vec<_> = files.iter().map(|(p, t)| src(p, t)).collect();
    {
        let (doc, errors, positions) = parse_module(&tf, &[]);
        assert!(errors.is_empty(), "{errors:?}");
        keep(positions);
        doc
    }
}

/// The node at `path`: map keys, or list indexes written as numbers.
fn at<'n>(node: &'n Node, path: &[&str]) -> &'n Node {
    path.iter()
        .fold(node, |n, key| match (&n.value, key.parse::<usize>()) {
            (Value::List(l), Ok(i)) => &l.items()[i],
            _ => n
                .get(key)
                .unwrap_or_else(|| panic!("no '{key}' in {:?}", n.to_json())),
        })
}

fn json(node: &Node, path: &[&str]) -> serde_json::Value {
    at(node, path).to_json()
}

fn unknown(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Unknown(u) => Some(u.text()),
        _ => None,
    }
}

fn lines(span: Span) -> (u32, u32, u32) {
    (file(span), start(span).line, end(span).line)
}

const A_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
"#;

const B_TF: &str = r#"# public access block for the logs bucket

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  restrict_public_buckets = false
}
"#;

#[test]
fn two_files_keep_their_file_index_and_lines() {
    let doc = module(&[("a.tf", A_TF), ("b.tf", B_TF)]);
    let bucket = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    assert_eq!(lines(bucket.span), (0, 1, 3));
    assert_eq!((start(bucket.span).col, end(bucket.span).col), (1, 2));
    assert_eq!(json(bucket, &["bucket"]), "acme-logs");
    assert_eq!(json(bucket, &["_address"]), "aws_s3_bucket.logs");

    let pab = at(
        &doc,
        &["resource", "aws_s3_bucket_public_access_block", "logs"],
    );
    assert_eq!(lines(pab.span), (1, 3, 7));
    let reference = at(pab, &["bucket"]);
    assert_eq!(unknown(reference), Some("aws_s3_bucket.logs.id"));
    assert_eq!(lines(reference.span), (1, 4, 4));
    assert_eq!(start(reference.span).col, 29);
    let entry = pab.as_map().unwrap().entry("block_public_acls").unwrap();
    assert_eq!((file(entry.key_span), start(entry.key_span).line), (1, 5));
    assert_eq!(start(entry.key_span).col, 3);
    assert_eq!(json(pab, &["restrict_public_buckets"]), false);
    assert_eq!(json(pab, &["_type"]), "aws_s3_bucket_public_access_block");
    assert_eq!(json(pab, &["_name"]), "logs");
}

#[test]
fn nested_blocks_are_lists_even_when_single() {
    let doc = module(&[(
        "main.tf",
        r#"resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port = 80
  }
  egress {
    from_port = 0
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = "logs"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
"#,
    )]);
    let sg = at(&doc, &["resource", "aws_security_group", "web"]);
    assert_eq!(
        json(sg, &["ingress"]),
        serde_json::json!([{"from_port": 443, "cidr_blocks": ["0.0.0.0/0"]}, {"from_port": 80}])
    );
    assert_eq!(json(sg, &["egress"]), serde_json::json!([{"from_port": 0}]));
    let ingress = at(sg, &["ingress"]);
    assert_eq!(lines(ingress.span), (0, 3, 9));
    assert_eq!(lines(at(ingress, &["1"]).span), (0, 7, 9));

    let sse = at(
        &doc,
        &[
            "resource",
            "aws_s3_bucket_server_side_encryption_configuration",
            "logs",
        ],
    );
    let algo = at(
        sse,
        &[
            "rule",
            "0",
            "apply_server_side_encryption_by_default",
            "0",
            "sse_algorithm",
        ],
    );
    assert_eq!(algo.as_str(), Some("aws:kms"));
    assert_eq!(lines(algo.span), (0, 19, 19));
    assert!(at(sse, &["rule"]).as_list().is_some());
}

#[test]
fn dynamic_blocks_join_the_list() {
    let doc = module(&[(
        "main.tf",
        r#"resource "aws_security_group" "dyn" {
  ingress {
    from_port = 22
  }
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port   = ingress.value.port
      cidr_blocks = ["10.0.0.0/8"]
    }
  }
}
"#,
    )]);
    let ingress = at(&doc, &["resource", "aws_security_group", "dyn", "ingress"]);
    assert_eq!(ingress.as_list().unwrap().items().len(), 2);
    let dynamic = at(ingress, &["1"]);
    assert_eq!(lines(dynamic.span), (0, 5, 11));
    assert_eq!(json(dynamic, &["_dynamic"]), true);
    assert_eq!(json(dynamic, &["_for_each"]), "var.rules");
    assert_eq!(
        unknown(at(dynamic, &["from_port"])),
        Some("ingress.value.port")
    );
    assert_eq!(
        json(dynamic, &["cidr_blocks"]),
        serde_json::json!(["10.0.0.0/8"])
    );
    assert!(dynamic.get("content").is_none() && dynamic.get("for_each").is_none());
}

const VARS_TF: &str = r#"variable "env" {
  type    = string
  default = "dev"
}

variable "retention" {
  type = number
}

variable "tags" {
  type    = map(string)
  default = { Owner = "ops", "Cost Center" = "42" }
}

locals {
  prefix = "${var.env}-acme"
  bucket = "${local.prefix}-logs"
  copy   = local.bucket
  days   = var.retention
}

resource "aws_s3_bucket" "logs" {
  bucket = local.copy
  name   = "${var.env}-logs"
  owner  = var.tags.Owner
  cost   = var.tags["Cost Center"]
  days   = local.days
  tags   = var.tags
}
"#;

#[test]
fn variables_locals_and_templates_resolve() {
    let doc = module(&[("main.tf", VARS_TF)]);
    let b = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    assert_eq!(json(b, &["bucket"]), "dev-acme-logs");
    assert_eq!(json(b, &["name"]), "dev-logs");
    assert_eq!(json(b, &["owner"]), "ops");
    assert_eq!(json(b, &["cost"]), "42");
    assert_eq!(json(b, &["tags", "Owner"]), "ops");
    // A resolved value is written where it is used.
    assert_eq!(lines(at(b, &["bucket"]).span), (0, 23, 23));
    assert_eq!(lines(at(b, &["tags", "Owner"]).span), (0, 28, 28));
    // No default, no tfvars: unknown, with the reference as text.
    assert_eq!(unknown(at(b, &["days"])), Some("local.days"));
    assert_eq!(json(&doc, &["locals", "bucket"]), "dev-acme-logs");
    assert_eq!(json(&doc, &["variable", "env", "type"]), "string");
    assert_eq!(json(&doc, &["variable", "tags", "type"]), "map(string)");
}

#[test]
fn tfvars_override_defaults_in_terraform_order() {
    let tf = [src("main.tf", VARS_TF)];
    let tfvars = [
        src("env/z.auto.tfvars", "retention = 30\n"),
        src("env/a.auto.tfvars", "env = \"staging\"\n"),
        src("env/terraform.tfvars", "env = \"prod\"\nretention = 7\n"),
    ];
    let (doc, _, positions) = parse_module(&tf, &tfvars);
    keep(positions);
    let b = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    // terraform.tfvars first, then *.auto.tfvars in name order: a (env), z (retention).
    assert_eq!(json(b, &["bucket"]), "staging-acme-logs");
    assert_eq!(json(b, &["days"]), 30);
    // The declaration still shows its own default.
    assert_eq!(json(&doc, &["variable", "env", "default"]), "dev");
}

#[test]
fn references_and_calls_are_unknown_conditionals_keep_both_branches() {
    let doc = module(&[(
        "main.tf",
        r#"data "aws_iam_policy_document" "read" {
  statement {
    actions = ["s3:GetObject"]
  }
}

resource "aws_iam_policy" "read" {
  policy      = data.aws_iam_policy_document.read.json
  name        = "${var.missing}-read"
  description = upper("read")
  path        = var.env == "prod" ? "/prod/" : "/"
  arns        = aws_s3_bucket.all[*].arn
  names       = [for b in var.buckets : b.name]
  vpc         = module.net.vpc_id
  count       = length(var.buckets)
  for_each    = toset(
    ["a", "b"]
  )
}
"#,
    )]);
    let data = at(&doc, &["data", "aws_iam_policy_document", "read"]);
    assert_eq!(
        json(data, &["_address"]),
        "data.aws_iam_policy_document.read"
    );
    assert_eq!(
        json(data, &["statement", "0", "actions"]),
        serde_json::json!(["s3:GetObject"])
    );
    let p = at(&doc, &["resource", "aws_iam_policy", "read"]);
    let policy = at(p, &["policy"]);
    assert_eq!(
        unknown(policy),
        Some("data.aws_iam_policy_document.read.json")
    );
    assert_eq!(lines(policy.span), (0, 8, 8));
    assert_eq!((start(policy.span).col, end(policy.span).col), (17, 55));
    let texts = [
        ("name", "\"${var.missing}-read\""),
        ("description", "upper(\"read\")"),
        ("arns", "aws_s3_bucket.all[*].arn"),
        ("names", "[for b in var.buckets : b.name]"),
        ("vpc", "module.net.vpc_id"),
        ("count", "length(var.buckets)"),
    ];
    for (key, text) in texts {
        assert_eq!(unknown(at(p, &[key])), Some(text), "{key}");
    }
    // References to other objects are unknown but known to be set; others are not.
    let set = |n: &Node| matches!(&n.value, Value::Unknown(u) if u.is_set());
    assert!(set(policy) && !set(at(p, &["arns"])) && set(at(p, &["vpc"])));
    assert!(!set(at(p, &["name"])));
    assert_eq!(json(p, &["for_each"]), serde_json::json!(["a", "b"]));
    // A condition not known before deployment keeps both branches.
    let Value::Choice(path) = &at(p, &["path"]).value else {
        panic!("a choice")
    };
    assert_eq!(path.condition(), "var.env == \"prod\"");
    assert_eq!(path.branch(0).and_then(Node::as_str), Some("/prod/"));
    assert_eq!(path.branch(1).and_then(Node::as_str), Some("/"));
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let tf = [
        src("a.tf", A_TF),
        src("b.tf", "resource \"x\" \"y\" {\n  a = 1\n  b = \n}\n"),
    ];
    let (_, errors, _) = parse_module(&tf, &[]);
    let err = &errors[0];
    assert_eq!(err.file, 1);
    assert_eq!(err.pos, Pos::new(3, 7));
    assert!(!err.message.is_empty());

    let tfvars = [src("terraform.tfvars", "env = \"prod\"\nenv = \"x\"\n")];
    let (_, errors, _) = parse_module(&tf[..1], &tfvars);
    let err = &errors[0];
    assert_eq!((err.file, err.pos.line), (1, 2));
}

#[test]
fn heredocs_become_strings() {
    let doc = module(&[(
        "main.tf",
        "locals {\n  plain = <<EOT\n  {\n    \"a\": 1\n  }\nEOT\n  indented = <<-EOT\n    line one\n      line two\n    EOT\n}\n",
    )]);
    assert_eq!(json(&doc, &["locals", "plain"]), "  {\n    \"a\": 1\n  }\n");
    assert_eq!(
        json(&doc, &["locals", "indented"]),
        "line one\n  line two\n"
    );
    assert_eq!(lines(at(&doc, &["locals", "plain"]).span), (0, 2, 6));
}

#[test]
fn numbers_bools_and_null() {
    let doc = module(&[(
        "main.tf",
        "locals {\n  a = 42\n  b = -7\n  c = 0.5\n  e = null\n  f = !true\n  g = 2.5e1\n}\n",
    )]);
    let l = at(&doc, &["locals"]);
    assert!(matches!(at(l, &["a"]).value, Value::Int(ref i) if **i == 42));
    assert!(matches!(at(l, &["b"]).value, Value::Int(ref i) if **i == -7));
    assert!(matches!(at(l, &["c"]).value, Value::Float(ref f) if **f == 0.5));
    assert!(matches!(at(l, &["e"]).value, Value::Null));
    assert_eq!(json(l, &["f"]), false);
    assert_eq!(json(l, &["g"]), 25);
}

#[test]
fn providers_are_lists_of_blocks() {
    let doc = module(&[
        ("a.tf", "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n"),
        (
            "b.tf",
            "provider \"aws\" {\n  alias  = \"us\"\n  region = \"us-east-1\"\n  assume_role {\n    role_arn = \"arn:aws:iam::1:role/x\"\n  }\n}\n",
        ),
    ]);
    let aws = at(&doc, &["provider", "aws"]);
    assert_eq!(aws.as_list().unwrap().items().len(), 2);
    assert_eq!(json(aws, &["0", "region"]), "eu-west-1");
    assert_eq!(json(aws, &["1", "alias"]), "us");
    assert_eq!(
        json(aws, &["1", "assume_role", "0", "role_arn"]),
        "arn:aws:iam::1:role/x"
    );
    assert_eq!(lines(at(aws, &["1"]).span), (1, 1, 7));
}

#[test]
fn terraform_blocks_merge() {
    let doc = module(&[
        (
            "versions.tf",
            r#"terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = "~> 3.0"
  }
  backend "s3" {
    bucket  = "state"
    encrypt = true
  }
}
"#,
        ),
        (
            "more.tf",
            "terraform {\n  required_providers {\n    tls = { source = \"hashicorp/tls\" }\n  }\n}\n",
        ),
    ]);
    let t = at(&doc, &["terraform"]);
    assert_eq!(json(t, &["required_version"]), ">= 1.5");
    assert_eq!(
        json(t, &["required_providers"]),
        serde_json::json!({
            "aws": {"source": "hashicorp/aws", "version": "~> 5.0"},
            "random": "~> 3.0",
            "tls": {"source": "hashicorp/tls"}
        })
    );
    assert_eq!(json(t, &["backend", "s3", "encrypt"]), true);
    assert_eq!(lines(at(t, &["backend", "s3"]).span), (0, 10, 13));
    assert_eq!(lines(at(t, &["required_providers", "tls"]).span), (1, 3, 3));
}

#[test]
fn modules_outputs_and_variables() {
    let doc = module(&[(
        "main.tf",
        r#"module "net" {
  source  = "./modules/net"
  cidr    = "10.0.0.0/16"
  subnets = module.base.subnets
}

variable "db_password" {
  type        = string
  sensitive   = true
  description = "Database password"
  validation {
    condition     = length(var.db_password) > 12
    error_message = "too short"
  }
}

output "bucket" {
  value     = aws_s3_bucket.logs.id
  sensitive = false
}
"#,
    )]);
    let net = at(&doc, &["module", "net"]);
    assert_eq!(json(net, &["source"]), "./modules/net");
    assert_eq!(json(net, &["_name"]), "net");
    assert_eq!(json(net, &["_address"]), "module.net");
    assert_eq!(unknown(at(net, &["subnets"])), Some("module.base.subnets"));
    let v = at(&doc, &["variable", "db_password"]);
    assert_eq!(json(v, &["sensitive"]), true);
    assert_eq!(json(v, &["description"]), "Database password");
    assert_eq!(json(v, &["validation", "0", "error_message"]), "too short");
    let out = at(&doc, &["output", "bucket"]);
    assert_eq!(unknown(at(out, &["value"])), Some("aws_s3_bucket.logs.id"));
    assert_eq!(json(out, &["sensitive"]), false);
}

#[test]
fn duplicate_addresses_keep_the_first() {
    let doc = module(&[
        ("a.tf", A_TF),
        (
            "b.tf",
            "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"other\"\n}\n",
        ),
    ]);
    let b = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    assert_eq!(json(b, &["bucket"]), "acme-logs");
    assert_eq!(file(b.span), 0);
}

#[test]
fn labelled_nested_blocks_are_maps_and_meta_arguments_stay() {
    let doc = module(&[(
        "main.tf",
        r#"resource "aws_instance" "web" {
  count = 2
  ami   = "ami-123"
  provisioner "local-exec" {
    command = "echo hi"
  }
  lifecycle {
    prevent_destroy = true
  }
}
"#,
    )]);
    let web = at(&doc, &["resource", "aws_instance", "web"]);
    assert_eq!(json(web, &["count"]), 2);
    assert_eq!(
        json(web, &["provisioner", "local-exec", "command"]),
        "echo hi"
    );
    assert_eq!(json(web, &["lifecycle", "0", "prevent_destroy"]), true);
}

#[test]
fn local_cycles_and_bad_indexes_stay_unknown() {
    let doc = module(&[(
        "main.tf",
        r#"variable "list" {
  default = ["a", "b"]
}
locals {
  a = local.b
  b = local.a
  self = "${local.self}x"
  first = var.list[0]
  legacy = var.list.1
  out = var.list[5]
  both = [local.first, "${local.a}"]
}
"#,
    )]);
    let l = at(&doc, &["locals"]);
    assert_eq!(unknown(at(l, &["a"])), Some("local.b"));
    assert_eq!(unknown(at(l, &["self"])), Some("\"${local.self}x\""));
    assert_eq!(json(l, &["first"]), "a");
    assert_eq!(json(l, &["legacy"]), "b");
    assert_eq!(unknown(at(l, &["out"])), Some("var.list[5]"));
    assert_eq!(json(l, &["both", "0"]), "a");
    assert_eq!(unknown(at(l, &["both", "1"])), Some("\"${local.a}\""));
}

#[test]
fn template_details() {
    let doc = module(&[(
        "main.tf",
        r#"variable "n" {
  default = 3
}
variable "on" {
  default = true
}
locals {
  count   = "${var.n}"
  text    = "n=${var.n} on=${var.on}"
  escaped = "$${var.n} %%{x}"
  strip   = "a  ${~ var.n ~}  b"
  direct  = "%{ if var.on }yes%{ endif }"
}
"#,
    )]);
    let l = at(&doc, &["locals"]);
    // A lone interpolation keeps the value's type, as in Terraform.
    assert_eq!(json(l, &["count"]), 3);
    assert_eq!(json(l, &["text"]), "n=3 on=true");
    assert_eq!(json(l, &["escaped"]), "${var.n} %{x}");
    assert_eq!(json(l, &["strip"]), "a3b");
    assert_eq!(
        unknown(at(l, &["direct"])),
        Some("\"%{ if var.on }yes%{ endif }\"")
    );
}

#[test]
fn empty_and_malformed_input_never_panics() {
    let empty = parse_module(&[], &[]).0;
    assert_eq!(empty.as_map().map(|m| m.len()), Some(0));
    let text = format!("{VARS_TF}{B_TF}\u{feff}é \"${{x");
    for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
        let _ = parse_module(&[src("x.tf", &text[..end])], &[]);
    }
    for junk in [
        "}",
        "{",
        "a = ",
        "resource {}",
        "\"",
        "<<EOT\n",
        "x = [",
        "\u{0}",
    ] {
        let _ = parse_module(&[src("x.tf", junk)], &[src("terraform.tfvars", junk)]);
    }
    // Wrong label counts are skipped, not misplaced.
    let doc = module(&[("m.tf", "resource \"x\" {\n}\nvariable {\n}\n")]);
    assert!(doc.get("resource").is_none() && doc.get("variable").is_none());
}

const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.7.5",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_s3_bucket.logs",
          "mode": "managed",
          "type": "aws_s3_bucket",
          "name": "logs",
          "provider_name": "registry.terraform.io/hashicorp/aws",
          "values": {
            "bucket": "acme-logs",
            "force_destroy": false,
            "server_side_encryption_configuration": [
              {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}
            ]
          }
        },
        {
          "address": "data.aws_caller_identity.me",
          "mode": "data",
          "type": "aws_caller_identity",
          "name": "me",
          "values": {"account_id": "123"}
        }
      ],
      "child_modules": [
        {
          "address": "module.net",
          "resources": [
            {
              "address": "module.net.aws_s3_bucket.logs",
              "mode": "managed",
              "type": "aws_s3_bucket",
              "name": "logs",
              "values": {"bucket": "net-logs"}
            }
          ],
          "child_modules": [
            {
              "address": "module.net.module.deep",
              "resources": [
                {
                  "address": "module.net.module.deep.aws_vpc.main[0]",
                  "mode": "managed",
                  "type": "aws_vpc",
                  "name": "main",
                  "index": 0,
                  "values": {"cidr_block": "10.0.0.0/16"}
                }
              ]
            }
          ]
        }
      ]
    }
  },
  "resource_changes": [
    {"address": "aws_s3_bucket.logs", "change": {"actions": ["create"]}}
  ]
}
"#;

fn plan() -> Node {
    let stream = crate::doc::yaml::parse(PLAN).expect("plan JSON parses");
    keep(stream.positions.clone());
    plan_document(&stream.documents[0]).expect("is a plan")
}

#[test]
fn plan_resources_are_flattened_by_address() {
    let doc = plan();
    let root = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    assert_eq!(json(root, &["bucket"]), "acme-logs");
    assert_eq!(json(root, &["_address"]), "aws_s3_bucket.logs");
    assert_eq!(json(root, &["_mode"]), "managed");
    assert_eq!(json(root, &["_name"]), "logs");
    assert_eq!(
        json(
            root,
            &[
                "server_side_encryption_configuration",
                "0",
                "rule",
                "0",
                "apply_server_side_encryption_by_default",
                "0",
                "sse_algorithm"
            ]
        ),
        "aws:kms"
    );
    let child = at(
        &doc,
        &["resource", "aws_s3_bucket", "module.net.aws_s3_bucket.logs"],
    );
    assert_eq!(json(child, &["bucket"]), "net-logs");
    let deep = at(
        &doc,
        &[
            "resource",
            "aws_vpc",
            "module.net.module.deep.aws_vpc.main[0]",
        ],
    );
    assert_eq!(json(deep, &["cidr_block"]), "10.0.0.0/16");
    let me = at(&doc, &["data", "aws_caller_identity", "me"]);
    assert_eq!(json(me, &["account_id"]), "123");
    assert_eq!(json(me, &["_mode"]), "data");
    assert_eq!(json(&doc, &["terraform_version"]), "1.7.5");
    assert_eq!(
        json(&doc, &["resource_changes", "0", "change", "actions"]),
        serde_json::json!(["create"])
    );
}

#[test]
fn plan_spans_point_into_the_json() {
    let doc = plan();
    let root = at(&doc, &["resource", "aws_s3_bucket", "logs"]);
    // The resource object in planned_values, from its `{` to its `}`.
    assert_eq!((start(root.span).line, end(root.span).line), (7, 20));
    assert_eq!(start(at(root, &["bucket"]).span).line, 14);
    let child = at(
        &doc,
        &["resource", "aws_s3_bucket", "module.net.aws_s3_bucket.logs"],
    );
    assert_eq!(start(at(child, &["bucket"]).span).line, 38);
    let changes = at(&doc, &["resource_changes"]);
    assert_eq!(start(changes.span).line, 60);
}

#[test]
fn non_plans_are_not_plan_documents() {
    let stream = crate::doc::yaml::parse("{\"values\": {\"root_module\": {}}}").unwrap();
    assert!(plan_document(&stream.documents[0]).is_none());
    let stream = crate::doc::yaml::parse("[1, 2]").unwrap();
    assert!(plan_document(&stream.documents[0]).is_none());
    let only_changes = crate::doc::yaml::parse("{\"resource_changes\": []}").unwrap();
    let doc = plan_document(&only_changes.documents[0]).unwrap();
    assert!(doc.get("resource").is_none());
    assert!(doc.get("resource_changes").is_some());
}

#[test]
fn reference_bombs_and_long_chains_are_bounded() {
    let mut text = String::from("locals {\n  l0 = [\"");
    text.push_str(&"a".repeat(1000));
    text.push_str("\"]\n");
    for i in 1..48 {
        text.push_str(&format!("  l{i} = [local.l{p}, local.l{p}]\n", p = i - 1));
    }
    text.push_str("}\n");
    let doc = module(&[("bomb.tf", &text)]);
    assert_eq!(
        json(&doc, &["locals", "l1", "1", "0"])
            .as_str()
            .map(str::len),
        Some(1000)
    );
    assert_eq!(
        unknown(at(&doc, &["locals", "l47", "0"])),
        Some("local.l46")
    );

    let mut chain =
        String::from("resource \"x\" \"y\" {\n  v = local.c2999\n}\nlocals {\n  c0 = \"x\"\n");
    for i in 1..3000 {
        chain.push_str(&format!("  c{i} = local.c{}\n", i - 1));
    }
    chain.push_str("}\n");
    let doc = module(&[("chain.tf", &chain)]);
    assert_eq!(
        unknown(at(&doc, &["resource", "x", "y", "v"])),
        Some("local.c2999")
    );
    assert_eq!(json(&doc, &["locals", "c5"]), "x");
}

#[test]
fn repeated_object_keys_keep_the_last() {
    // Terraform accepts a repeated key in an object literal and keeps the last value; the file
    // is read, not dropped, and the repetition is a non-fatal error at the second key.
    let tf = [src(
        "main.tf",
        "resource \"x\" \"y\" {\n  match = {\n    ranges = [\"a\"]\n    ranges = [\"b\"]\n    other  = 1\n  }\n}\n",
    )];
    let (doc, errors, _) = parse_module(&tf, &[]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(!errors[0].fatal);
    assert_eq!(errors[0].pos, Pos::new(4, 5));
    assert_eq!(
        errors[0].message,
        "object key 'ranges' is written twice; the last value is used, as Terraform does"
    );
    assert_eq!(
        json(&doc, &["resource", "x", "y", "match"]),
        serde_json::json!({"ranges": ["b"], "other": 1})
    );
    // A repeated attribute in a body is still an error, as it is for Terraform.
    let (_, errors, _) = parse_module(&[src("a.tf", "a = 1\na = 2\n")], &[]);
    assert!(errors[0].fatal);
}
