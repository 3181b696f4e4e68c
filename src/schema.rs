//! JSON Schemas for rule files and `.isms-lint.yaml`, generated from Rust types and committed
//! under `schemas/` so editors validate and complete them (a test fails when they drift).

use schemars::JsonSchema;

use crate::rules::Severity;

/// A rule file, as editors see it (the loader checks the same fields, with exact locations).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "isms-lint rule")]
#[allow(dead_code)]
pub struct RuleFile {
    /// Kebab-case id; defaults to the file stem and must equal it.
    id: Option<String>,
    /// One line, imperative.
    title: String,
    /// What the rule checks and why.
    description: Option<String>,
    /// Severity of its findings.
    severity: Severity,
    /// Document kinds it judges.
    kinds: Vec<KindName>,
    /// Globs the document's path must match (required for yaml/json/toml kinds).
    files: Option<Vec<String>>,
    /// Annex A controls the rule evidences.
    controls: Vec<ControlLinkFile>,
    /// CEL: the list of elements to judge (default: the document).
    select: Option<String>,
    /// CEL filter on each element.
    when: Option<String>,
    /// CEL, true when the element is compliant.
    #[serde(rename = "assert")]
    assertion: String,
    /// Path inside the element to point at, e.g. `securityContext.privileged`.
    at: Option<String>,
    /// Message with `{{ cel }}` holes.
    message: String,
    /// How to fix a finding.
    remediation: String,
    /// Links.
    references: Option<Vec<String>>,
    /// Extra SARIF tags.
    tags: Option<Vec<String>>,
}

/// A link to an Annex A control.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ControlLinkFile {
    /// Annex A 2022 id, `8.24` or `A.8.24`.
    #[schemars(regex(pattern = r"^(A\.)?[5-8]\.[0-9]{1,2}$"))]
    id: String,
    /// How strongly the rule evidences the control.
    relation: RelationName,
    /// Why this configuration is evidence for the control, in plain words.
    #[schemars(length(min = 1))]
    rationale: String,
}

/// Relation names.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RelationName {
    /// Demonstrates the control's technical requirement.
    Full,
    /// Demonstrates part of it.
    Partial,
    /// Supports it.
    Supports,
}

/// Document kind names.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum KindName {
    /// Kubernetes objects.
    Kubernetes,
    /// GitHub workflows.
    GithubWorkflow,
    /// GitHub action metadata.
    GithubAction,
    /// Compose files.
    Compose,
    /// CloudFormation templates.
    Cloudformation,
    /// Terraform modules.
    Terraform,
    /// Terraform plans.
    TerraformPlan,
    /// Dockerfiles.
    Dockerfile,
    /// The repository.
    Repository,
    /// Other YAML.
    Yaml,
    /// Other JSON.
    Json,
    /// TOML.
    Toml,
}

fn pretty(schema: schemars::Schema) -> String {
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

/// The rule file schema.
pub fn rule_schema() -> String {
    pretty(schemars::schema_for!(RuleFile))
}

/// The config file schema.
pub fn config_schema() -> String {
    pretty(schemars::schema_for!(crate::config::Config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_schema_lists_exactly_the_loader_fields() {
        let v: serde_json::Value = serde_json::from_str(&rule_schema()).unwrap();
        let mut props: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        props.sort();
        let mut fields: Vec<String> = crate::rules::RULE_FIELDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        fields.sort();
        assert_eq!(props, fields);
        assert_eq!(v["additionalProperties"], false);
    }

    #[test]
    fn kind_names_match_the_engine() {
        let v: serde_json::Value = serde_json::from_str(&rule_schema()).unwrap();
        let text = v.to_string();
        for k in crate::doc::Kind::ALL {
            assert!(text.contains(&format!("\"{}\"", k.as_str())), "{k}");
        }
    }
}
