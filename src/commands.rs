//! The non-scan subcommands (`rules`, `controls`, `test`) and rule loading shared by all of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use isms_lint::catalog::{self, Theme};

use isms_lint::diagnostic::FileDiagnostic;
use isms_lint::report::annex;
use isms_lint::rules::{self, Rule, RuleSet};
use isms_lint::ruletest;

use crate::cli::{ControlsArgs, ListFormat, RuleSelection, RulesAction, RulesArgs, TestArgs};

/// Loads the rules `sel` names (see [`rules::load_selected`]).
pub fn load_rules(sel: &RuleSelection) -> (RuleSet, Vec<FileDiagnostic>) {
    rules::load_selected(&sel.sources())
}

fn print_errors(errors: &[FileDiagnostic]) {
    for e in errors {
        eprint!("{}", e.render(false));
    }
}

/// `isms-lint rules` / `rules show ID` / `rules --helpers`.
pub fn rules(args: &RulesArgs) -> u8 {
    let (set, errors) = load_rules(&args.selection);
    print_errors(&errors);
    let mut out = String::new();
    if args.helpers {
        for h in isms_lint::inputs::all_helpers() {
            let _ = writeln!(out, "{}\n    {}\n", h.signature, h.doc);
        }
    } else {
        match &args.action {
            Some(RulesAction::Show { id }) => match set.get(id) {
                Some(rule) if args.format == ListFormat::Markdown => {
                    out.push_str(&isms_lint::docs::rule_section(rule));
                }
                Some(rule) => out.push_str(&show_rule(rule)),
                None => {
                    eprintln!("error: no rule '{id}' (see `isms-lint rules`)");
                    return 2;
                }
            },
            None => {
                let _ = writeln!(
                    out,
                    "{:<44} {:<9} {:<32} CONTROLS",
                    "ID", "SEVERITY", "KINDS"
                );
                for r in &set.rules {
                    let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
                    let controls: Vec<String> = r.controls.iter().map(|c| annex(&c.id)).collect();
                    let _ = writeln!(
                        out,
                        "{:<44} {:<9} {:<32} {}",
                        r.id,
                        r.severity.as_str(),
                        kinds.join(","),
                        controls.join(" ")
                    );
                }
                let _ = writeln!(out, "\n{} rules", set.rules.len());
            }
        }
    }
    print!("{out}");
    u8::from(!errors.is_empty()) * 2
}

/// A rule in full, for the terminal.
pub fn show_rule(r: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", r.id, r.title);
    let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
    let _ = writeln!(
        out,
        "severity: {}    kinds: {}",
        r.severity,
        kinds.join(", ")
    );
    let _ = writeln!(out, "source: {}", r.origin.path);
    if !r.description.is_empty() {
        let _ = writeln!(out, "\n{}", r.description);
    }
    let _ = writeln!(out, "\nISO/IEC 27001:2022 Annex A:");
    for c in &r.controls {
        let _ = writeln!(
            out,
            "  {} ({}): {}",
            isms_lint::report::annex_with_title(&c.id),
            c.relation.as_str(),
            c.rationale
        );
    }
    let _ = writeln!(out, "\nChecks: {}", r.verdict().assert.source.trim());
    if let Some(s) = &r.selection().select {
        let _ = writeln!(out, "  on each of: {}", s.source.trim());
    }
    if let Some(w) = &r.selection().when {
        let _ = writeln!(out, "  when: {}", w.source.trim());
    }
    for (label, which) in [("Failing example", "fail"), ("Passing example", "pass")] {
        if let Some((name, body)) = isms_lint::docs::example(&r.id, which) {
            let _ = writeln!(out, "\n{label} ({name}):");
            for line in body.lines().take(40) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = writeln!(out, "\nRemediation: {}", r.remediation);
    for reference in &r.references {
        let _ = writeln!(out, "See: {reference}");
    }
    out
}

/// `isms-lint controls`.
pub fn controls(args: &ControlsArgs) -> u8 {
    let (set, errors) = load_rules(&args.selection);
    print_errors(&errors);
    let mut by_control: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &set.rules {
        for c in &r.controls {
            by_control.entry(c.id.as_str()).or_default().push(&r.id);
        }
    }
    if args.format == ListFormat::Markdown {
        print!("{}", isms_lint::docs::controls_markdown(&set));
        return u8::from(!errors.is_empty()) * 2;
    }
    if args.format == ListFormat::Json {
        let rows: Vec<serde_json::Value> = catalog::controls()
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "title": c.title,
                    "theme": c.theme,
                    "new_in_2022": c.new_in_2022,
                    "rules": by_control.get(c.id.as_str()).cloned().unwrap_or_default(),
                    "manual_by_nature": isms_lint::docs::manual_by_nature(&c.id),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return u8::from(!errors.is_empty()) * 2;
    }
    let mut out = String::new();
    let mut covered = 0;
    for theme in Theme::ALL {
        let controls: Vec<_> = catalog::controls()
            .iter()
            .filter(|c| c.theme == theme)
            .collect();
        let _ = writeln!(out, "{} ({} controls)", theme.heading(), controls.len());
        for c in controls {
            let n = by_control.get(c.id.as_str()).map_or(0, Vec::len);
            covered += usize::from(n > 0);
            let new = if c.new_in_2022 { " [new in 2022]" } else { "" };
            let rules = if n == 0 {
                "—".to_string()
            } else {
                format!("{n} rule{}", if n == 1 { "" } else { "s" })
            };
            let _ = writeln!(out, "  {:<7} {:<62} {rules}{new}", c.annex_id(), c.title);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{covered} of {} controls are evidenced by at least one of {} rules.",
        catalog::controls().len(),
        set.rules.len()
    );
    print!("{out}");
    u8::from(!errors.is_empty()) * 2
}

/// `isms-lint test [RULES_DIR…]`.
pub fn test(args: &TestArgs) -> u8 {
    let builtin = args.dirs.is_empty();
    let selection = RuleSelection {
        rules: args.dirs.clone(),
        no_default_rules: !builtin,
        ..RuleSelection::default()
    };
    let (set, errors) = load_rules(&selection);
    print_errors(&errors);
    let fixtures: PathBuf = match (&args.fixtures, args.dirs.first()) {
        (Some(f), _) => f.clone(),
        (None, Some(dir)) => ruletest::fixtures_dir_for(dir),
        (None, None) => PathBuf::from("fixtures"),
    };
    let only = (!args.only.is_empty()).then_some(args.only.as_slice());
    let results = ruletest::run(&set, &fixtures, only);
    let mut failed = 0;
    let mut expected = 0;
    for t in &results {
        expected += t.expected;
        if t.problems.is_empty() {
            println!("ok     {} ({} marked line(s))", t.rule_id, t.expected);
        } else {
            failed += 1;
            println!("FAILED {}", t.rule_id);
            for p in &t.problems {
                println!("       {p}");
            }
        }
    }
    println!(
        "\n{} passed, {} failed ({} rules, {} marked lines, fixtures in {})",
        results.len() - failed,
        failed,
        results.len(),
        expected,
        fixtures.display()
    );
    if !errors.is_empty() {
        2
    } else {
        u8::from(failed > 0)
    }
}
