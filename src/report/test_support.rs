//! What the report writers' tests share: a scan of every fixture with the built-in rules, and
//! the report input over it.

use super::{batched, ReportInput};
use crate::rules::{builtin_sources, RuleSet};
use crate::scan::{scan, ScanOptions, ScanResult};

/// The built-in rules and their scan of `fixtures/` (over a thousand findings, of every rule).
pub fn fixtures_scan() -> (RuleSet, ScanResult) {
    let rules = RuleSet::load(builtin_sources());
    let opts = ScanOptions {
        paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")],
        jobs: Some(2),
        ..ScanOptions::default()
    };
    let result = scan(&rules, &opts).unwrap();
    assert!(result.findings.len() > 1000, "{}", result.findings.len());
    (rules, result)
}

/// The input of a report of `scan`, every finding listed, no baseline, no config.
pub fn input<'a>(scan: &'a ScanResult, rules: &'a RuleSet) -> ReportInput<'a> {
    ReportInput {
        scan,
        rules,
        config_errors: &[],
        show_suppressed: true,
        fail_on: None,
        source_root: None,
        known: None,
        config: None,
        quiet: false,
    }
}

/// Batch and chunk sizes to write a report with: the defaults, then batches and chunks that end
/// mid-way, hold one item, or hold everything.
pub const BATCHINGS: [(usize, usize); 4] = [
    (batched::BATCH, batched::CHUNK),
    (7, 3),
    (1, 1),
    (usize::MAX, 1000),
];
