//! Findings: what a rule reported, where, and a fingerprint that survives moved lines.

use std::sync::Arc;

use rayon::slice::ParallelSliceMut;
use sha2::{Digest, Sha256};

use crate::doc::Pos;
pub use crate::doc::Related;
use crate::rules::Severity;

/// Why a finding does not count against the run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// `inSource` (a comment next to the code) or `external` (a config waiver).
    pub kind: SuppressionKind,
    /// The reason given.
    pub justification: String,
    /// Who owns the decision, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Until when it holds (`YYYY-MM-DD`), when limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Where a suppression was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SuppressionKind {
    /// An inline comment.
    InSource,
    /// A waiver in the config file.
    External,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Rule that fired.
    pub rule_id: String,
    /// Its severity (after config overrides).
    pub severity: Severity,
    /// Annex A ids it evidences, e.g. `["8.2", "8.9"]` (shared by every finding of the rule).
    pub controls: Arc<[String]>,
    /// What is wrong, for this element.
    pub message: String,
    /// Display path of the file.
    pub path: String,
    /// First character.
    pub start: Pos,
    /// Just past the last character.
    pub end: Pos,
    /// Logical location: document name, element path and `at` path; no line numbers.
    pub logical_path: String,
    /// Stable identity across line moves: hash of rule, file and logical path.
    pub fingerprint: String,
    /// First line of the judged element (inline suppressions may sit just above it).
    #[serde(skip)]
    pub element_line: u32,
    /// Set when the rule could not judge the element because it depends on a value not known
    /// before deployment (always `info`; never fails a run).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
    /// Set when a reasoned suppression or waiver applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Box<Suppression>>,
    /// Other places that explain the finding: the module calls through which a Terraform
    /// module was evaluated, innermost first (SARIF `relatedLocations`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

impl Finding {
    /// Whether the finding counts (not suppressed or waived).
    pub fn is_open(&self) -> bool {
        self.suppression.is_none()
    }

    /// Whether the finding is an open violation: open, and not a "cannot be judged before
    /// deployment" notice (those never fail a run or a control).
    pub fn is_open_violation(&self) -> bool {
        self.is_open() && !self.unknown
    }

    /// Sort key: path, line, column, rule, message.
    pub fn sort_key(&self) -> (&str, Pos, &str, &str) {
        (&self.path, self.start, &self.rule_id, &self.message)
    }
}

/// The fingerprint of a finding: rule, file and logical path, never the line.
pub fn fingerprint(rule_id: &str, path: &str, logical_path: &str) -> String {
    let mut h = Sha256::new();
    for part in [rule_id, path, logical_path] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(32);
    for b in &digest[..16] {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 15)] as char);
    }
    hex
}

/// Keeps the findings whose flag in `keep` is set (one flag per finding, in order).
fn retain_marked(findings: &mut Vec<Finding>, keep: &[bool]) {
    let mut flags = keep.iter();
    findings.retain(|_| *flags.next().expect("one flag per finding"));
}

/// The order related locations are listed in: by file, then position, then what they are.
fn related_order(a: &Related, b: &Related) -> std::cmp::Ordering {
    (&a.path, a.start, a.end, &a.message).cmp(&(&b.path, b.start, b.end, &b.message))
}

/// Drops the findings of a module evaluated through a call (those with related locations) that
/// the same module scanned on its own already reports identically: a setting written in the
/// module is reported once, at its line; only what the call's arguments change is reported
/// again, naming the call (a `not-evaluated` notice of a nested call too). Calls that reproduce
/// one another identically (eight examples calling
/// one module with the same effect) give one finding that names every call: the one with the
/// longest chain of calls (then the smallest fingerprint), whatever the order the calls were
/// evaluated in.
pub fn drop_module_repeats(findings: &mut Vec<Finding>) {
    type Key<'f> = (&'f str, &'f str, Pos, Pos, bool, &'f str);
    fn key(f: &Finding) -> Key<'_> {
        (
            f.rule_id.as_str(),
            f.path.as_str(),
            f.start,
            f.end,
            f.unknown,
            f.message.as_str(),
        )
    }
    if findings.iter().all(|f| f.related.is_empty()) {
        return;
    }
    let standalone: std::collections::HashSet<Key<'_>> = findings
        .iter()
        .filter(|f| f.related.is_empty())
        .map(key)
        .collect();
    let mut repeated: Vec<bool> = findings
        .iter()
        .map(|f| !f.related.is_empty() && standalone.contains(&key(f)))
        .collect();
    // Group what calls alone report, identically; keep one per group, naming every call.
    let mut groups: std::collections::HashMap<Key<'_>, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !f.related.is_empty() && !repeated[i] {
            groups.entry(key(f)).or_default().push(i);
        }
    }
    let mut merged: Vec<(usize, Vec<Related>)> = Vec::new();
    for members in groups.into_values().filter(|m| m.len() > 1) {
        // The longest chain of calls is kept whole (innermost first); the calls the others
        // add follow, in file order.
        let keep = *members
            .iter()
            .min_by(|a, b| {
                let (fa, fb) = (&findings[**a], &findings[**b]);
                (std::cmp::Reverse(fa.related.len()), &fa.fingerprint)
                    .cmp(&(std::cmp::Reverse(fb.related.len()), &fb.fingerprint))
            })
            .expect("a group has members");
        let mut related = findings[keep].related.clone();
        let mut others: Vec<Related> = members
            .iter()
            .flat_map(|i| findings[*i].related.iter())
            .filter(|r| !related.contains(r))
            .cloned()
            .collect();
        others.sort_by(related_order);
        others.dedup();
        related.extend(others);
        for i in members {
            repeated[i] = i != keep;
        }
        merged.push((keep, related));
    }
    for (keep, related) in merged {
        findings[keep].related = related;
    }
    let keep: Vec<bool> = repeated.iter().map(|r| !r).collect();
    retain_marked(findings, &keep);
}

/// Merges the findings of rendered kustomizations that repeat one another: a base rendered by
/// two overlays gives the same finding at the same source line twice. One is kept per rule,
/// file, line and logical path, with the related locations (the overlays) of all. Unlike
/// [`drop_module_repeats`], the message is not part of the key: overlays rename what they
/// render (`namePrefix`, `nameSuffix`), so the same line's finding names a different object
/// in each overlay while the reviewer's fix is the one line.
pub fn merge_rendered_repeats(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: std::collections::HashMap<(String, String, u32, String), usize> =
        std::collections::HashMap::new();
    for f in findings {
        let key = (
            f.rule_id.clone(),
            f.path.clone(),
            f.start.line,
            f.logical_path.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                let kept = &mut out[i];
                for r in f.related {
                    if !kept.related.contains(&r) {
                        kept.related.push(r);
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(f);
            }
        }
    }
    for f in &mut out {
        f.related.sort_by(related_order);
    }
    out
}

/// Sorts findings deterministically and makes repeated fingerprints unique (`…:2`, `…:3`).
pub fn finalize(findings: &mut [Finding]) {
    // Ties on the sort key are broken by every other reported field, so an in-place unstable
    // sort still gives the same bytes whatever the thread count.
    let order = |a: &Finding, b: &Finding| {
        (a.sort_key(), a.end, &a.logical_path, &a.fingerprint).cmp(&(
            b.sort_key(),
            b.end,
            &b.logical_path,
            &b.fingerprint,
        ))
    };
    if !findings.is_sorted_by(|a, b| order(a, b).is_le()) {
        findings.par_sort_unstable_by(order);
    }
    let mut seen = std::collections::HashMap::<&str, usize>::with_capacity(findings.len());
    let mut repeated = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let n = seen.entry(f.fingerprint.as_str()).or_insert(0);
        *n += 1;
        if *n > 1 {
            repeated.push((i, *n));
        }
    }
    drop(seen);
    for (i, n) in repeated {
        let f = &mut findings[i];
        f.fingerprint = format!("{}:{}", f.fingerprint, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_lines_but_not_files() {
        let a = fingerprint("r", "a.yaml", "Pod/x/containers[name=web]");
        assert_eq!(a, fingerprint("r", "a.yaml", "Pod/x/containers[name=web]"));
        assert_ne!(a, fingerprint("r", "b.yaml", "Pod/x/containers[name=web]"));
        assert_eq!(a.len(), 32);
    }

    fn module_finding(fingerprint: &str, call: &str, line: u32) -> Finding {
        Finding {
            rule_id: "r".into(),
            severity: Severity::High,
            controls: Arc::from(vec!["8.9".to_string()]),
            message: "m".into(),
            path: "modules/x/main.tf".into(),
            start: Pos::new(3, 1),
            end: Pos::new(3, 9),
            logical_path: "resource.t.n".into(),
            fingerprint: fingerprint.into(),
            element_line: 3,
            unknown: false,
            suppression: None,
            related: vec![Related {
                via: "module call",
                path: call.into(),
                start: Pos::new(line, 1),
                end: Pos::new(line, 20),
                message: "module call \"x\" (../modules/x)".into(),
            }],
        }
    }

    #[test]
    fn identical_findings_of_several_calls_are_one_naming_every_call() {
        let mut findings = vec![
            module_finding("bbb", "examples/two/main.tf", 7),
            module_finding("aaa", "examples/one/main.tf", 4),
            module_finding("ccc", "examples/one/main.tf", 4),
        ];
        let mut other = module_finding("ddd", "examples/three/main.tf", 2);
        other.message = "another value".into();
        findings.push(other);
        drop_module_repeats(&mut findings);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let kept = findings.iter().find(|f| f.message == "m").unwrap();
        assert_eq!(kept.fingerprint, "aaa");
        let calls: Vec<(&str, u32)> = kept
            .related
            .iter()
            .map(|r| (r.path.as_str(), r.start.line))
            .collect();
        assert_eq!(
            calls,
            [("examples/one/main.tf", 4), ("examples/two/main.tf", 7)]
        );
    }
}
