//! The JSON report: a stable, documented schema (`docs/json-format.md`), no timestamps.

use serde_json::{json, Map, Value};

use super::{batched, ReportInput};

/// Schema identifier carried in every document.
pub const SCHEMA: &str = "isms-lint/scan/v1";

#[derive(serde::Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    /// The config file used, or null.
    config: Option<&'a str>,
    summary: Value,
    findings: Vec<Listed<'a>>,
    rule_errors: &'a [crate::eval::RuleRunError],
    config_errors: Vec<Value>,
    notices: &'a [crate::discover::Notice],
}

#[derive(serde::Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
    /// The commit the binary was built from, or "" when unknown.
    commit: &'static str,
}

/// A finding, and the repository root when it is about the repository as a whole.
#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    finding: &'a crate::finding::Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository_root: Option<&'a str>,
}

/// Renders the scan as pretty JSON.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = Vec::new();
    write(input, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the scan as pretty JSON to `out`. The findings, most of the bytes, are serialized in
/// parallel a batch at a time and written in order (`report::batched`): the bytes are exactly
/// those of serializing the whole report in one go.
pub fn write(input: &ReportInput<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    write_batched(input, out, batched::BATCH, batched::CHUNK)
}

fn write_batched(
    input: &ReportInput<'_>,
    out: &mut dyn std::io::Write,
    batch: usize,
    chunk: usize,
) -> std::io::Result<()> {
    let mut doc = document(input);
    let findings = std::mem::take(&mut doc.findings);
    let head = serde_json::to_vec_pretty(&doc)?;
    // The top-level key is the only line that starts with two spaces and `"findings"`.
    const EMPTY: &[u8] = b"\n  \"findings\": []";
    batched::write(out, &head, EMPTY, findings.len(), batch, chunk, |i, w| {
        serde_json::to_writer_pretty(w, &findings[i])
    })?;
    out.write_all(b"\n")
}

/// The report as one serializable value (its findings borrowed from the scan).
fn document<'a>(input: &'a ReportInput<'a>) -> Document<'a> {
    let scan = input.scan;
    let by_severity: Map<String, Value> = input
        .by_severity()
        .into_iter()
        .rev()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    let by_control: Map<String, Value> = input
        .by_control()
        .into_iter()
        .map(|(c, n)| (c, json!(n)))
        .collect();
    let kinds: Map<String, Value> = scan
        .documents_by_kind
        .iter()
        .map(|(k, n)| (k.to_string(), json!(n)))
        .collect();
    let config_errors: Vec<Value> = input
        .config_errors
        .iter()
        .map(|e| {
            json!({
                "path": e.path,
                "line": e.line,
                "column": e.col,
                "message": e.message,
                "help": e.help,
            })
        })
        .collect();
    Document {
        schema: SCHEMA,
        tool: Tool {
            name: "isms-lint",
            version: env!("CARGO_PKG_VERSION"),
            commit: env!("ISMS_LINT_COMMIT"),
        },
        config: input.config,
        summary: json!({
            "files_scanned": scan.files_scanned,
            "skipped": scan.skipped,
            "documents_by_kind": kinds,
            "rules": input.rules.rules.len(),
            "open_findings": scan.findings.iter().filter(|f| f.is_open_violation()).count(),
            "unknown_findings": input.unknown(),
            "suppressed_findings": input.suppressed(),
            "unused_suppressions": scan.unused_suppressions,
            "by_severity": by_severity,
            "by_control": by_control,
            "rule_errors": scan.rule_errors.len() + input.config_errors.len(),
            "fail_on": input.fail_on.map(|s| s.to_string()),
            "failed": input.fails(),
        }),
        findings: input
            .listed()
            .map(|f| Listed {
                finding: f,
                repository_root: scan.repository_root(f),
            })
            .collect(),
        rule_errors: &scan.rule_errors,
        config_errors,
        notices: &scan.notices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_written_in_parallel_batches_are_the_bytes_of_one_serialization() {
        let (rules, result) = crate::report::test_support::fixtures_scan();
        let input = crate::report::test_support::input(&result, &rules);
        let mut whole = serde_json::to_vec_pretty(&document(&input)).unwrap();
        whole.push(b'\n');
        // Default batches, then batches and chunks that end mid-way and hold one finding.
        for (batch, chunk) in crate::report::test_support::BATCHINGS {
            let mut out = Vec::new();
            write_batched(&input, &mut out, batch, chunk).unwrap();
            assert!(out == whole, "batch {batch}, chunk {chunk} differ");
        }

        let empty = crate::scan::ScanResult::default();
        let none = ReportInput {
            scan: &empty,
            ..input
        };
        let mut whole = serde_json::to_vec_pretty(&document(&none)).unwrap();
        whole.push(b'\n');
        assert_eq!(render(&none).into_bytes(), whole);
        assert!(render(&none).contains("\n  \"findings\": [],\n"));
    }
}
