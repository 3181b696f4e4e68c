//! The command line's arguments (part of the binary: the library knows nothing of them).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use isms_lint::report::Format;

/// Evidence ISO/IEC 27001:2022 Annex A controls from configuration files.
#[derive(Parser, Debug)]
#[command(name = "isms-lint", version = env!("ISMS_LINT_LONG_VERSION"), about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print only findings and errors: no summary, no progress, no notes on stderr.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr: the config file used, the rules loaded, the files scanned.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files and directories (default: `.`) and report findings.
    Scan(ScanArgs),
    /// List the rules, or show one with its rationale and examples.
    Rules(RulesArgs),
    /// List the 93 Annex A controls by theme, with the rules that evidence each.
    Controls(ControlsArgs),
    /// Run rule fixtures (built-in rules, or the rules in RULES_DIR…) and report Missing/Noisy/Wrong-line cases.
    Test(TestArgs),
    /// Record today's findings as a baseline (`scan --baseline FILE` then reports only new ones).
    Baseline(BaselineArgs),
    /// Write a starter `.isms-lint.yaml` listing all 93 controls for applicability decisions.
    Init(InitArgs),
    /// Statement of Applicability: all 93 controls with decisions, evidencing rules and status.
    Soa(SoaArgs),
    /// Print the JSON Schema of rule files or of `.isms-lint.yaml`.
    Schema {
        /// `rule` or `config`.
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Write the evidence bundle (SARIF, SoA, manifest with digests); `verify` or `merge` bundles.
    Evidence(EvidenceArgs),
    /// Print a shell completion script, e.g. `isms-lint completions bash > /etc/bash_completion.d/isms-lint`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `isms-lint manpage > isms-lint.1`; `--dir DIR` writes one
    /// page per command.
    Manpage {
        /// Write isms-lint.1 and isms-lint-COMMAND.1 into DIR instead of printing isms-lint.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Which schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Rule files.
    Rule,
    /// `.isms-lint.yaml`.
    Config,
}

/// Formats of the `rules` and `controls` listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for the terminal.
    Text,
    /// The generated documentation (docs/rules.md, docs/controls.md).
    Markdown,
    /// JSON for tools.
    Json,
}

/// SoA output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SoaFormat {
    /// For people: summary by theme, then one table per theme.
    Markdown,
    /// For spreadsheets: one row per control (columns in docs/soa.md).
    Csv,
    /// For tools (schema isms-lint/soa/v1).
    Json,
    /// OSCAL 1.1.2 assessment results (JSON).
    Oscal,
    /// One self-contained HTML page for people: overview grid, filters, each control with its
    /// rules and findings (docs/soa.md).
    Html,
}

/// What `evidence merge` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MergeFormat {
    /// soa.md, soa.csv, soa.json.
    Data,
    /// The same plus soa.html (repositories × controls heatmap) and each repository's page.
    Html,
}

/// `soa` arguments.
#[derive(Args, Debug)]
pub struct SoaArgs {
    /// What to scan.
    #[command(flatten)]
    pub inputs: ScanInputs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "markdown")]
    pub format: SoaFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `evidence` arguments.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvidenceArgs {
    /// `verify DIR` or `merge BUNDLE… --out DIR`.
    #[command(subcommand)]
    pub action: Option<EvidenceAction>,
    /// What to scan.
    #[command(flatten)]
    pub inputs: ScanInputs,
    /// The bundle directory to write.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Sign the manifest with this minisign secret key (`evidence keygen` makes one); the
    /// password, if the key has one, comes from ISMS_LINT_KEY_PASSWORD or the terminal.
    #[arg(long, value_name = "SECRET_KEY")]
    pub sign: Option<PathBuf>,
    /// A folder of earlier bundles (one per subfolder, as a nightly job keeps them): each is
    /// verified, then plotted in soa.html's trends; one that fails verification is listed, not
    /// plotted.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

/// `evidence` sub-actions.
#[derive(Subcommand, Debug)]
pub enum EvidenceAction {
    /// Check a bundle: every file listed with its digest, no other file, the manifest's own
    /// digest, and with --key its signature.
    Verify {
        /// The bundle directory.
        dir: PathBuf,
        /// Public key (minisign `.pub` file, or the `RW…` key itself): the bundle must be
        /// signed by it.
        #[arg(long, value_name = "PUBLIC_KEY")]
        key: Option<String>,
    },
    /// Merge bundles from many repositories into one organisation SoA (with its own manifest).
    Merge {
        /// Bundle directories.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        /// Where to write the organisation SoA.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The repositories that must be there (`owner/a,owner/b`); missing ones are reported
        /// and make the exit code 1.
        #[arg(long, value_delimiter = ',', value_name = "REPOSITORY")]
        expect: Vec<String>,
        /// A file listing the expected repositories, one a line (`#` comments).
        #[arg(long, value_name = "FILE")]
        expect_file: Option<PathBuf>,
        /// Every bundle must be signed by this public key.
        #[arg(long, value_name = "PUBLIC_KEY")]
        key: Option<String>,
        /// `html` adds soa.html (repositories × controls) and each repository's page.
        #[arg(long, short = 'f', value_enum, default_value = "data")]
        format: MergeFormat,
    },
    /// Create a minisign key pair for `evidence --sign` and `verify --key`.
    Keygen {
        /// Where to write the secret key.
        #[arg(long, value_name = "FILE", default_value = "isms-lint.key")]
        secret_key: PathBuf,
        /// Where to write the public key.
        #[arg(long, value_name = "FILE", default_value = "isms-lint.pub")]
        public_key: PathBuf,
        /// Do not encrypt the secret key (for a key kept in a CI secret store). Otherwise the
        /// password comes from ISMS_LINT_KEY_PASSWORD or the terminal.
        #[arg(long)]
        no_password: bool,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
    },
}

/// Options shared by every command that scans.
#[derive(Args, Debug, Clone, Default)]
pub struct ScanInputs {
    /// Files or directories to scan (default: `.`); `-` reads standard input (YAML/JSON
    /// unless --kind or --stdin-filename says otherwise).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read every file named or found, and standard input, as this kind whatever its name
    /// (e.g. `--kind kubernetes` for `helm template` output; kinds: docs/documents.md).
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<isms_lint::inputs::Kind>,
    /// The path findings on standard input are shown at (default `<stdin>`); its name also
    /// chooses the syntax when --kind is not given (`Dockerfile`, `main.tf`, `x.json`).
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<String>,
    /// Also read files that `.gitignore`, `.ignore` and `.git/info/exclude` leave out.
    #[arg(long)]
    pub no_ignore: bool,
    /// Build each kustomization found with `kustomize build` (or `kubectl kustomize`) and judge
    /// the rendered objects, reported at their source files (docs/documents.md).
    #[arg(long)]
    pub render_kustomize: bool,
    /// Rules to load.
    #[command(flatten)]
    pub selection: RuleSelection,
    /// Config file (default: `.isms-lint.yaml` found upwards from the first path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Leave out paths matching this glob (repeatable; relative to the scan root).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Largest file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = isms_lint::discover::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// CEL cost budget of one rule on one document (comprehension iterations, calls, string
    /// and list lengths; docs/rule-format.md): past it the rule stops there with a rule error
    /// and the scan goes on [default: the config's `max-cel-cost`, else 20000000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_cel_cost: Option<u64>,
    /// Worker threads (default: all cores). Output is identical for any value.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Also run the rules of these profiles (comma-separated: `strict`, `org`, `all`); replaces
    /// the config's `profiles:`. `default` rules always run (docs/rules.md lists each rule's).
    #[arg(long, value_delimiter = ',', value_name = "PROFILE")]
    pub profile: Vec<String>,
}

/// Parses `--kind`: a kind a file can have (docs/documents.md).
fn parse_kind(s: &str) -> Result<isms_lint::inputs::Kind, String> {
    let names = isms_lint::inputs::forcible_names();
    match s.parse::<isms_lint::inputs::Kind>() {
        Ok(k) if isms_lint::inputs::forcible(k) => Ok(k),
        _ => {
            let hint = isms_lint::suggest::hint(s, names.iter().copied());
            Err(format!(
                "unknown kind '{s}'; expected one of: {}{hint}",
                names.join(", ")
            ))
        }
    }
}

impl ScanInputs {
    /// The pipeline options these inputs stand for; `-` among the paths reads standard input
    /// here, once.
    pub fn run_options(&self) -> isms_lint::pipeline::RunOptions {
        let dash = std::path::Path::new("-");
        let stdin = self.paths.iter().any(|p| p == dash).then(|| {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                eprintln!("isms-lint: cannot read standard input: {e}");
            }
            isms_lint::scan::StdinText {
                text,
                display: self
                    .stdin_filename
                    .clone()
                    .unwrap_or_else(|| "<stdin>".to_string()),
            }
        });
        isms_lint::pipeline::RunOptions {
            paths: self.paths.iter().filter(|p| *p != dash).cloned().collect(),
            no_ignore: self.no_ignore,
            render_kustomize: self.render_kustomize,
            kind: self.kind,
            stdin,
            selection: self.selection.sources(),
            config: self.config.clone(),
            no_config: self.no_config,
            excludes: self.exclude.clone(),
            max_file_size: self.max_file_size,
            max_cel_cost: self.max_cel_cost,
            cel_engine: isms_lint::rules::Engine::from_env().unwrap_or_else(|e| {
                eprintln!("isms-lint: {e}");
                std::process::exit(2)
            }),
            jobs: self.jobs,
            profiles: (!self.profile.is_empty()).then(|| self.profile.clone()),
            ..Default::default()
        }
    }
}

/// `baseline` arguments.
#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// What to scan.
    #[command(flatten)]
    pub inputs: ScanInputs,
    /// Where to write the baseline.
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = ".isms-lint-baseline.json"
    )]
    pub output: PathBuf,
}

/// `init` arguments.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = ".isms-lint.yaml"
    )]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// When to colour the terminal output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The `--fail-on` threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on critical findings.
    Critical,
    /// Fail on high or critical.
    High,
    /// Fail on medium and above.
    Medium,
    /// Fail on low and above.
    Low,
    /// Fail on any finding.
    Info,
    /// Never fail on findings (errors still exit 2).
    None,
}

/// Which rules to load.
#[derive(Args, Debug, Clone, Default)]
pub struct RuleSelection {
    /// Add the rules in this directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rules.
    #[arg(long)]
    pub no_default_rules: bool,
    /// Only these rule ids or Annex A control ids (comma-separated, e.g. `8.9,k8s-host-pid`).
    #[arg(long, value_delimiter = ',', value_name = "RULE_OR_CONTROL")]
    pub only: Vec<String>,
    /// Skip these rule ids or Annex A control ids (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE_OR_CONTROL")]
    pub skip: Vec<String>,
}

impl RuleSelection {
    /// The library's description of the same choice.
    pub fn sources(&self) -> isms_lint::rules::RuleSources {
        isms_lint::rules::RuleSources {
            rules: self.rules.clone(),
            no_default_rules: self.no_default_rules,
            only: self.only.clone(),
            skip: self.skip.clone(),
        }
    }
}

/// `scan` arguments.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// What to scan.
    #[command(flatten)]
    pub inputs: ScanInputs,
    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_parser = report_format())]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the same results in another format, e.g. `--also sarif=results.sarif
    /// --also markdown=summary.md` (repeatable): one scan, several reports.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also)]
    pub also: Vec<(Format, PathBuf)>,
    /// Like `--also`, but with every finding, including those `--baseline` or `--new-since`
    /// leave out of the other reports (SARIF marks them `baselineState: unchanged`), e.g. a full
    /// SARIF upload for code scanning on a pull request whose annotations show only new findings.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also)]
    pub also_all: Vec<(Format, PathBuf)>,
    /// Exit 1 when an open finding is at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Report only findings whose fingerprint is not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Also write the baseline of this scan's open findings to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings that are absent at the merge-base of GIT_REF and HEAD.
    #[arg(long, value_name = "GIT_REF")]
    pub new_since: Option<String>,
    /// Report suppressions and waivers that match no finding as findings.
    #[arg(long)]
    pub report_unused_suppressions: bool,
    /// List suppressed and waived findings too (they are always counted).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Print how long each phase took, on stderr.
    #[arg(long)]
    pub timings: bool,
    /// Colour the text report.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Parses a report format name, offering the library's names for completion and help.
fn report_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Format::ALL.map(|(_, n)| n))
        .map(|s| s.parse::<Format>().expect("a listed format"))
}

fn parse_also(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, got '{s}'"))?;
    let format: Format = format.parse()?;
    if file.is_empty() {
        return Err("the file name is empty".into());
    }
    Ok((format, PathBuf::from(file)))
}

/// `rules` arguments.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// `show ID` prints one rule in full.
    #[command(subcommand)]
    pub action: Option<RulesAction>,
    /// Rules to load.
    #[command(flatten)]
    pub selection: RuleSelection,
    /// List the helper functions isms-lint adds to CEL.
    #[arg(long)]
    pub helpers: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text", global = true)]
    pub format: ListFormat,
}

/// `rules` sub-actions.
#[derive(Subcommand, Debug)]
pub enum RulesAction {
    /// Show one rule: controls with rationale, what it checks, examples, remediation.
    Show {
        /// Rule id.
        id: String,
    },
}

/// `controls` arguments.
#[derive(Args, Debug)]
pub struct ControlsArgs {
    /// Rules to load.
    #[command(flatten)]
    pub selection: RuleSelection,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// `test` arguments.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// Rule directories to test (default: the built-in rules).
    #[arg(value_name = "RULES_DIR")]
    pub dirs: Vec<PathBuf>,
    /// Fixtures directory (default: `fixtures/` for built-in rules, `<dir>/fixtures` or `<dir>/../fixtures` for user rules).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Only these rule ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}
