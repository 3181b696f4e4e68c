//! Dockerfile fixtures mutated as text, one instruction at a time (its lines as the parser
//! found them, continuations and heredocs included): drop it, drop its arguments or flags, or
//! replace its arguments by odd values. Some mutants are not valid Dockerfiles (e.g. `USER` with
//! no argument): those become `parse-error` findings, which the caller counts and skips.

use isms_lint::doc::Node;

/// One mutant of a Dockerfile.
#[derive(Clone, Debug)]
pub struct Mutant {
    /// e.g. `line 3 (USER): drop arguments`.
    pub what: String,
    /// What changed in terms that recur across files: the instruction, the first word of its
    /// arguments and the change, e.g. `RUN apt-get: drop flags`.
    pub shape: String,
    /// The mutated text.
    pub text: String,
}

/// Argument texts that are valid but odd for any instruction: (family, label, arguments). Of
/// each family's alternatives one is chosen per instruction (by `seed`).
fn odd_arguments(keyword: &str, seed: usize) -> Vec<(String, &'static str, String)> {
    let families: [(&str, Vec<(&'static str, String)>); 3] = [
        (
            "odd",
            vec![
                ("'##X##'", "##X##".to_string()),
                ("unicode", "ünïcödé-✓-名前".to_string()),
                ("very long", "x".repeat(4096)),
            ],
        ),
        (
            "variable",
            vec![
                ("unset variable", "$ISMS_LINT_UNSET".to_string()),
                (
                    "unset variable with default",
                    "${ISMS_LINT_UNSET:-}".to_string(),
                ),
            ],
        ),
        (
            "exec form",
            vec![
                ("empty exec form", "[]".to_string()),
                ("exec form of odd items", "[\"\", \"##X##\"]".to_string()),
                ("invalid exec form", "[\"a\", 1]".to_string()),
            ],
        ),
    ];
    let mut out: Vec<(String, &'static str, String)> = families
        .into_iter()
        .map(|(family, mut options)| {
            let (label, args) = options.swap_remove(seed % options.len());
            (family.to_string(), label, args)
        })
        .collect();
    let specific: &[(&str, &str)] = match keyword {
        "FROM" => &[
            ("scratch", "scratch"),
            ("digest only", "@sha256:0000"),
            ("alias without name", "alpine AS"),
            ("variable image", "${ISMS_LINT_UNSET}"),
        ],
        "USER" => &[
            ("uid 0", "0"),
            ("user and group", "root:root"),
            ("colon", ":"),
        ],
        "ENV" | "ARG" | "LABEL" => &[("legacy form", "A b c"), ("empty value", "A=")],
        "EXPOSE" => &[("not a port", "abc"), ("out of range", "99999/udp")],
        "HEALTHCHECK" => &[("none", "NONE"), ("bare cmd", "CMD")],
        "COPY" | "ADD" => &[("one operand", "a"), ("url", "http://example.com/x /x")],
        _ => &[],
    };
    out.extend(
        specific
            .iter()
            .map(|(l, a)| (l.to_string(), *l, a.to_string())),
    );
    out
}

fn int(n: Option<&Node>) -> Option<usize> {
    n.and_then(|n| n.to_json().as_u64())
        .and_then(|v| usize::try_from(v).ok())
}

/// Every mutant of the Dockerfile `text`; `None` when it does not parse.
pub fn mutants(text: &str) -> Option<Vec<Mutant>> {
    let (doc, _) = isms_lint::inputs::dockerfile::parse::parse(text).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let instructions = doc.get("instructions").and_then(Node::as_list)?;
    for ins in instructions.items() {
        let (Some(first), Some(last)) = (int(ins.get("line")), int(ins.get("end_line"))) else {
            continue;
        };
        if first == 0 || last < first || last > lines.len() {
            continue;
        }
        let keyword = ins
            .get("instruction")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let written = lines[first - 1].trim_start();
        let kw_text = written.split_whitespace().next().unwrap_or_default();
        let flags: Vec<&str> = written
            .split_whitespace()
            .skip(1)
            .take_while(|w| w.starts_with("--"))
            .collect();
        // The instruction's lines replaced by `with`; `keep_rest` keeps its continuation lines
        // (an edit of the first line only).
        let replace = |with: Option<String>, keep_rest: bool| -> String {
            let mut t: Vec<String> = lines[..first - 1].iter().map(|s| s.to_string()).collect();
            t.extend(with);
            let from = if keep_rest { first } else { last };
            t.extend(lines[from..].iter().map(|s| s.to_string()));
            t.join("\n") + "\n"
        };
        let here = format!("line {first} ({keyword})");
        let first_word = written
            .split_whitespace()
            .nth(1 + flags.len())
            .unwrap_or_default()
            .to_string();
        let mut push = |family: &str, label: String, with: Option<String>, keep_rest: bool| {
            out.push(Mutant {
                what: format!("{here}: {label}"),
                shape: format!("{keyword} {first_word}: {family}"),
                text: replace(with, keep_rest),
            });
        };
        push("delete", "delete instruction".into(), None, false);
        push(
            "drop",
            "drop arguments".into(),
            Some(kw_text.to_string()),
            false,
        );
        push(
            "lowercase",
            "lowercase keyword".into(),
            Some(format!(
                "{}{}",
                kw_text.to_lowercase(),
                &written[kw_text.len()..]
            )),
            true,
        );
        if !flags.is_empty() {
            let rest: Vec<&str> = written.split_whitespace().skip(1 + flags.len()).collect();
            push(
                "drop flags",
                "drop flags".into(),
                Some(format!("{kw_text} {}", rest.join(" "))),
                true,
            );
            push(
                "odd flags",
                "odd flag values".into(),
                Some(format!(
                    "{kw_text} {} {}",
                    flags
                        .iter()
                        .map(|f| format!("{}=##X##", f.split('=').next().unwrap_or(f)))
                        .collect::<Vec<_>>()
                        .join(" "),
                    rest.join(" ")
                )),
                true,
            );
        }
        for (family, label, args) in odd_arguments(&keyword, first) {
            push(
                &family,
                format!("arguments set to {label}"),
                Some(format!("{kw_text} {args}")),
                false,
            );
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_edit_one_instruction() {
        let text =
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/x apk add \\\n    curl\nUSER app\n";
        let ms = mutants(text).unwrap();
        let drop = ms
            .iter()
            .find(|m| m.what == "line 2 (RUN): delete instruction")
            .unwrap();
        assert_eq!(drop.text, "FROM alpine:3.20\nUSER app\n");
        let flags = ms
            .iter()
            .find(|m| m.what == "line 2 (RUN): drop flags")
            .unwrap();
        assert_eq!(
            flags.text,
            "FROM alpine:3.20\nRUN apk add \\\n    curl\nUSER app\n"
        );
        assert!(ms
            .iter()
            .any(|m| m.what == "line 4 (USER): arguments set to uid 0"));
    }
}
