//! Deterministic fuzzing of every parser and of rule evaluation: the fixtures and the saved
//! regression inputs, each mutated many times by a seeded generator, must never panic. (The
//! coverage-guided targets of `fuzz/` run the same entry points under `cargo fuzz`.)

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use isms_lint::fuzzing;

type Target = fn(&str);

fn targets() -> Vec<(&'static str, Target)> {
    vec![
        ("yaml", |t| {
            fuzzing::yaml(t);
        }),
        ("json", |t| {
            fuzzing::json(t);
        }),
        ("hcl", |t| {
            fuzzing::hcl(t);
        }),
        ("dockerfile", |t| {
            fuzzing::dockerfile(t);
        }),
        ("kustomize_output", |t| {
            fuzzing::kustomize_output(t);
        }),
        ("rule_file", |t| {
            fuzzing::rule_file(t);
        }),
        ("config", |t| {
            fuzzing::config(t);
        }),
        ("evaluate", |t| {
            fuzzing::evaluate(t);
        }),
    ]
}

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    ":",
    ": ",
    "\t",
    "\n",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "!Ref ",
    "${",
    "${var.x}",
    "<<EOF\n",
    "\nEOF\n",
    "#",
    "---\n",
    "%",
    "\u{feff}",
    "\r\n",
    "0x",
    "1e999",
    "\"\\u",
    "resource \"a\" \"b\" {",
    "}",
    "FROM ",
    "RUN ",
    "\\\n",
    "{{",
    "}}",
    "has(",
    "item.",
];

fn mutate(rng: &mut Rng, input: &str) -> String {
    let mut s: Vec<char> = input.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 => s.truncate(at),
            1 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                s.splice(at..at, tok.chars());
            }
            2 if !s.is_empty() => {
                let end = (at + rng.below(40)).min(s.len());
                s.drain(at.min(end)..end);
            }
            3 if !s.is_empty() => {
                let end = (at + rng.below(80)).min(s.len());
                let copy: Vec<char> = s[at.min(end)..end].to_vec();
                s.splice(at..at, copy);
            }
            _ => {
                if at < s.len() {
                    s[at] = char::from_u32(rng.below(0x80) as u32).unwrap_or('x');
                }
            }
        }
    }
    s.into_iter().collect()
}

fn seeds() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in ["fixtures", "tests/data/fuzz-regressions"] {
        let root = common::root().join(dir);
        if !root.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
            .standard_filters(false)
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                out.push((f, text));
            }
        }
    }
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(common::root())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[test]
fn no_parser_or_rule_panics_on_mutated_inputs() {
    let seeds = seeds();
    assert!(seeds.len() > 50, "seed corpus too small: {}", seeds.len());
    let mut rng = Rng(0x0002_7001_2022_u64);
    let mut failures = Vec::new();
    let mut runs = 0;
    for name in file_inputs() {
        for (path, text) in &seeds {
            for input in [text.clone(), mutate(&mut rng, text)] {
                runs += 1;
                if catch_unwind(AssertUnwindSafe(|| fuzzing::input(name, &input))).is_err() {
                    failures.push(format!(
                        "input {name} panicked on a mutation of {}:\n{input:?}",
                        rel(path)
                    ));
                }
            }
        }
    }
    for (name, target) in targets() {
        // Heavier targets get fewer mutations; every seed is also run as it is.
        let per_seed = if name == "evaluate" { 1 } else { 4 };
        for (path, text) in &seeds {
            let mut inputs = vec![text.clone()];
            for _ in 0..per_seed {
                inputs.push(mutate(&mut rng, text));
            }
            for input in inputs {
                runs += 1;
                if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
                    failures.push(format!(
                        "{name} panicked on a mutation of {}:\n{input:?}",
                        rel(path)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs panicked:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The inputs that read files of their own (the others recognise documents those give).
fn file_inputs() -> Vec<&'static str> {
    isms_lint::inputs::registry()
        .iter()
        .filter(|i| !i.patterns().is_empty())
        .map(|i| i.name())
        .collect()
}

#[test]
fn every_file_reading_input_has_a_fuzz_target() {
    let manifest = std::fs::read_to_string(common::root().join("fuzz/Cargo.toml")).unwrap();
    let inputs = file_inputs();
    assert!(inputs.len() >= 3, "{inputs:?}");
    for name in inputs {
        let target = fuzzing::input_target(name);
        let path = format!("fuzz/fuzz_targets/{target}.rs");
        let source = std::fs::read_to_string(common::root().join(&path))
            .unwrap_or_else(|_| panic!("input `{name}` reads files but {path} does not exist"));
        assert!(
            source.contains(&format!("fuzzing::input(\"{name}\"")),
            "{path} does not feed the `{name}` input"
        );
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml does not declare the {target} target"
        );
    }
}
