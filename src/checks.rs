//! isms-lint's own checks, reported like rule findings but not loaded from YAML: files that do
//! not parse, repeated keys, and suppressions that cannot be honoured. One place defines them
//! and builds their findings.

use crate::doc::Pos;
use crate::finding::{fingerprint, Finding};
use crate::rules::{Relation, RuleSet, Severity};

/// A rule that isms-lint itself reports (parse failures and the like); not loaded from YAML.
#[derive(Debug, Clone)]
pub struct BuiltinCheck {
    /// Rule id.
    pub id: &'static str,
    /// One-line summary.
    pub title: &'static str,
    /// Longer description.
    pub description: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Controls.
    pub controls: &'static [(&'static str, Relation, &'static str)],
    /// How to fix.
    pub remediation: &'static str,
}

/// Reported for every file that cannot be parsed.
pub const PARSE_ERROR: BuiltinCheck = BuiltinCheck {
    id: "parse-error",
    title: "Configuration file cannot be parsed",
    description: "The file is not valid for its format, so no other rule could judge it. A configuration that does not parse is not under configuration management: tools that deploy it will fail or, worse, read it differently.",
    severity: Severity::High,
    controls: &[(
        "8.9",
        Relation::Supports,
        "Configuration must be well-formed to be reviewed, deployed and audited as the baseline it claims to be.",
    )],
    remediation: "Fix the syntax error at the reported position; the file is then scanned normally.",
};

/// The severity of a parse error: high for files of a detected kind (Terraform, Dockerfiles,
/// YAML/JSON that looks like a Kubernetes object, workflow, template…), low for other YAML and
/// JSON files, which no rule judges unless it names them (docs/documents.md).
pub fn parse_error_severity(detected: bool) -> Severity {
    if detected {
        PARSE_ERROR.severity
    } else {
        Severity::Low
    }
}

/// Reported for a key written twice in one YAML/JSON mapping.
pub const DUPLICATE_KEY: BuiltinCheck = BuiltinCheck {
    id: "duplicate-key",
    title: "Mapping repeats a key",
    description: "A key appears twice in the same mapping. Parsers disagree on which value wins (most keep the last, some refuse the file), so reviewers may approve a value that is not the one deployed.",
    severity: Severity::Medium,
    controls: &[(
        "8.9",
        Relation::Supports,
        "A configuration whose effective value depends on the parser is not a reviewable baseline.",
    )],
    remediation: "Remove one of the two entries so the file says one thing.",
};

/// Reported for what was read but could not be judged as it is: a Helm chart's templates
/// (once per chart), a Terraform module call whose module is not downloaded, a plan of an
/// unknown format, a kustomization `--render-kustomize` could not build. What is inside was not judged, and the scan says so.
pub const NOT_EVALUATED: BuiltinCheck = BuiltinCheck {
    id: "not-evaluated",
    title: "Part of the configuration could not be evaluated",
    description: "Part of what was read could not be judged as it is, so the scan says so instead of passing it silently: a Helm chart's `templates/` (what gets deployed is only known once they are rendered; said once per chart); a Terraform module call whose module is not available to read (a registry or git module before `terraform init` downloaded it, with no `.terraform/modules/modules.json` entry, a local directory that does not exist, or a source that is not a literal); a Terraform plan whose `format_version` the reader does not know; with `--render-kustomize`, a kustomization that could not be built (neither `kustomize` nor `kubectl` on `PATH`, a build that failed or did not finish in time), whose files are then read on their own. Reported as `info`, as a value not known before deployment is; it never fails a run.",
    severity: Severity::Info,
    controls: &[(
        "8.9",
        Relation::Supports,
        "A configuration baseline is only evidenced for the parts that were actually reviewed; this marks the parts that were not.",
    )],
    remediation: "For a Helm chart, render it and scan the output: `helm template RELEASE CHART | isms-lint scan --kind kubernetes -` (findings point at the templates through Helm's `# Source:` comments). For a module call, run `terraform init` (or `terraform get`) before the scan so that `.terraform/modules` holds the module, or fix the module's `source`. For a plan, produce it with a Terraform whose JSON format isms-lint reads (format 1.x). For a kustomization, install `kustomize` or `kubectl`, or fix the error the message quotes (`kustomize build DIR` shows it).",
};

const CONTROL_536: (&str, Relation, &str) = (
    "5.36",
    Relation::Supports,
    "Exceptions to a rule are only reviewable when each one records why, who accepted it and until when.",
);

/// An inline suppression or a waiver that cannot be honoured as written.
pub const INVALID_SUPPRESSION: BuiltinCheck = BuiltinCheck {
    id: "invalid-suppression",
    title: "Suppression is malformed or has no reason",
    description: "An `isms-lint: ignore[…]` comment must name the rules it silences and give a reason (`reason=\"…\"`); optionally an expiry (`until=YYYY-MM-DD`). One that does not is not honoured, and the finding it meant to hide stays open.",
    severity: Severity::Low,
    controls: &[CONTROL_536],
    remediation: "Write `# isms-lint: ignore[rule-id] reason=\"why this is accepted\" until=YYYY-MM-DD`.",
};

/// A suppression or waiver past its expiry date.
pub const EXPIRED_SUPPRESSION: BuiltinCheck = BuiltinCheck {
    id: "expired-suppression",
    title: "Suppression or waiver has expired",
    description: "The accepted risk had an end date that has passed, so the findings it covered are open again. Either fix them or renew the decision with a new date and reason.",
    severity: Severity::Low,
    controls: &[CONTROL_536],
    remediation: "Fix the finding, or renew the exception with a new `until`/`expires` date after review.",
};

/// A suppression or waiver that matches no finding.
pub const UNUSED_SUPPRESSION: BuiltinCheck = BuiltinCheck {
    id: "unused-suppression",
    title: "Suppression or waiver matches no finding",
    description: "The exception no longer silences anything: the issue was fixed or the rule id is wrong. Stale exceptions hide future regressions.",
    severity: Severity::Info,
    controls: &[CONTROL_536],
    remediation: "Remove the suppression comment or waiver.",
};

/// The checks isms-lint reports by itself.
pub const BUILTIN_CHECKS: [&BuiltinCheck; 6] = [
    &PARSE_ERROR,
    &DUPLICATE_KEY,
    &NOT_EVALUATED,
    &INVALID_SUPPRESSION,
    &EXPIRED_SUPPRESSION,
    &UNUSED_SUPPRESSION,
];

/// Every rule id a user may name: the rules that loaded (whether or not they run) and the
/// built-in checks (`parse-error`, …).
pub fn known_ids(rules: &RuleSet) -> impl Iterator<Item = &str> {
    rules
        .loaded_ids()
        .iter()
        .map(String::as_str)
        .chain(BUILTIN_CHECKS.iter().map(|c| c.id))
}

/// Whether `id` names a rule that loaded or a built-in check.
pub fn is_known(rules: &RuleSet, id: &str) -> bool {
    rules
        .loaded_ids()
        .binary_search_by(|x| x.as_str().cmp(id))
        .is_ok()
        || BUILTIN_CHECKS.iter().any(|c| c.id == id)
}

/// Loads the rules `sel` selects, where `--only`/`--skip` may also name built-in checks
/// (`parse-error`…): `--skip ID` turns a check off; `--only` keeps every check unless it names
/// some, so `--only 8.9` still says which files could not be parsed. Only built-in ids in
/// `--only` select no rule.
pub fn load_selected(
    sel: &crate::rules::RuleSources,
) -> (RuleSet, Vec<crate::diagnostic::FileDiagnostic>) {
    let builtin = |id: &String| BUILTIN_CHECKS.iter().any(|c| c.id == id);
    let mut rules_sel = sel.clone();
    rules_sel.only.retain(|id| !builtin(id));
    rules_sel.skip.retain(|id| !builtin(id));
    let (mut set, errors) = crate::rules::load_selected(&rules_sel);
    let only_builtins: Vec<&String> = sel.only.iter().filter(|id| builtin(id)).collect();
    if !sel.only.is_empty() && rules_sel.only.is_empty() {
        set.retain(|_| false);
    }
    set.skipped_builtins = BUILTIN_CHECKS
        .iter()
        .map(|c| c.id.to_string())
        .filter(|id| {
            sel.skip.contains(id) || (!only_builtins.is_empty() && !only_builtins.contains(&id))
        })
        .collect();
    (set, errors)
}

/// A finding of one of isms-lint's own checks.
pub fn builtin_finding(
    check: &BuiltinCheck,
    path: &str,
    start: Pos,
    end: Pos,
    message: String,
    logical: &str,
) -> Finding {
    Finding {
        rule_id: check.id.to_string(),
        severity: check.severity,
        controls: check.controls.iter().map(|c| c.0.to_string()).collect(),
        message,
        path: path.to_string(),
        start,
        end,
        logical_path: logical.to_string(),
        fingerprint: fingerprint(check.id, path, logical),
        element_line: start.line,
        unknown: false,
        suppression: None,
        related: Vec::new(),
    }
}
