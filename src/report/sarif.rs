//! SARIF 2.1.0 for GitHub code scanning: one run, rules with help and Annex A tags, the Annex A
//! catalog as a taxonomy (93 control taxa under 4 theme taxa), line-independent fingerprints,
//! suppressions kept, and parse or rule problems as tool notifications.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    ReportingDescriptorReference, ReportingDescriptorRelationship, Result as SarifResult,
    ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent, ToolComponentReference,
};

use super::{annex, batched, ReportInput, RULE_DOCS_URL};
use crate::catalog::{self, Theme};
use crate::checks::BUILTIN_CHECKS;
use crate::discover::NoticeLevel;
use crate::finding::{Finding, SuppressionKind};
use crate::paths;
use crate::rules::{Relation, Severity};

/// Name of the Annex A taxonomy.
pub const TAXONOMY: &str = "ISO27001-2022-AnnexA";
/// Name of the theme taxonomy the controls belong to.
pub const THEMES: &str = "ISO27001-2022-AnnexA-themes";
/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// Key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "isms-lint/v1";
/// The `uriBaseId` every relative URI carries; declared in `originalUriBaseIds`.
pub const SRCROOT: &str = "%SRCROOT%";

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

/// `file:///…` for an absolute path, percent-encoded; directories end with `/`.
pub fn file_uri(path: &Path, dir: bool) -> String {
    let mut s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        s.insert(0, '/'); // a Windows drive: file:///C:/…
    }
    if dir && !s.ends_with('/') {
        s.push('/');
    }
    format!("file://{}", uri(&s).replace("%3A", ":"))
}

/// Turns display paths into SARIF artifact locations: relative to the root with
/// [`SRCROOT`], or an absolute `file://` URI (without a base) for a file outside it.
struct Uris {
    root: PathBuf,
    cwd: PathBuf,
}

impl Uris {
    fn new(root: Option<&Path>) -> Uris {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = match root {
            Some(r) if r.is_absolute() => paths::normalize(r),
            Some(r) => paths::normalize(&cwd.join(r)),
            None => cwd.clone(),
        };
        Uris { root, cwd }
    }

    /// The artifact a display path names; `None` for what is not a file (`--only/--skip`).
    fn artifact(&self, path: &str) -> Option<ArtifactLocation> {
        if path.is_empty() || path.starts_with('-') {
            return None;
        }
        let p = Path::new(path);
        let abs = paths::normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        });
        Some(match abs.strip_prefix(&self.root) {
            Ok(rel) => ArtifactLocation::builder()
                .uri(uri(&rel.to_string_lossy().replace('\\', "/")))
                .uri_base_id(SRCROOT)
                .build(),
            Err(_) => ArtifactLocation::builder()
                .uri(file_uri(&abs, false))
                .build(),
        })
    }

    /// The artifact for a directory's display path: relative to the root, ending in `/` (`./`
    /// for the root itself), or an absolute `file://` URI ending in `/`.
    fn directory(&self, path: &str) -> ArtifactLocation {
        let p = Path::new(path);
        let abs = paths::normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        });
        match abs.strip_prefix(&self.root) {
            Ok(rel) => {
                let rel = rel.to_string_lossy().replace('\\', "/");
                let rel = rel.trim_end_matches('/');
                let dir = if rel.is_empty() {
                    "./".to_string()
                } else {
                    format!("{}/", uri(rel))
                };
                ArtifactLocation::builder()
                    .uri(dir)
                    .uri_base_id(SRCROOT)
                    .build()
            }
            Err(_) => ArtifactLocation::builder()
                .uri(file_uri(&abs, true))
                .build(),
        }
    }

    /// `originalUriBaseIds`: where [`SRCROOT`] was on this machine.
    fn base_ids(&self) -> BTreeMap<String, ArtifactLocation> {
        let mut m = BTreeMap::new();
        m.insert(
            SRCROOT.to_string(),
            ArtifactLocation::builder()
                .uri(file_uri(&self.root, true))
                .description(message(
                    "The root of the scanned repository (or of the scanned tree outside git).",
                ))
                .build(),
        );
        m
    }
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

fn location(uris: &Uris, path: &str, start: (u32, u32), end: (u32, u32)) -> Option<Location> {
    let artifact = uris.artifact(path)?;
    let (sl, sc) = (start.0.max(1), start.1.max(1));
    let (mut el, mut ec) = (end.0, end.1);
    if el < sl || (el == sl && ec <= sc) {
        el = sl;
        ec = sc + 1;
    }
    let l = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
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
        .build();
    Some(l)
}

/// The location of a finding about a repository as a whole: the root directory itself (a URI
/// ending in `/`, `./` for the source root), on its first line for GitHub's region rule.
fn root_location(uris: &Uris, root: &str) -> Location {
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(uris.directory(root))
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .message(message("the repository as a whole"))
        .build()
}

fn result(
    uris: &Uris,
    f: &Finding,
    rule_index: Option<i64>,
    input: &ReportInput<'_>,
) -> SarifResult {
    let mut fps = BTreeMap::new();
    fps.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
    let controls: Vec<String> = f.controls.iter().map(|c| annex(c)).collect();
    let mut props = BTreeMap::new();
    props.insert("severity".to_string(), json!(f.severity.as_str()));
    props.insert("controls".to_string(), json!(controls));
    props.insert("logicalPath".to_string(), json!(f.logical_path));
    if f.unknown {
        // Not a violation: the rule could not judge the element before deployment.
        props.insert("unknown".to_string(), json!(true));
    }
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
        .locations(match input.scan.repository_root(f) {
            Some(root) => vec![root_location(uris, root)],
            None => location(
                uris,
                &f.path,
                (f.start.line, f.start.col),
                (f.end.line, f.end.col),
            )
            .into_iter()
            .collect::<Vec<_>>(),
        })
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
    if !f.related.is_empty() {
        let related: Vec<Location> = f
            .related
            .iter()
            .enumerate()
            .filter_map(|(i, rel)| {
                let mut l = location(
                    uris,
                    &rel.path,
                    (rel.start.line, rel.start.col),
                    (rel.end.line, rel.end.col),
                )?;
                l.id = i64::try_from(i).ok();
                l.message = Some(message(rel.message.clone()));
                Some(l)
            })
            .collect();
        r.related_locations = Some(related);
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

/// The findings that fit in `max` results: all of them, or else open before suppressed, most
/// severe first, path order within a severity (then shown in path order), with a warning
/// notification counting by severity what was left out.
fn cap(findings: &[Finding], max: usize) -> (Vec<&Finding>, Option<Notification>) {
    if findings.len() <= max {
        return (findings.iter().collect(), None);
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| {
        let f = &findings[i];
        (
            std::cmp::Reverse(f.is_open()),
            std::cmp::Reverse(f.severity),
            i,
        )
    });
    let mut left_out: BTreeMap<Severity, (usize, usize)> = BTreeMap::new();
    for &i in &order[max..] {
        let f = &findings[i];
        let e = left_out.entry(f.severity).or_default();
        if f.is_open() {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    order.truncate(max);
    order.sort_unstable();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            left_out.get(s).map(|(open, suppressed)| match suppressed {
                0 => format!("{open} {s}"),
                n => format!("{open} {s} (+{n} suppressed or waived)"),
            })
        })
        .collect();
    let dropped = findings.len() - max;
    let mut props = BTreeMap::new();
    props.insert("resultsFound".to_string(), json!(findings.len()));
    props.insert("resultsIncluded".to_string(), json!(max));
    props.insert(
        "resultsLeftOutBySeverity".to_string(),
        json!(left_out
            .iter()
            .map(|(s, (o, x))| (s.as_str(), o + x))
            .collect::<BTreeMap<_, _>>()),
    );
    let mut n = notification(
        "warning",
        format!(
            "{} results found; only {max} fit in one upload (GitHub code scanning's limit): the most severe open findings are kept, {dropped} left out: {}. Every finding is in the JSON report (--format json; findings.json in the evidence bundle).",
            findings.len(),
            counts.join(", ")
        ),
        None,
        None,
    );
    n.properties = Some(PropertyBag::builder().additional_properties(props).build());
    (order.into_iter().map(|i| &findings[i]).collect(), Some(n))
}

/// Renders the SARIF log as pretty JSON (the bytes [`write`] writes).
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = Vec::new();
    write(input, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("SARIF is UTF-8")
}

/// Writes the SARIF log as pretty JSON to `out`. The results, most of the bytes, are built and
/// serialized in parallel a batch at a time and written in order (`report::batched`): the bytes
/// are exactly those of serializing the whole log in one go, with at most one batch of results
/// in memory.
pub fn write(input: &ReportInput<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    write_batched(input, out, MAX_RESULTS, batched::BATCH, batched::CHUNK)
}

fn write_batched(
    input: &ReportInput<'_>,
    out: &mut dyn std::io::Write,
    max: usize,
    batch: usize,
    chunk: usize,
) -> std::io::Result<()> {
    let log = Log::new(input, max);
    let head = serde_json::to_vec_pretty(&log.sarif)?;
    // `runs[0]`'s keys are the only lines indented by six spaces: the log has one run.
    const EMPTY: &[u8] = b"\n      \"results\": []";
    batched::write(out, &head, EMPTY, log.kept.len(), batch, chunk, |i, w| {
        serde_json::to_writer_pretty(w, &log.result(input, i))
    })?;
    out.write_all(b"\n")
}

/// The SARIF log with its run's `results` empty, and what its results are made from.
struct Log<'a> {
    /// The whole log but the results.
    sarif: Sarif,
    /// The findings shown as results, in order ([`cap`]'s choice).
    kept: Vec<&'a Finding>,
    uris: Uris,
    /// Each rule's index in the driver's `rules`.
    rule_index: BTreeMap<String, i64>,
}

impl<'a> Log<'a> {
    /// The log of `input` with at most `max` results.
    fn new(input: &ReportInput<'a>, max: usize) -> Log<'a> {
        let metas = rule_metas(input);
        let rule_index: BTreeMap<String, i64> = metas
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i as i64))
            .collect();
        let rules: Vec<ReportingDescriptor> = metas.iter().map(descriptor).collect();
        let uris = Uris::new(input.source_root);
        let (kept, dropped) = cap(&input.scan.findings, max);
        let mut notifications = Vec::new();
        if let Some(n) = dropped {
            notifications.push(n);
        }
        for f in input
            .scan
            .findings
            .iter()
            .filter(|f| f.rule_id == "parse-error")
        {
            notifications.push(notification(
                "error",
                format!("{}: {}", f.path, f.message),
                location(
                    &uris,
                    &f.path,
                    (f.start.line, f.start.col),
                    (f.end.line, f.end.col),
                ),
                Some("parse-error"),
            ));
        }
        for e in &input.scan.rule_errors {
            notifications.push(notification(
                "error",
                format!("rule {} failed on {}: {}", e.rule_id, e.path, e.message),
                location(&uris, &e.path, (e.line, 1), (e.line, 2)),
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
                    location(&uris, &e.path, (e.line, e.col), (e.line, e.col + 1)),
                    None,
                )
            })
            .collect();
        let mut invocation = Invocation::builder()
            .execution_successful(
                input.scan.rule_errors.is_empty() && input.config_errors.is_empty(),
            )
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
            .results(Vec::new())
            .taxonomies(taxonomies())
            .invocations(vec![invocation])
            .build();
        run.column_kind = Some(json!("unicodeCodePoints"));
        run.original_uri_base_ids = Some(uris.base_ids());
        let log = Sarif::builder()
            .schema("https://json.schemastore.org/sarif-2.1.0.json")
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build();
        Log {
            sarif: log,
            kept,
            uris,
            rule_index,
        }
    }

    /// The `i`th result.
    fn result(&self, input: &ReportInput<'_>, i: usize) -> SarifResult {
        let f = self.kept[i];
        let rule_index = self.rule_index.get(f.rule_id.as_str()).copied();
        result(&self.uris, f, rule_index, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log serialized in one go, results and all, as `write` did before it streamed them.
    fn whole(input: &ReportInput<'_>, max: usize) -> Vec<u8> {
        let mut log = Log::new(input, max);
        let results: Vec<SarifResult> = (0..log.kept.len()).map(|i| log.result(input, i)).collect();
        log.sarif.runs[0].results = Some(results);
        let mut whole = serde_json::to_vec_pretty(&log.sarif).unwrap();
        whole.push(b'\n');
        whole
    }

    #[test]
    fn results_written_in_parallel_batches_are_the_bytes_of_one_serialization() {
        let (rules, result) = crate::report::test_support::fixtures_scan();
        let input = crate::report::test_support::input(&result, &rules);
        // Every finding, then a cap that leaves some out (kept in path order, with the
        // notification), then none kept; each in the default batches, then batches and chunks
        // that end mid-way and hold one result.
        for max in [MAX_RESULTS, 1000, 0] {
            let whole = whole(&input, max);
            let text = String::from_utf8(whole.clone()).unwrap();
            assert_eq!(
                text.matches("\"ruleId\": ").count(),
                max.min(result.findings.len()),
                "cap {max}"
            );
            assert_eq!(
                text.contains("only 1000 fit in one upload"),
                max == 1000,
                "cap {max}"
            );
            for (batch, chunk) in crate::report::test_support::BATCHINGS {
                let mut out = Vec::new();
                write_batched(&input, &mut out, max, batch, chunk).unwrap();
                assert!(
                    out == whole,
                    "cap {max}, batch {batch}, chunk {chunk} differ"
                );
            }
        }
        assert_eq!(render(&input).into_bytes(), whole(&input, MAX_RESULTS));

        let empty = crate::scan::ScanResult::default();
        let none = ReportInput {
            scan: &empty,
            ..input
        };
        assert_eq!(render(&none).into_bytes(), whole(&none, MAX_RESULTS));
        assert!(render(&none).contains("\n      \"results\": [],\n"));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("a b/c%.yaml"), "a%20b/c%25.yaml");
        assert_eq!(pascal("k8s-host-pid"), "K8sHostPid");
        assert_eq!(
            file_uri(Path::new("/srv/my repo"), true),
            "file:///srv/my%20repo/"
        );
    }

    #[test]
    fn uris_are_relative_to_the_root_or_absolute_without_a_base() {
        let uris = Uris {
            root: PathBuf::from("/w/repo"),
            cwd: PathBuf::from("/w/other"),
        };
        let a = uris.artifact("../repo/k8s/pod.yaml").unwrap();
        assert_eq!(
            (a.uri.as_deref(), a.uri_base_id.as_deref()),
            (Some("k8s/pod.yaml"), Some(SRCROOT))
        );
        let a = uris.artifact("/elsewhere/.isms-lint.yaml").unwrap();
        assert_eq!(
            (a.uri.as_deref(), a.uri_base_id.as_deref()),
            (Some("file:///elsewhere/.isms-lint.yaml"), None)
        );
        assert!(uris.artifact("--only/--skip").is_none());
    }
}
