//! Rule tests: each rule's `fixtures/<id>/fail` and `fixtures/<id>/pass` examples, with the lines
//! that must be reported marked `# expect: <id>` (or listed in a `<file>.expect` sidecar for JSON).
//! Failures are named as users of ast-grep know them: Missing, Noisy, Wrong-line.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::rules::RuleSet;
use crate::scan::{self, ScanOptions};

/// One way a rule's fixtures disagree with the rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// A marked line was not reported.
    Missing {
        /// Fixture file.
        path: String,
        /// Marked line.
        line: u32,
    },
    /// A line was reported that is not marked (in `pass/`, any finding is noisy).
    Noisy {
        /// Fixture file.
        path: String,
        /// Reported line.
        line: u32,
        /// Rule message.
        message: String,
    },
    /// The rule fired in the right file but on another line than marked.
    WrongLine {
        /// Fixture file.
        path: String,
        /// Marked line.
        expected: u32,
        /// Reported line.
        found: u32,
    },
    /// The rule could not be evaluated on a fixture, or a fixture did not parse.
    Error {
        /// Fixture file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The rule has no fixtures, or lacks a failing or a passing example.
    NoFixtures {
        /// What is missing.
        message: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { path, line } => {
                write!(f, "Missing: {path}:{line} is marked but was not reported")
            }
            Problem::Noisy {
                path,
                line,
                message,
            } => write!(
                f,
                "Noisy: {path}:{line} was reported but is not marked ({message})"
            ),
            Problem::WrongLine {
                path,
                expected,
                found,
            } => write!(
                f,
                "Wrong-line: {path}: expected line {expected}, reported line {found}"
            ),
            Problem::Error { path, message } => write!(f, "Error: {path}: {message}"),
            Problem::NoFixtures { message } => write!(f, "No fixtures: {message}"),
        }
    }
}

/// The outcome for one rule.
#[derive(Clone, Debug)]
pub struct RuleTest {
    /// Rule id.
    pub rule_id: String,
    /// Marked lines checked.
    pub expected: usize,
    /// Problems found; empty means the rule passed.
    pub problems: Vec<Problem>,
}

/// The lines marked for `rule_id`: a comment holding `expect: <id>[, <id>…]`.
pub fn marked_lines(text: &str, rule_id: &str) -> BTreeSet<u32> {
    lines_marked(text, "expect:", rule_id)
}

/// The lines where `rule_id` must report that it cannot judge the element before deployment:
/// a comment holding `expect-unknown: <id>[, <id>…]` (allowed in `pass/` too).
pub fn unknown_lines(text: &str, rule_id: &str) -> BTreeSet<u32> {
    lines_marked(text, "expect-unknown:", rule_id)
}

fn lines_marked(text: &str, marker: &str, rule_id: &str) -> BTreeSet<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let Some(hash) = l.find('#') else {
                return false;
            };
            let comment = &l[hash..];
            comment.match_indices(marker).any(|(i, m)| {
                comment[i + m.len()..]
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|t| !t.is_empty())
                    .take_while(|t| !t.ends_with(':'))
                    .any(|t| t == rule_id)
            })
        })
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// Lines listed for `rule_id` in a sidecar (`<line> <rule-id>` per line).
fn sidecar_lines(text: &str, rule_id: &str) -> BTreeSet<u32> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let line = parts.next()?.parse::<u32>().ok()?;
            (parts.next()? == rule_id).then_some(line)
        })
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_none_or(|e| e != "expect"))
        .collect();
    out.sort();
    out
}

/// Where the fixtures of rules loaded from `rules_dir` are: `<dir>/fixtures` or `<dir>/../fixtures`.
pub fn fixtures_dir_for(rules_dir: &Path) -> PathBuf {
    let inside = rules_dir.join("fixtures");
    if inside.is_dir() {
        return inside;
    }
    rules_dir
        .parent()
        .map(|p| p.join("fixtures"))
        .unwrap_or(inside)
}

/// Runs every rule of `rules` (restricted to `ids` when given) over its fixtures in `fixtures`.
pub fn run(rules: &RuleSet, fixtures: &Path, ids: Option<&[String]>) -> Vec<RuleTest> {
    rules
        .rules
        .iter()
        .filter(|r| ids.is_none_or(|ids| ids.contains(&r.id)))
        .map(|r| test_rule(rules, &r.id, &fixtures.join(&r.id)))
        .collect()
}

fn test_rule(rules: &RuleSet, id: &str, dir: &Path) -> RuleTest {
    let mut t = RuleTest {
        rule_id: id.to_string(),
        expected: 0,
        problems: Vec::new(),
    };
    let fail = dir.join("fail");
    let pass = dir.join("pass");
    if !fail.is_dir() || !pass.is_dir() {
        t.problems.push(Problem::NoFixtures {
            message: format!(
                "{} needs fail/ and pass/ examples",
                crate::paths::display(dir)
            ),
        });
        return t;
    }
    let opts = ScanOptions {
        paths: vec![fail.clone(), pass.clone()],
        jobs: Some(1),
        ..ScanOptions::default()
    };
    let result = match scan::scan(rules, &opts) {
        Ok(r) => r,
        Err(e) => {
            t.problems.push(Problem::Error {
                path: crate::paths::display(dir),
                message: e.to_string(),
            });
            return t;
        }
    };
    for e in result.rule_errors.iter().filter(|e| e.rule_id == id) {
        t.problems.push(Problem::Error {
            path: e.path.clone(),
            message: format!("line {}: {}", e.line, e.message),
        });
    }
    for f in result
        .findings
        .iter()
        .filter(|f| f.rule_id == "parse-error")
    {
        t.problems.push(Problem::Error {
            path: f.path.clone(),
            message: f.message.clone(),
        });
    }
    let mut any_fail_marker = false;
    let mut any_pass_file = false;
    for (is_fail, base) in [(true, &fail), (false, &pass)] {
        for file in files_under(base) {
            let display = crate::paths::display(&file);
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let mut expected = if is_fail {
                marked_lines(&text, id)
            } else {
                BTreeSet::new()
            };
            let sidecar = PathBuf::from(format!("{}.expect", file.display()));
            if is_fail && sidecar.is_file() {
                expected.extend(sidecar_lines(
                    &std::fs::read_to_string(&sidecar).unwrap_or_default(),
                    id,
                ));
            }
            any_fail_marker |= is_fail && !expected.is_empty();
            any_pass_file |= !is_fail;
            let unknown = unknown_lines(&text, id);
            t.expected += expected.len() + unknown.len();
            // Violations against `expect:`, unknowns against `expect-unknown:`.
            for (want_unknown, expected) in [(false, expected), (true, unknown)] {
                let found: Vec<(u32, String)> = result
                    .findings
                    .iter()
                    .filter(|f| f.rule_id == id && f.path == display && f.unknown == want_unknown)
                    .map(|f| (f.start.line, f.message.clone()))
                    .collect();
                compare(&mut t, &display, &expected, &found);
            }
        }
    }
    if !any_fail_marker {
        t.problems.push(Problem::NoFixtures {
            message: format!(
                "no line of {} is marked '# expect: {id}'",
                crate::paths::display(&fail)
            ),
        });
    }
    if !any_pass_file {
        t.problems.push(Problem::NoFixtures {
            message: format!("{} has no compliant example", crate::paths::display(&pass)),
        });
    }
    t.problems.sort();
    t.problems.dedup();
    t
}

/// Records how the lines found differ from the lines expected in one fixture file.
fn compare(t: &mut RuleTest, display: &str, expected: &BTreeSet<u32>, found: &[(u32, String)]) {
    let found_lines: BTreeSet<u32> = found.iter().map(|(l, _)| *l).collect();
    let missing: Vec<u32> = expected.difference(&found_lines).copied().collect();
    let noisy: Vec<&(u32, String)> = found
        .iter()
        .filter(|(l, _)| !expected.contains(l))
        .collect();
    let paired = missing.len().min(noisy.len());
    for i in 0..paired {
        t.problems.push(Problem::WrongLine {
            path: display.to_string(),
            expected: missing[i],
            found: noisy[i].0,
        });
    }
    for line in &missing[paired..] {
        t.problems.push(Problem::Missing {
            path: display.to_string(),
            line: *line,
        });
    }
    for (line, message) in &noisy[paired..] {
        t.problems.push(Problem::Noisy {
            path: display.to_string(),
            line: *line,
            message: message.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_from_trailing_comments() {
        let text =
            "a: 1\nb: 2 # expect: my-rule\nc: 3 # expect: other, my-rule\n# expect: my-rule-2\n";
        assert_eq!(
            marked_lines(text, "my-rule")
                .into_iter()
                .collect::<Vec<_>>(),
            [2, 3]
        );
        let unknown = "a: 1 # expect-unknown: my-rule\nb: 2 # expect: my-rule\n";
        assert_eq!(
            unknown_lines(unknown, "my-rule")
                .into_iter()
                .collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(
            marked_lines(unknown, "my-rule")
                .into_iter()
                .collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(
            sidecar_lines("3 my-rule\n4 x\n", "my-rule")
                .into_iter()
                .collect::<Vec<_>>(),
            [3]
        );
    }
}
