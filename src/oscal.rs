//! OSCAL 1.1.2 assessment results from a Statement of Applicability: one observation per
//! evaluated rule, one finding per automated control. UUIDs are version 5, derived from stable
//! names, and times come from the evidence date, so re-runs are byte-identical.

use serde_json::{json, Value};

use crate::soa::Soa;

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
    let mut rules: Vec<(&str, usize)> = Vec::new();
    for row in &soa.controls {
        for r in &row.rules {
            if r.evaluations > 0 && !rules.iter().any(|(id, _)| *id == r.id) {
                rules.push((&r.id, r.evaluations));
            }
        }
    }
    rules.sort();
    let observations: Vec<Value> = rules
        .iter()
        .map(|(id, n)| {
            json!({
                "uuid": uuid(&format!("{subject}/observation/{id}")),
                "title": format!("Rule {id}"),
                "description": format!("isms-lint rule {id} was evaluated on {n} document(s) of {}.", m.repository),
                "props": [prop("rule-id", id), prop("evaluations", &n.to_string())],
                "methods": ["TEST"],
                "collected": when,
            })
        })
        .collect();
    let findings: Vec<Value> = soa
        .controls
        .iter()
        .filter(|r| r.status == "passing" || r.status == "failing")
        .map(|r| {
            let related: Vec<Value> = r
                .rules
                .iter()
                .filter(|x| x.evaluations > 0)
                .map(|x| json!({"observation-uuid": uuid(&format!("{subject}/observation/{}", x.id))}))
                .collect();
            let state = if r.status == "passing" { "satisfied" } else { "not-satisfied" };
            let mut f = json!({
                "uuid": uuid(&format!("{subject}/finding/{}", r.id)),
                "title": format!("A.{} {}", r.id, r.title),
                "description": format!(
                    "{} open, {} suppressed, {} waived finding(s) from {} evaluated rule(s).",
                    r.open, r.suppressed, r.waived, r.rules_evaluated
                ),
                "props": [prop("applicability", r.applicability.replace(' ', "-").as_str())],
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
