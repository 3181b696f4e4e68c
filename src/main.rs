//! The `isms-lint` binary: parses arguments, wires discovery, rules, scan and reports, and maps
//! the outcome to the exit code (0 clean, 1 findings at or above `--fail-on`, 2 errors).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod color;
mod commands;
mod manual;
mod progress;

use cli::{Cli, ColorChoice, Command, FailOn};
use isms_lint::report::{self, ReportInput};
use isms_lint::rules::Severity;
use isms_lint::{baseline, config, evidence, git, pipeline, signing, soa};

/// `--quiet` and `--verbose`, for every command.
#[derive(Clone, Copy)]
struct Chat {
    quiet: bool,
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let chat = Chat {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let code = match cli.command {
        Command::Scan(args) => run_scan(args, chat),
        Command::Rules(args) => commands::rules(&args),
        Command::Controls(args) => commands::controls(&args),
        Command::Test(args) => commands::test(&args),
        Command::Baseline(args) => run_baseline(args, chat),
        Command::Init(args) => run_init(args),
        Command::Soa(args) => run_soa(args, chat),
        Command::Completions { shell } => manual::completions(shell),
        Command::Manpage { dir } => manual::manpage(dir.as_deref()),
        Command::Schema { which } => {
            match which {
                cli::SchemaKind::Rule => print!("{}", isms_lint::schema::rule_schema()),
                cli::SchemaKind::Config => print!("{}", isms_lint::schema::config_schema()),
            }
            0
        }
        Command::Evidence(args) => run_evidence(args, chat),
    };
    ExitCode::from(code)
}

/// Runs the pipeline with the delayed progress spinner on a terminal.
fn run_pipeline(
    opts: &pipeline::RunOptions,
    chat: Chat,
) -> Result<pipeline::Run, pipeline::RunError> {
    let term = std::env::var("TERM").ok();
    let show = progress::wanted(chat.quiet, std::io::stderr().is_terminal(), term.as_deref());
    // `--jobs` bounds every parallel step (compiling rules, sorting findings, writing the JSON
    // report), not only the scan's own pool. Only the first call can set it; a scan runs once.
    if let Some(n) = opts.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let progress = progress::Progress::start(show, "isms-lint: scanning…");
    let run = pipeline::run(opts);
    progress.finish();
    if chat.verbose
        && let Ok(run) = &run
    {
        verbose(run);
    }
    run
}

/// `--verbose`: the config used, the rules and files.
fn verbose(run: &pipeline::Run) {
    match &run.config.path {
        Some(p) => eprintln!("isms-lint: config: {}", isms_lint::paths::display(p)),
        None => eprintln!(
            "isms-lint: config: none (no {} in the scan root or its parents up to the repository root)",
            config::FILE_NAMES[0]
        ),
    }
    let documents: usize = run.result.documents_by_kind.values().sum();
    eprintln!(
        "isms-lint: {} rule(s) ran on {} file(s) ({} document(s)); {} finding(s) before baseline and --new-since",
        run.rules.rules.len(),
        run.result.files_scanned,
        documents,
        run.result.findings.len() + run.known.len()
    );
}

/// The config file's display path, if one was used.
fn config_shown(run: &pipeline::Run) -> Option<String> {
    run.config.path.as_deref().map(isms_lint::paths::display)
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

fn run_scan(args: cli::ScanArgs, chat: Chat) -> u8 {
    let mut opts = args.inputs.run_options();
    opts.baseline = args.baseline.clone();
    opts.new_since = args.new_since.clone();
    opts.report_unused_suppressions = args.report_unused_suppressions;
    opts.profile_rules = args.timings;
    let run = match run_pipeline(&opts, chat) {
        Ok(r) => r,
        Err(e) => return report_run_error(&e),
    };
    let writes_sarif = args.format == report::Format::Sarif
        || args
            .also
            .iter()
            .chain(&args.also_all)
            .any(|(f, _)| *f == report::Format::Sarif);
    let source_root = writes_sarif.then(|| git::report_root(&opts.paths));
    let config_path = config_shown(&run);
    let filtered = opts.baseline.is_some() || opts.new_since.is_some();
    let (all, known) = if filtered {
        let (all, known) = run.with_known();
        (Some(all), known)
    } else {
        (None, Default::default())
    };
    let input = ReportInput {
        scan: &run.result,
        rules: &run.rules,
        config_errors: &run.errors,
        show_suppressed: args.show_suppressed,
        fail_on: fail_on(args.fail_on),
        source_root: source_root.as_deref(),
        known: filtered.then_some(&known),
        config: config_path.as_deref(),
        quiet: chat.quiet,
    };
    let color = color::enabled(
        args.color,
        std::io::stdout().is_terminal(),
        args.output.is_some(),
    );
    let stderr_color = color::enabled(args.color, std::io::stderr().is_terminal(), false);
    if !matches!(args.format, report::Format::Text | report::Format::Concise) {
        for e in &run.errors {
            eprint!("{}", e.render(stderr_color));
        }
    }
    let report_started = std::time::Instant::now();
    if let Err(code) = write_output(args.output.as_deref(), |out| {
        report::write(args.format, &input, color, out)
    }) {
        return code;
    }
    for (format, path) in &args.also {
        if let Err(code) =
            write_output(Some(path), |out| report::write(*format, &input, false, out))
        {
            return code;
        }
    }
    if !args.also_all.is_empty() {
        let every = ReportInput {
            scan: all.as_ref().unwrap_or(&run.result),
            ..input
        };
        for (format, path) in &args.also_all {
            if let Err(code) =
                write_output(Some(path), |out| report::write(*format, &every, false, out))
            {
                return code;
            }
        }
    }
    if let Some(path) = &args.write_baseline
        && let Err(e) = baseline::write(path, &run.result.findings)
    {
        eprintln!("error: {e}");
        return 2;
    }
    if !chat.quiet && (run.baseline_known > 0 || run.preexisting > 0) {
        eprintln!(
            "isms-lint: {} finding(s) already in the baseline, {} already present at {} not reported",
            run.baseline_known,
            run.preexisting,
            run.base_commit.as_deref().unwrap_or("the merge-base")
        );
    }
    if args.timings {
        print_timings(
            &run.result,
            run.rules.max_cel_cost,
            report_started.elapsed(),
        );
    }
    let code = exit_code(&input);
    // The process ends here and its memory goes back to the system whole: the rules' compiled
    // programs and the findings are not freed one by one (5% of a pre-commit run's CPU).
    std::mem::forget(run);
    std::mem::forget(all);
    std::mem::forget(known);
    code
}

/// Prints why a run stopped before scanning; exit code 2.
fn report_run_error(e: &pipeline::RunError) -> u8 {
    match e {
        pipeline::RunError::Config(errors) => {
            let color = color::enabled(ColorChoice::Auto, std::io::stderr().is_terminal(), false);
            for d in errors {
                eprint!("{}", d.render(color));
            }
            let file = errors
                .first()
                .map(|d| d.path.as_str())
                .unwrap_or("the config");
            eprintln!(
                "error: {file} has {} error{}; nothing was scanned (fix it, or pass --no-config)",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
        }
        e => eprintln!("error: {e}"),
    }
    2
}

/// `--timings`: the phases, then the rules that took longest.
fn print_timings(
    result: &isms_lint::scan::ScanResult,
    max_cel_cost: u64,
    report: std::time::Duration,
) {
    let t = result.timings;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "timings: discover {:.1} ms, parse {:.1} ms (cpu), evaluate {:.1} ms (cpu), files {:.1} ms (wall), report {:.1} ms, {} files",
        ms(t.discover),
        ms(t.parse),
        ms(t.evaluate),
        ms(t.files_wall),
        ms(report),
        result.files_scanned
    );
    eprintln!(
        "rules: {} runs (rule x document), {} settled by their gate without running CEL",
        t.rule_runs, t.rule_runs_gated
    );
    for p in result.rule_profile.iter().take(10) {
        eprintln!(
            "  {:>9.1} ms  {:<48} {} runs, {} elements, CEL cost up to {} ({})",
            ms(p.time),
            p.rule_id,
            p.runs,
            p.elements,
            p.max_cost,
            p.max_cost_path
        );
    }
    if let Some(p) = result.rule_profile.iter().max_by(|a, b| {
        a.max_cost
            .cmp(&b.max_cost)
            .then_with(|| b.rule_id.cmp(&a.rule_id))
    }) {
        eprintln!(
            "highest CEL cost of one rule on one document: {} ({} on {}; --max-cel-cost {})",
            p.max_cost, p.rule_id, p.max_cost_path, max_cel_cost
        );
    }
}

fn run_baseline(args: cli::BaselineArgs, chat: Chat) -> u8 {
    let run = match run_pipeline(&args.inputs.run_options(), chat) {
        Ok(r) => r,
        Err(e) => return report_run_error(&e),
    };
    for e in &run.errors {
        eprint!("{}", e.render(false));
    }
    match baseline::write(&args.output, &run.result.findings) {
        Ok(()) => {
            let open = run.result.findings.iter().filter(|f| f.is_open()).count();
            if !chat.quiet {
                eprintln!(
                    "isms-lint: wrote {open} finding(s) to {}",
                    args.output.display()
                );
            }
            u8::from(!run.errors.is_empty()) * 2
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn run_or_report(opts: &pipeline::RunOptions, chat: Chat) -> Option<pipeline::Run> {
    match run_pipeline(opts, chat) {
        Ok(r) => {
            let color = color::enabled(ColorChoice::Auto, std::io::stderr().is_terminal(), false);
            for e in &r.errors {
                eprint!("{}", e.render(color));
            }
            Some(r)
        }
        Err(e) => {
            report_run_error(&e);
            None
        }
    }
}

fn run_soa(args: cli::SoaArgs, chat: Chat) -> u8 {
    let opts = args.inputs.run_options();
    // Git facts of the scanned tree first: roots in two repositories stop here, before a scan.
    let source = match git::evidence_source(&opts.paths, args.output.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let Some(run) = run_or_report(&opts, chat) else {
        return 2;
    };
    let statement = soa::build(&run, source.meta);
    let text = match args.format {
        cli::SoaFormat::Markdown => soa::markdown(&statement),
        cli::SoaFormat::Csv => soa::csv(&statement),
        cli::SoaFormat::Json => soa::json(&statement),
        cli::SoaFormat::Oscal => isms_lint::oscal::assessment_results(&statement),
        cli::SoaFormat::Html => report::html::render_run(&run, &statement, None, None),
    };
    if let Err(code) = write_output(args.output.as_deref(), |out| out.write_all(text.as_bytes())) {
        return code;
    }
    u8::from(!run.errors.is_empty()) * 2
}

fn run_evidence(args: cli::EvidenceArgs, chat: Chat) -> u8 {
    match args.action {
        Some(cli::EvidenceAction::Verify { dir, key }) => verify_bundle(&dir, key.as_deref()),
        Some(cli::EvidenceAction::Merge {
            bundles,
            out,
            mut expect,
            expect_file,
            key,
            format,
        }) => {
            if let Some(f) = &expect_file {
                match evidence::read_expect_file(f) {
                    Ok(list) => expect.extend(list),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                }
            }
            match evidence::merge_dirs(
                &bundles,
                &out,
                &expect,
                key.as_deref(),
                format == cli::MergeFormat::Html,
            ) {
                Ok(merged) => {
                    let failing = merged
                        .soa
                        .controls
                        .iter()
                        .filter(|r| r.status == soa::Status::Failing)
                        .count();
                    eprintln!(
                        "isms-lint: merged {} bundle(s) into {} ({failing} control(s) failing somewhere; manifest digest {})",
                        bundles.len(),
                        out.display(),
                        merged.manifest.manifest_digest
                    );
                    for r in &merged.unexpected {
                        eprintln!("isms-lint: note: {r} is merged but not in the expected list");
                    }
                    for r in &merged.manifest.missing {
                        println!("MISSING {r}: expected, but no bundle was given");
                    }
                    u8::from(!merged.manifest.missing.is_empty())
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Some(cli::EvidenceAction::Keygen {
            secret_key,
            public_key,
            no_password,
            force,
        }) => {
            let protection = if no_password {
                signing::Protection::None
            } else {
                match signing::password_from_env() {
                    Some(p) => signing::Protection::Password(p),
                    None => signing::Protection::Ask,
                }
            };
            match signing::keygen(&secret_key, &public_key, protection, force) {
                Ok(line) => {
                    eprintln!(
                        "isms-lint: wrote the secret key {} (keep it secret) and the public key {}",
                        secret_key.display(),
                        public_key.display()
                    );
                    println!("{line}");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        None => {
            let Some(out) = args.out else {
                eprintln!("error: evidence needs --out DIR (or `evidence verify DIR`, `evidence merge …`, `evidence keygen`)");
                return 2;
            };
            let started = evidence::start_time();
            let mut opts = args.inputs.run_options();
            // The bundle directory is never scanned (a second run would see the first bundle),
            // nor are earlier bundles.
            opts.own_output
                .push(globset::escape(&isms_lint::paths::display(&out)));
            if let Some(h) = &args.history {
                opts.own_output
                    .push(globset::escape(&isms_lint::paths::display(h)));
            }
            // Git facts of the scanned tree first: roots in two repositories stop here.
            let source = match git::evidence_source(&opts.paths, Some(&out)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let history = match &args.history {
                Some(dir) => {
                    match evidence::history::load(dir, &source.meta.repository, Some(&out)) {
                        Ok(h) => {
                            for r in &h.rejected {
                                eprintln!(
                                    "isms-lint: history: '{}' is not plotted: {}",
                                    r.name, r.why
                                );
                            }
                            Some(h)
                        }
                        Err(e) => {
                            eprintln!("error: {e}");
                            return 2;
                        }
                    }
                }
                None => None,
            };
            let Some(run) = run_or_report(&opts, chat) else {
                return 2;
            };
            let sign = args.sign.as_deref().map(|key| evidence::SignWith {
                key,
                password: signing::password_from_env(),
            });
            match evidence::write_bundle(&run, &source, &out, started, sign, history.as_ref()) {
                Ok(m) => {
                    eprintln!(
                        "isms-lint: evidence bundle written to {} (bundle digest {}{})",
                        out.display(),
                        m.bundle_digest,
                        if args.sign.is_some() { ", signed" } else { "" }
                    );
                    if !m.errors.is_empty() {
                        eprintln!(
                            "isms-lint: the bundle records {} error(s): it is incomplete evidence",
                            m.errors.len()
                        );
                        return 2;
                    }
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    }
}

/// `evidence verify DIR [--key PUB]`: one line per problem, naming the file; exit 0 only for
/// an intact bundle without recorded errors (and, with a key, signed by it).
fn verify_bundle(dir: &std::path::Path, key: Option<&str>) -> u8 {
    let v = match evidence::verify(dir, key) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for p in &v.problems {
        println!("TAMPERED {}: {}", p.file, p.what);
    }
    for e in &v.run_errors {
        println!(
            "ERROR {}: the run that wrote this bundle reported: {e}",
            evidence::MANIFEST
        );
    }
    match &v.signature {
        evidence::SignatureState::Valid(comment) => {
            println!(
                "signature: {} is signed by the key ({comment})",
                evidence::MANIFEST
            );
        }
        evidence::SignatureState::NotChecked => println!(
            "signature: {} is present but not checked (pass --key PUBLIC_KEY)",
            evidence::SIGNATURE
        ),
        evidence::SignatureState::Unsigned | evidence::SignatureState::Invalid => {}
    }
    if v.ok() {
        println!(
            "{}: intact: every file listed, every digest matches",
            dir.display()
        );
        0
    } else {
        1
    }
}

fn run_init(args: cli::InitArgs) -> u8 {
    if args.output.exists() && !args.force {
        eprintln!(
            "error: {} exists; use --force to overwrite it",
            args.output.display()
        );
        return 2;
    }
    match std::fs::write(&args.output, config::starter()) {
        Ok(()) => {
            eprintln!("isms-lint: wrote {}", args.output.display());
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.output.display());
            2
        }
    }
}

fn exit_code(input: &ReportInput<'_>) -> u8 {
    if input.has_errors() {
        2
    } else if input.fails() {
        1
    } else {
        0
    }
}

/// Writes a report to `path` (or stdout) through a buffer; a closed pipe is not an error.
fn write_output(
    path: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), u8> {
    let result = match path {
        Some(p) => std::fs::File::create(p).and_then(|f| {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, f);
            write(&mut out)?;
            out.flush()
        }),
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match write(&mut out).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        }
    };
    result.map_err(|e| {
        match path {
            Some(p) => eprintln!("error: cannot write '{}': {e}", p.display()),
            None => eprintln!("error: cannot write to stdout: {e}"),
        }
        2
    })
}
