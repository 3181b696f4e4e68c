//! Accountable suppressions: inline `# isms-lint: ignore[rule] reason="…" until=YYYY-MM-DD`
//! comments and config waivers. A suppression needs a reason; an expired, malformed or unused
//! one is itself reported; suppressed findings are kept, never dropped.

use std::path::Path;

use chrono::NaiveDate;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::checks::{
    builtin_finding, EXPIRED_SUPPRESSION, INVALID_SUPPRESSION, UNUSED_SUPPRESSION,
};
use crate::config::{parse_date, LoadedConfig, Waiver};
use crate::doc::Pos;
use crate::finding::{Finding, Suppression, SuppressionKind};

/// One inline directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Display path of the file.
    pub path: String,
    /// 1-based line of the comment.
    pub line: u32,
    /// 1-based column where `isms-lint:` starts.
    pub col: u32,
    /// Rule ids it names.
    pub rules: Vec<String>,
    /// The reason, when given.
    pub reason: Option<String>,
    /// Expiry, when given.
    pub until: Option<NaiveDate>,
    /// Why it cannot be honoured, when malformed.
    pub problem: Option<String>,
}

/// Finds the directives in a file's comments (`#` and `//` comments).
pub fn directives(path: &str, text: &str) -> Vec<Directive> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("isms-lint:") else {
            continue;
        };
        let before = &line[..at];
        if !before.contains('#') && !before.contains("//") {
            continue;
        }
        let col = before.chars().count() as u32 + 1;
        out.push(parse_directive(
            path,
            i as u32 + 1,
            col,
            &line[at + "isms-lint:".len()..],
        ));
    }
    out
}

fn parse_directive(path: &str, line: u32, col: u32, rest: &str) -> Directive {
    let mut d = Directive {
        path: path.to_string(),
        line,
        col,
        rules: Vec::new(),
        reason: None,
        until: None,
        problem: None,
    };
    let rest = rest.trim_start();
    let Some(body) = rest.strip_prefix("ignore[") else {
        d.problem = Some("expected `ignore[rule-id, …]` after `isms-lint:`".into());
        return d;
    };
    let Some(close) = body.find(']') else {
        d.problem = Some("`ignore[` is not closed with `]`".into());
        return d;
    };
    d.rules = body[..close]
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if d.rules.is_empty() {
        d.problem = Some("`ignore[]` names no rule".into());
    }
    let mut attrs = body[close + 1..].trim();
    while !attrs.is_empty() {
        let Some(eq) = attrs.find('=') else { break };
        let key = attrs[..eq].trim();
        let after = attrs[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(end) => (&after[1..1 + end], &after[end + 2..]),
                None => {
                    d.problem = Some(format!("unterminated quote in `{key}=`"));
                    return d;
                }
            },
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        match key {
            "reason" => d.reason = Some(value.trim().to_string()).filter(|r| !r.is_empty()),
            "until" => match parse_date(value) {
                Some(date) => d.until = Some(date),
                None => d.problem = Some(format!("`until={value}` is not a date (YYYY-MM-DD)")),
            },
            other => {
                d.problem = Some(format!(
                    "unknown attribute `{other}=` (use reason= and until=)"
                ));
            }
        }
        attrs = next.trim();
    }
    if d.problem.is_none() && d.reason.is_none() {
        d.problem = Some("no reason given: add reason=\"why this is accepted\"".into());
    }
    d
}

/// What applying suppressions produced besides marking findings.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings about the suppressions themselves (invalid, expired, unused when asked).
    pub findings: Vec<Finding>,
    /// Valid suppressions and waivers that matched nothing.
    pub unused: usize,
}

/// Applies the inline directives of one file to its findings.
pub fn apply_inline(
    findings: &mut [Finding],
    directives: &[Directive],
    today: NaiveDate,
    report_unused: bool,
) -> Applied {
    let mut applied = Applied::default();
    let mut used = vec![false; directives.len()];
    for f in findings.iter_mut().filter(|f| f.is_open()) {
        let lines = [
            f.start.line,
            f.start.line.saturating_sub(1),
            f.element_line,
            f.element_line.saturating_sub(1),
        ];
        let hit = directives.iter().position(|d| {
            d.path == f.path && lines.contains(&d.line) && d.rules.contains(&f.rule_id)
        });
        let Some(i) = hit else { continue };
        used[i] = true;
        let d = &directives[i];
        let expired = d.until.is_some_and(|u| u < today);
        if d.problem.is_none() && !expired {
            f.suppression = Some(Box::new(Suppression {
                kind: SuppressionKind::InSource,
                justification: d.reason.clone().unwrap_or_default(),
                owner: None,
                until: d.until.map(|u| u.to_string()),
            }));
        }
    }
    for (d, used) in directives.iter().zip(used) {
        let at = Pos::new(d.line, d.col);
        let end = Pos::new(d.line, d.col + 10);
        let logical = format!("suppression:{}", d.rules.join(","));
        if let Some(problem) = &d.problem {
            applied.findings.push(builtin_finding(
                &INVALID_SUPPRESSION,
                &d.path,
                at,
                end,
                format!("suppression not honoured: {problem}"),
                &logical,
            ));
        } else if let Some(u) = d.until.filter(|u| *u < today) {
            applied.findings.push(builtin_finding(
                &EXPIRED_SUPPRESSION,
                &d.path,
                at,
                end,
                format!(
                    "suppression of {} expired on {u}; the findings it covered are open again",
                    d.rules.join(", ")
                ),
                &logical,
            ));
        } else if !used {
            applied.unused += 1;
            if report_unused {
                applied.findings.push(builtin_finding(
                    &UNUSED_SUPPRESSION,
                    &d.path,
                    at,
                    end,
                    format!("suppression of {} matches no finding", d.rules.join(", ")),
                    &logical,
                ));
            }
        }
    }
    applied
}

struct CompiledWaiver<'a> {
    waiver: &'a Waiver,
    paths: GlobSet,
    expires: Option<NaiveDate>,
    line: u32,
}

fn waiver_line(text: &str, w: &Waiver) -> u32 {
    let needle = w
        .rule
        .as_deref()
        .or(w.control.as_deref())
        .unwrap_or("waivers");
    let offset = text.find(needle).unwrap_or(0);
    crate::diagnostic::line_col(text, offset).0
}

/// Path of a finding relative to the config directory, for matching waiver globs.
/// `shown` (relative to `cwd`) relative to `dir`, the normalized config directory.
fn relative_to(cwd: &Path, dir: &Path, shown: &str) -> String {
    let abs = crate::paths::normalize(&cwd.join(shown));
    abs.strip_prefix(dir)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| shown.to_string())
}

/// Applies config waivers to all findings.
pub fn apply_waivers(
    findings: &mut Vec<Finding>,
    config: &LoadedConfig,
    today: NaiveDate,
    report_unused: bool,
) -> Applied {
    let mut applied = Applied::default();
    let display = config
        .path
        .as_deref()
        .map(crate::paths::display)
        .unwrap_or_default();
    let compiled: Vec<CompiledWaiver<'_>> = config
        .config
        .waivers
        .iter()
        .map(|w| {
            let mut b = GlobSetBuilder::new();
            let patterns: Vec<&str> = if w.paths.is_empty() {
                vec!["**"]
            } else {
                w.paths.iter().map(String::as_str).collect()
            };
            for p in patterns {
                if let Ok(g) = Glob::new(p) {
                    b.add(g);
                }
            }
            CompiledWaiver {
                waiver: w,
                paths: b.build().unwrap_or_else(|_| GlobSet::empty()),
                expires: w.expires.as_deref().and_then(parse_date),
                line: waiver_line(&config.text, w),
            }
        })
        .collect();
    let mut used = vec![false; compiled.len()];
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = crate::paths::normalize(&cwd.join(&config.dir));
    // Without waivers, no finding needs its path made relative.
    for f in findings
        .iter_mut()
        .filter(|f| !compiled.is_empty() && f.is_open())
    {
        let rel = relative_to(&cwd, &dir, &f.path);
        for (i, c) in compiled.iter().enumerate() {
            let rule_hit = c.waiver.rule.as_deref() == Some(f.rule_id.as_str())
                || c.waiver.control.as_deref().is_some_and(|ctl| {
                    f.controls
                        .iter()
                        .any(|x| x == crate::catalog::normalize_id(ctl))
                });
            if !rule_hit || !c.paths.is_match(&rel) {
                continue;
            }
            used[i] = true;
            if c.expires.is_some_and(|e| e < today) {
                continue;
            }
            f.suppression = Some(Box::new(Suppression {
                kind: SuppressionKind::External,
                justification: c.waiver.reason.clone().unwrap_or_default(),
                owner: c.waiver.owner.clone(),
                until: c.waiver.expires.clone(),
            }));
            break;
        }
    }
    for (c, used) in compiled.iter().zip(used) {
        let at = Pos::new(c.line, 1);
        let what = c
            .waiver
            .rule
            .clone()
            .or(c.waiver.control.clone())
            .unwrap_or_default();
        let logical = format!("waiver:{what}:{}", c.waiver.paths.join(","));
        if let Some(e) = c.expires.filter(|e| *e < today) {
            applied.findings.push(builtin_finding(
                &EXPIRED_SUPPRESSION,
                &display,
                at,
                at,
                format!("waiver for {what} expired on {e}; the findings it covered are open again"),
                &logical,
            ));
        } else if !used {
            applied.unused += 1;
            if report_unused {
                applied.findings.push(builtin_finding(
                    &UNUSED_SUPPRESSION,
                    &display,
                    at,
                    at,
                    format!("waiver for {what} matches no finding"),
                    &logical,
                ));
            }
        }
    }
    findings.extend(applied.findings.drain(..).collect::<Vec<_>>());
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reason_until_and_several_ids() {
        let ds = directives(
            "a.yaml",
            "x: 1 # isms-lint: ignore[r1, r2] reason=\"legacy, tracked in SEC-1\" until=2027-03-31\n",
        );
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].rules, ["r1", "r2"]);
        assert_eq!(ds[0].reason.as_deref(), Some("legacy, tracked in SEC-1"));
        assert_eq!(ds[0].until, parse_date("2027-03-31"));
        assert!(ds[0].problem.is_none());
        assert_eq!((ds[0].line, ds[0].col), (1, 8));
    }

    #[test]
    fn missing_reason_and_bad_syntax_are_problems() {
        let ds = directives(
            "a.tf",
            "# isms-lint: ignore[r1]\n// isms-lint: skip r1\n# isms-lint: ignore[r1] reason=\"x\" until=tomorrow\n",
        );
        assert!(ds[0].problem.as_deref().unwrap().contains("no reason"));
        assert!(ds[1]
            .problem
            .as_deref()
            .unwrap()
            .contains("expected `ignore["));
        assert!(ds[2].problem.as_deref().unwrap().contains("not a date"));
    }

    #[test]
    fn text_outside_comments_is_not_a_directive() {
        assert!(directives("a.yaml", "name: isms-lint: x\n").is_empty());
    }
}
