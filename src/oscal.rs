//! OSCAL 1.1.2 assessment results from a Statement of Applicability: one observation per
//! evaluated rule, one finding per automated control. UUIDs are version 5, derived from stable
//! names, and times come from the evidence date, so re-runs are byte-identical.

use serde_json::{json, Value};

use crate::soa::{RuleRef, Soa, Status};

/// OSCAL version written.
pub const OSCAL_VERSION: &str = "1.1.2";

/// Namespace of isms-lint's OSCAL properties.
pub const NS: &str = "https://github.com/isms-lint/isms-lint/ns/oscal";

fn uuid(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("isms-lint:{name}").as_bytes(),
    )
    .to_string()
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": value})
}

/// Renders the assessment results as pretty JSON.
pub fn assessment_results(soa: &Soa) -> String {
    let m = &soa.meta;
    let subject = format!(
        "{}@{}",
        m.repository,
        m.commit.as_deref().unwrap_or("worktree")
    );
    let when = format!("{}T00:00:00Z", m.date);
    let mut rules: Vec<&RuleRef> = Vec::new();
    for row in &soa.controls {
        for r in &row.rules {
            if r.documents > 0 && !rules.iter().any(|x| x.id == r.id) {
                rules.push(r);
            }
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let observations: Vec<Value> = rules
        .iter()
        .map(|r| {
            let (id, c) = (&r.id, &r.counts);
            json!({
                "uuid": uuid(&format!("{subject}/observation/{id}")),
                "title": format!("Rule {id}"),
                "description": format!(
                    "isms-lint rule {id} was evaluated on {} document(s) of {} and judged {} element(s): {} passed, {} failed, {} could not be judged before deployment.",
                    r.documents, m.repository, c.judged, c.passed, c.failed, c.unknown
                ),
                "props": [
                    prop("rule-id", id),
                    prop("documents", &r.documents.to_string()),
                    prop("judged", &c.judged.to_string()),
                    prop("passed", &c.passed.to_string()),
                    prop("failed", &c.failed.to_string()),
                    prop("unknown", &c.unknown.to_string()),
                ],
                "methods": ["TEST"],
                "collected": when,
            })
        })
        .collect();
    let findings: Vec<Value> = soa
        .controls
        .iter()
        .filter(|r| matches!(r.status, Status::Passing | Status::Failing | Status::Unknown))
        .map(|r| {
            let related: Vec<Value> = r
                .rules
                .iter()
                .filter(|x| x.documents > 0)
                .map(|x| json!({"observation-uuid": uuid(&format!("{subject}/observation/{}", x.id))}))
                .collect();
            let state = if r.status == Status::Passing { "satisfied" } else { "not-satisfied" };
            let c = &r.counts;
            let mut f = json!({
                "uuid": uuid(&format!("{subject}/finding/{}", r.id)),
                "title": format!("A.{} {}", r.id, r.title),
                "description": format!(
                    "Status {}: {} element(s) judged ({} passed, {} failed, {} unknown) by {} rule(s); {} open, {} suppressed, {} waived finding(s).",
                    r.status, c.judged, c.passed, c.failed, c.unknown, r.rules_evaluated, r.open, r.suppressed, r.waived
                ),
                "props": [
                    prop("applicability", r.applicability.as_str().replace(' ', "-").as_str()),
                    prop("status", r.status.as_str().replace(' ', "-").as_str()),
                    prop("judged", &c.judged.to_string()),
                    prop("passed", &c.passed.to_string()),
                    prop("failed", &c.failed.to_string()),
                    prop("unknown", &c.unknown.to_string()),
                ],
                "target": {
                    "type": "objective-id",
                    "target-id": format!("a.{}", r.id),
                    "status": {"state": state},
                },
            });
            if !related.is_empty() {
                f["related-observations"] = Value::Array(related);
            }
            f
        })
        .collect();
    let mut result = json!({
        "uuid": uuid(&format!("{subject}/result")),
        "title": format!("isms-lint scan of {subject}"),
        "description": "Automated checks of configuration files against ISO/IEC 27001:2022 Annex A controls.",
        "start": when,
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    let doc = json!({
        "assessment-results": {
            "uuid": uuid(&format!("{subject}/assessment-results")),
            "metadata": {
                "title": format!("ISO/IEC 27001:2022 Annex A assessment of {}", m.repository),
                "last-modified": when,
                "version": m.tool_version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": "#isms-lint-assessment-plan"},
            "results": [result],
        }
    });
    serde_json::to_string_pretty(&doc).expect("OSCAL serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_version_5() {
        let a = uuid("x");
        assert_eq!(a, uuid("x"));
        assert_ne!(a, uuid("y"));
        assert_eq!(&a[14..15], "5");
    }
}
