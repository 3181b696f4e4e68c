//! The `isms-lint` binary: parses arguments, wires discovery, rules, scan and reports, and maps
//! the outcome to the exit code (0 clean, 1 findings at or above `--fail-on`, 2 errors).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use isms_lint::cli::{self, Cli, ColorChoice, Command, FailOn, RuleSelection};
use isms_lint::commands;
use isms_lint::diagnostic::FileDiagnostic;
use isms_lint::discover::{DiscoverOptions, NoticeLevel};
use isms_lint::report::{self, ReportInput};
use isms_lint::rules::Severity;
use isms_lint::scan::{self, ScanOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(args) => commands::rules(&args),
        Command::Controls(args) => commands::controls(&args),
        Command::Test(args) => commands::test(&args),
    };
    ExitCode::from(code)
}

fn fail_on(f: FailOn) -> Option<Severity> {
    match f {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::None => None,
    }
}

fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

fn run_scan(args: cli::ScanArgs) -> u8 {
    let selection: &RuleSelection = &args.selection;
    let (rules, load_errors) = commands::load_rules(selection);
    let opts = ScanOptions {
        paths: args.paths.clone(),
        discover: DiscoverOptions {
            excludes: args.exclude.clone(),
            max_file_size: args.max_file_size,
        },
        jobs: args.jobs,
    };
    let result = match scan::scan(&rules, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let input = ReportInput {
        scan: &result,
        rules: &rules,
        config_errors: &load_errors,
        show_suppressed: args.show_suppressed,
        fail_on: fail_on(args.fail_on),
    };
    let color = use_color(args.color, args.output.is_some());
    let rendered = report::render(args.format, &input, color);
    if args.format != report::Format::Text {
        for e in &load_errors {
            eprint!("{}", e.render(color && std::io::stderr().is_terminal()));
        }
    }
    if let Err(code) = write_output(args.output.as_deref(), &rendered) {
        return code;
    }
    if args.timings {
        let t = result.timings;
        eprintln!(
            "timings: discover {:.1} ms, parse {:.1} ms (cpu), evaluate {:.1} ms (cpu), files {:.1} ms (wall), {} files",
            t.discover.as_secs_f64() * 1e3,
            t.parse.as_secs_f64() * 1e3,
            t.evaluate.as_secs_f64() * 1e3,
            t.files_wall.as_secs_f64() * 1e3,
            result.files_scanned
        );
    }
    exit_code(&input, &load_errors)
}

fn exit_code(input: &ReportInput<'_>, load_errors: &[FileDiagnostic]) -> u8 {
    let errors = !load_errors.is_empty()
        || !input.scan.rule_errors.is_empty()
        || input
            .scan
            .notices
            .iter()
            .any(|n| n.level == NoticeLevel::Error);
    if errors {
        2
    } else if input.fails() {
        1
    } else {
        0
    }
}

fn write_output(path: Option<&std::path::Path>, text: &str) -> Result<(), u8> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            eprintln!("error: cannot write '{}': {e}", p.display());
            2
        }),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => {
                    eprintln!("error: cannot write to stdout: {e}");
                    Err(2)
                }
            }
        }
    }
}
