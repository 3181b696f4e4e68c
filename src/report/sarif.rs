//! SARIF 2.1.0 for GitHub code scanning: one run, rules with help and Annex A tags, the Annex A
//! catalog as a taxonomy (93 control taxa under 4 theme taxa), line-independent fingerprints,
//! suppressions kept, and parse or rule problems as tool notifications.

use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    ReportingDescriptorReference, ReportingDescriptorRelationship, Result as SarifResult,
    ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent, ToolComponentReference,
};

use super::{annex, ReportInput, RULE_DOCS_URL};
use crate::catalog::{self, Theme};
use crate::discover::NoticeLevel;
use crate::finding::{Finding, SuppressionKind};
use crate::rules::{Relation, Severity, BUILTIN_CHECKS};

/// Name of the Annex A taxonomy.
pub const TAXONOMY: &str = "ISO27001-2022-AnnexA";
/// Name of the theme taxonomy the controls belong to.
pub const THEMES: &str = "ISO27001-2022-AnnexA-themes";
/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// Key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "isms-lint/v1";

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn message(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

/// `K8sContainerPrivileged` from `k8s-container-privileged`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Percent-encodes a relative path for a SARIF `uri`.
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn taxon_index(id: &str) -> i64 {
    catalog::controls()
        .iter()
        .position(|c| c.id == catalog::normalize_id(id))
        .map_or(-1, |i| i as i64)
}

struct RuleMeta {
    id: String,
    title: String,
    description: String,
    remediation: String,
    severity: Severity,
    kinds: Vec<String>,
    controls: Vec<(String, Relation, String)>,
    tags: Vec<String>,
}

fn rule_metas(input: &ReportInput<'_>) -> Vec<RuleMeta> {
    let mut metas: Vec<RuleMeta> = input
        .rules
        .rules
        .iter()
        .map(|r| RuleMeta {
            id: r.id.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            remediation: r.remediation.clone(),
            severity: r.severity,
            kinds: r.kinds.iter().map(|k| k.to_string()).collect(),
            controls: r
                .controls
                .iter()
                .map(|c| (c.id.clone(), c.relation, c.rationale.clone()))
                .collect(),
            tags: r.tags.clone(),
        })
        .collect();
    for c in BUILTIN_CHECKS {
        if input.rules.get(c.id).is_none() {
            metas.push(RuleMeta {
                id: c.id.to_string(),
                title: c.title.to_string(),
                description: c.description.to_string(),
                remediation: c.remediation.to_string(),
                severity: c.severity,
                kinds: vec![],
                controls: c
                    .controls
                    .iter()
                    .map(|(id, rel, why)| (id.to_string(), *rel, why.to_string()))
                    .collect(),
                tags: vec![],
            });
        }
    }
    metas.sort_by(|a, b| a.id.cmp(&b.id));
    metas
}

fn descriptor(m: &RuleMeta) -> ReportingDescriptor {
    let mut tags = vec!["security".to_string(), "compliance".to_string()];
    for (c, _, _) in &m.controls {
        tags.push(format!("iso27001:2022/{}", annex(c)));
    }
    tags.extend(m.kinds.iter().cloned());
    tags.extend(m.tags.iter().cloned());
    let mut props = BTreeMap::new();
    props.insert("security-severity".to_string(), json!(m.severity.score()));
    props.insert("severity".to_string(), json!(m.severity.as_str()));
    props.insert("precision".to_string(), json!("high"));
    let controls_md: Vec<String> = m
        .controls
        .iter()
        .map(|(c, rel, why)| {
            format!(
                "- **{}** ({}): {}",
                super::annex_with_title(c),
                rel.as_str(),
                why
            )
        })
        .collect();
    let controls_txt: Vec<String> = m
        .controls
        .iter()
        .map(|(c, rel, why)| format!("{} ({}): {}", super::annex_with_title(c), rel.as_str(), why))
        .collect();
    let full = if m.description.is_empty() {
        m.title.clone()
    } else {
        m.description.clone()
    };
    let help_text = format!(
        "{full}\n\nRemediation: {}\n\nISO/IEC 27001:2022 Annex A:\n{}",
        m.remediation,
        controls_txt.join("\n")
    );
    let help_md = format!(
        "{full}\n\n**Remediation:** {}\n\n**ISO/IEC 27001:2022 Annex A**\n\n{}\n\n[Rule documentation]({RULE_DOCS_URL}#{})",
        m.remediation,
        controls_md.join("\n"),
        m.id
    );
    let relationships: Vec<ReportingDescriptorRelationship> = m
        .controls
        .iter()
        .map(|(c, rel, why)| {
            let mut p = BTreeMap::new();
            p.insert("relation".to_string(), json!(rel.as_str()));
            ReportingDescriptorRelationship::builder()
                .target(
                    ReportingDescriptorReference::builder()
                        .id(annex(c))
                        .index(taxon_index(c))
                        .tool_component(
                            ToolComponentReference::builder()
                                .name(TAXONOMY)
                                .index(0)
                                .build(),
                        )
                        .build(),
                )
                .kinds(vec!["relevant".to_string()])
                .description(message(format!("{}: {why}", rel.as_str())))
                .properties(PropertyBag::builder().additional_properties(p).build())
                .build()
        })
        .collect();
    ReportingDescriptor::builder()
        .id(m.id.clone())
        .name(pascal(&m.id))
        .short_description(text(m.title.clone()))
        .full_description(text(full))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .help_uri(format!("{RULE_DOCS_URL}#{}", m.id))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(m.severity).to_string().to_lowercase()))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(props)
                .build(),
        )
        .relationships(relationships)
        .build()
}

fn taxonomies() -> Vec<ToolComponent> {
    let themes: Vec<ReportingDescriptor> = Theme::ALL
        .iter()
        .map(|t| {
            ReportingDescriptor::builder()
                .id(format!("A.{}", t.clause()))
                .name(t.heading().to_string())
                .short_description(text(t.heading()))
                .build()
        })
        .collect();
    let taxa: Vec<ReportingDescriptor> = catalog::controls()
        .iter()
        .map(|c| {
            let theme_index = Theme::ALL.iter().position(|t| *t == c.theme).unwrap_or(0) as i64;
            let mut p = BTreeMap::new();
            p.insert("theme".to_string(), json!(c.theme.as_str()));
            p.insert("newIn2022".to_string(), json!(c.new_in_2022));
            ReportingDescriptor::builder()
                .id(c.annex_id())
                .name(c.title.clone())
                .short_description(text(format!("{} {}", c.annex_id(), c.title)))
                .relationships(vec![ReportingDescriptorRelationship::builder()
                    .target(
                        ReportingDescriptorReference::builder()
                            .id(format!("A.{}", c.theme.clause()))
                            .index(theme_index)
                            .tool_component(
                                ToolComponentReference::builder()
                                    .name(THEMES)
                                    .index(1)
                                    .build(),
                            )
                            .build(),
                    )
                    .kinds(vec!["subset".to_string()])
                    .build()])
                .properties(PropertyBag::builder().additional_properties(p).build())
                .build()
        })
        .collect();
    vec![
        ToolComponent::builder()
            .name(TAXONOMY)
            .full_name("ISO/IEC 27001:2022 Annex A information security controls")
            .organization("ISO/IEC")
            .version("2022")
            .information_uri("https://www.iso.org/standard/27001")
            .short_description(text("The 93 Annex A controls of ISO/IEC 27001:2022."))
            .is_comprehensive(true)
            .taxa(taxa)
            .build(),
        ToolComponent::builder()
            .name(THEMES)
            .full_name("ISO/IEC 27001:2022 Annex A control themes")
            .organization("ISO/IEC")
            .version("2022")
            .short_description(text("The four themes that group the Annex A controls."))
            .is_comprehensive(true)
            .taxa(themes)
            .build(),
    ]
}

fn location(path: &str, start: (u32, u32), end: (u32, u32)) -> Location {
    let (sl, sc) = (start.0.max(1), start.1.max(1));
    let (mut el, mut ec) = (end.0, end.1);
    if el < sl || (el == sl && ec <= sc) {
        el = sl;
        ec = sc + 1;
    }
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(uri(path))
                        .uri_base_id("%SRCROOT%")
                        .build(),
                )
                .region(
                    Region::builder()
                        .start_line(i64::from(sl))
                        .start_column(i64::from(sc))
                        .end_line(i64::from(el))
                        .end_column(i64::from(ec.max(1)))
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The location of a finding about a repository as a whole: the root directory itself (a relative
/// URI ending in `/`, `./` for the scan root), on its first line for GitHub's region rule.
fn root_location(root: &str) -> Location {
    let dir = if root == "." {
        "./".to_string()
    } else {
        format!("{}/", uri(root.trim_end_matches('/')))
    };
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(dir)
                        .uri_base_id("%SRCROOT%")
                        .build(),
                )
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .message(message("the repository as a whole"))
        .build()
}

fn result(f: &Finding, rule_index: Option<i64>, input: &ReportInput<'_>) -> SarifResult {
    let mut fps = BTreeMap::new();
    fps.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
    let controls: Vec<String> = f.controls.iter().map(|c| annex(c)).collect();
    let mut props = BTreeMap::new();
    props.insert("severity".to_string(), json!(f.severity.as_str()));
    props.insert("controls".to_string(), json!(controls));
    props.insert("logicalPath".to_string(), json!(f.logical_path));
    let taxa: Vec<ReportingDescriptorReference> = f
        .controls
        .iter()
        .map(|c| {
            ReportingDescriptorReference::builder()
                .id(annex(c))
                .index(taxon_index(c))
                .tool_component(
                    ToolComponentReference::builder()
                        .name(TAXONOMY)
                        .index(0)
                        .build(),
                )
                .build()
        })
        .collect();
    let builder = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .level(level(f.severity))
        .message(message(format!("{} ({})", f.message, controls.join(", "))))
        .locations(vec![match input.scan.repository_root(f) {
            Some(root) => root_location(root),
            None => location(
                &f.path,
                (f.start.line, f.start.col),
                (f.end.line, f.end.col),
            ),
        }])
        .partial_fingerprints(fps)
        .taxa(taxa)
        .properties(PropertyBag::builder().additional_properties(props).build());
    let mut r = match rule_index {
        Some(i) => builder.rule_index(i).build(),
        None => builder.build(),
    };
    if let Some(known) = input.known {
        let state = if known.contains(&f.fingerprint) {
            "unchanged"
        } else {
            "new"
        };
        r.baseline_state = Some(json!(state));
    }
    if let Some(s) = &f.suppression {
        let mut p = BTreeMap::new();
        if let Some(o) = &s.owner {
            p.insert("owner".to_string(), json!(o));
        }
        if let Some(u) = &s.until {
            p.insert("expires".to_string(), json!(u));
        }
        let kind = match s.kind {
            SuppressionKind::InSource => "inSource",
            SuppressionKind::External => "external",
        };
        r.suppressions = Some(vec![Suppression::builder()
            .kind(json!(kind))
            .status(json!("accepted"))
            .justification(s.justification.clone())
            .properties(PropertyBag::builder().additional_properties(p).build())
            .build()]);
    }
    r
}

fn notification(
    level: &str,
    msg: String,
    loc: Option<Location>,
    rule: Option<&str>,
) -> Notification {
    let mut n = Notification::builder()
        .level(json!(level))
        .message(message(msg))
        .build();
    n.locations = loc.map(|l| vec![l]);
    n.associated_rule = rule.map(|r| {
        ReportingDescriptorReference::builder()
            .id(r.to_string())
            .build()
    });
    n
}

/// Renders the SARIF log as pretty JSON.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = Vec::new();
    write(input, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("SARIF is UTF-8")
}

/// Writes the SARIF log as pretty JSON to `out`.
pub fn write(input: &ReportInput<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let metas = rule_metas(input);
    let index: BTreeMap<&str, i64> = metas
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i as i64))
        .collect();
    let rules: Vec<ReportingDescriptor> = metas.iter().map(descriptor).collect();
    let all: Vec<&Finding> = input.scan.findings.iter().collect();
    let mut notifications = Vec::new();
    if all.len() > MAX_RESULTS {
        notifications.push(notification(
            "warning",
            format!(
                "{} results found; only the first {MAX_RESULTS} are included (GitHub code scanning's limit). Use --format json for all.",
                all.len()
            ),
            None,
            None,
        ));
    }
    let results: Vec<SarifResult> = all
        .iter()
        .take(MAX_RESULTS)
        .map(|f| result(f, index.get(f.rule_id.as_str()).copied(), input))
        .collect();
    for f in input
        .scan
        .findings
        .iter()
        .filter(|f| f.rule_id == "parse-error")
    {
        notifications.push(notification(
            "error",
            format!("{}: {}", f.path, f.message),
            Some(location(
                &f.path,
                (f.start.line, f.start.col),
                (f.end.line, f.end.col),
            )),
            Some("parse-error"),
        ));
    }
    for e in &input.scan.rule_errors {
        notifications.push(notification(
            "error",
            format!("rule {} failed on {}: {}", e.rule_id, e.path, e.message),
            Some(location(&e.path, (e.line, 1), (e.line, 2))),
            Some(&e.rule_id),
        ));
    }
    for n in &input.scan.notices {
        let level = match n.level {
            NoticeLevel::Error => "error",
            NoticeLevel::Warning => "warning",
            NoticeLevel::Note => "note",
        };
        notifications.push(notification(
            level,
            format!("{}: {}", n.path, n.message),
            None,
            None,
        ));
    }
    let config: Vec<Notification> = input
        .config_errors
        .iter()
        .map(|e| {
            notification(
                "error",
                e.message.clone(),
                Some(location(&e.path, (e.line, e.col), (e.line, e.col + 1))),
                None,
            )
        })
        .collect();
    let mut invocation = Invocation::builder()
        .execution_successful(input.scan.rule_errors.is_empty() && input.config_errors.is_empty())
        .build();
    invocation.tool_execution_notifications = Some(notifications);
    invocation.tool_configuration_notifications = Some(config);
    let driver = ToolComponent::builder()
        .name("isms-lint")
        .full_name("isms-lint: ISO/IEC 27001:2022 Annex A policy-as-code linter")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/isms-lint/isms-lint")
        .rules(rules)
        .supported_taxonomies(vec![
            ToolComponentReference::builder()
                .name(TAXONOMY)
                .index(0)
                .build(),
            ToolComponentReference::builder()
                .name(THEMES)
                .index(1)
                .build(),
        ])
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .taxonomies(taxonomies())
        .invocations(vec![invocation])
        .build();
    run.column_kind = Some(json!("unicodeCodePoints"));
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("a b/c%.yaml"), "a%20b/c%25.yaml");
        assert_eq!(pascal("k8s-host-pid"), "K8sHostPid");
    }
}
