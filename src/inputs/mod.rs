//! Inputs: every kind of configuration isms-lint reads, one module per family behind one trait.
//! The registry below lists them once; the document kinds, the kinds rules and configs may
//! name, the CEL helpers, the pre-commit `files:` pattern and the fuzz targets all come from it.
//!
//! An input either reads files of its own syntax (a Dockerfile, a Terraform module directory,
//! the repository), or recognises YAML/JSON documents that the YAML/JSON reader parsed (a
//! Kubernetes object, a workflow, a template). Parsers know nothing of rules.

pub mod arm;
pub mod cloudformation;
pub mod compose;
pub mod dockerfile;
pub mod github;
pub mod helm;
pub mod kubernetes;
pub mod kustomize;
pub mod repository;
pub mod terraform;
pub mod yaml11;
pub mod yaml_json;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::cel::args::{arg_map, arg_str, charge, list_of, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::{MapNode, Node, ParseError, ParseWarning};

/// One document a rule judges: a Kubernetes object, a workflow file, a Terraform module…
#[derive(Debug, Clone)]
pub struct Document {
    /// What it is.
    pub kind: Kind,
    /// Its content, with spans.
    pub root: Node,
    /// Logical name inside its file (`Deployment/prod/web`, `#2`), empty for whole-file documents.
    /// Part of finding fingerprints, so it must not depend on line numbers.
    pub name: String,
    /// Files the spans refer to (the file [`Document::positions`] gives for a span indexes this
    /// list); display paths.
    pub files: Vec<String>,
    /// Where its spans point: files, lines and columns of the offsets of its spans (shared by
    /// the documents of one file).
    pub positions: std::sync::Arc<crate::doc::Positions>,
    /// How the document was reached, innermost first: the module calls a Terraform module was
    /// evaluated through. Every finding in it carries these as related locations.
    pub via: Vec<crate::doc::Related>,
}

impl Document {
    /// The display path of the file `span` is in (documents of several files: a Terraform
    /// module, a rendered kustomization), or `None` when the document lists no files.
    pub fn file_of(&self, span: crate::doc::Span) -> Option<&str> {
        self.files
            .get(self.positions.file(span) as usize)
            .map(String::as_str)
    }
}

/// Declares the inputs and their kinds once: the [`Kind`] enum, its names, and the registry in
/// recognition order (the first input that recognises a YAML/JSON document gets it).
macro_rules! inputs {
    ($( $module:ident => [ $( $variant:ident = $name:literal ),+ ] ),+ $(,)?) => {
        /// What a document is, which decides the rules that judge it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $($(
                #[doc = concat!("`", $name, "` documents.")]
                $variant,
            )+)+
        }

        impl Kind {
            /// Every kind, in registry order.
            pub const ALL: &'static [Kind] = &[$($(Kind::$variant,)+)+];

            /// The name used in rule files (`kinds: [kubernetes]`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($(Kind::$variant => $name,)+)+
                }
            }

            /// The input that produces this kind.
            pub fn input(self) -> &'static dyn Input {
                match self {
                    $($(Kind::$variant => &$module::INPUT,)+)+
                }
            }
        }

        /// The inputs, in recognition order.
        pub fn registry() -> &'static [&'static dyn Input] {
            static REGISTRY: &[&dyn Input] = &[$(&$module::INPUT,)+];
            REGISTRY
        }
    };
}

inputs! {
    github => [GithubWorkflow = "github-workflow", GithubAction = "github-action"],
    kubernetes => [Kubernetes = "kubernetes"],
    compose => [Compose = "compose"],
    cloudformation => [Cloudformation = "cloudformation"],
    arm => [Arm = "arm"],
    terraform => [Terraform = "terraform", TerraformPlan = "terraform-plan"],
    dockerfile => [Dockerfile = "dockerfile"],
    repository => [Repository = "repository"],
    helm => [HelmChart = "helm-chart"],
    yaml_json => [Yaml = "yaml", Json = "json"],
}

impl Kind {
    /// Generic kinds are judged only by rules that name the files they want with `files:`.
    pub fn is_generic(self) -> bool {
        self.input().generic()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind '{s}' (expected one of: {})", names.join(", "))
            })
    }
}

impl schemars::JsonSchema for Kind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Kind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        schemars::json_schema!({
            "description": "A document kind (see docs/documents.md).",
            "type": "string",
            "enum": names,
        })
    }
}

/// How much of the file system one unit of work is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// One file.
    File,
    /// A directory read as a whole (a Terraform module); every claimed file in it belongs to it.
    Directory(PathBuf),
}

/// One file of a unit that was read: its display path and text, and whether its comments may
/// hold inline suppressions.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Display path.
    pub path: String,
    /// Content, for the inline suppressions read from its comments; may be left empty when
    /// `comments` is false (a JSON file's is: nothing else reads it).
    pub text: String,
    /// Whether `# isms-lint: ignore[…]` comments are read in it (not in JSON, which has none).
    pub comments: bool,
}

/// What reading a unit gave: documents, reader warnings, the files whose syntax was broken (the
/// others still count), and the texts read (for inline suppressions).
#[derive(Debug, Default)]
pub struct Read {
    /// Documents, in file order.
    pub documents: Vec<Document>,
    /// Suspicious but readable things (a repeated key).
    pub warnings: Vec<ParseWarning>,
    /// Files that could not be read as their syntax, each at the position the parser gave.
    pub errors: Vec<ParseError>,
    /// Parts the input could not evaluate, each at the place that asks for it (a Terraform
    /// module call whose module is not downloaded, a Helm chart's templates, said once per
    /// chart): reported as `info` findings, never silence.
    pub not_evaluated: Vec<NotEvaluated>,
    /// The texts read.
    pub sources: Vec<SourceFile>,
}

/// A part of a unit that could not be evaluated, at the place that asks for it; reported as
/// one `not-evaluated` finding (info, unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEvaluated {
    /// Display path of the file.
    pub path: String,
    /// Where it starts (the header of a module call; line 1 of a chart's `Chart.yaml`).
    pub start: crate::doc::Pos,
    /// Just past where it ends.
    pub end: crate::doc::Pos,
    /// What it is, stable across line moves (`module.app.module.vpc`): the finding's logical path.
    pub what: String,
    /// Why it was not evaluated.
    pub message: String,
    /// The calls it was met through, innermost first (a module call inside a called module),
    /// reported as related locations like any finding of the called module.
    pub via: Vec<crate::doc::Related>,
}

/// The source of a unit: one file's text, or a directory (the input reads its own files).
pub enum Source<'a> {
    /// A file and its text.
    File {
        /// Path on disk.
        path: &'a Path,
        /// Display path.
        display: &'a str,
        /// Content.
        text: &'a str,
    },
    /// A directory.
    Directory {
        /// Path on disk.
        path: &'a Path,
        /// How a path is shown.
        display: &'a dyn Fn(&Path) -> String,
        /// Globs the user excluded (inputs that walk a directory honour them).
        excludes: &'a globset::GlobSet,
    },
}

/// The two syntaxes the YAML/JSON reader handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeFormat {
    /// YAML (one or more documents).
    Yaml,
    /// JSON.
    Json,
}

/// What the YAML/JSON reader knows of a stream beyond its trees.
#[derive(Default)]
pub struct TreeInfo {
    /// Where unquoted YAML 1.1 boolean words (`yes`, `off`…) were written.
    pub yaml11_plain: std::collections::HashSet<u32>,
    /// The file, on disk.
    pub path: PathBuf,
    /// Its display path.
    pub display: String,
    /// What an input adds while making the documents of the file.
    pub added: std::cell::RefCell<Added>,
}

/// What an input adds to the documents of a YAML/JSON file: other files their spans point into
/// (file `i ≥ 1` of `positions` is `files[i - 1]`; a plan's resources shown at their `.tf`
/// blocks) and parts it could not evaluate.
#[derive(Debug, Default)]
pub struct Added {
    /// Display paths of the other files.
    pub files: Vec<String>,
    /// The position table of the file's documents: the file itself (file 0), then the other
    /// files, which an input adds with [`crate::doc::PositionsBuilder::import`].
    pub positions: crate::doc::PositionsBuilder,
    /// Parts not evaluated (an unknown plan format).
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Whether a directory of this name is managed by a tool and skipped by discovery.
pub fn is_managed_dir(name: &std::ffi::OsStr) -> bool {
    registry()
        .iter()
        .any(|i| i.managed_dirs().iter().any(|d| name == *d))
}

/// Resources of a document with their types, as `resources(doc, type)` lists them.
pub type Resources<'a> = Box<dyn Iterator<Item = (Option<&'a str>, &'a Node)> + 'a>;

/// One family of inputs. Every method has a default, so an input implements what it has.
pub trait Input: Sync {
    /// The family's name, as docs list it.
    fn name(&self) -> &'static str;

    /// The kinds of documents it produces.
    fn kinds(&self) -> &'static [Kind];

    /// Shell-style patterns of the file names it reads, for docs and pre-commit's `files:`
    /// (matched against the file name, case-insensitively, unless they contain `/`).
    fn patterns(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether it reads `path` itself, and as what unit (inputs that only recognise YAML/JSON
    /// documents claim nothing: the YAML/JSON reader does).
    fn claim(&self, _path: &Path) -> Option<Unit> {
        None
    }

    /// Names of directories its tool manages that are not scanned on their own (Terraform's
    /// `.terraform`: downloaded modules are read through the calls that use them).
    fn managed_dirs(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether it reads the directory `dir` (a scan root) as a whole, beside its files.
    fn claims_root(&self, _dir: &Path) -> bool {
        false
    }

    /// Reads a unit it claimed.
    fn read(&self, _source: &Source<'_>) -> Read {
        Read::default()
    }

    /// Whether a YAML/JSON document of the file `path` is one of its kinds.
    fn recognize(&self, _path: &Path, _format: TreeFormat, _root: &Node) -> Option<Kind> {
        None
    }

    /// Whether the text of a YAML/JSON file that does not parse looks like one of its kinds
    /// (a `kind:` and an `apiVersion:` line, a workflow's path…): its parse error is then
    /// `high`, as for any file of a detected kind, else `low`.
    fn sniff(&self, _path: &Path, _text: &str) -> bool {
        false
    }

    /// The documents a recognised YAML/JSON document stands for, each with its logical name:
    /// named, split (a Kubernetes `List`), normalised. `name` is the name it would otherwise get.
    fn documents(
        &self,
        _kind: Kind,
        root: Node,
        name: String,
        _tree: &TreeInfo,
    ) -> Vec<(String, Node)> {
        vec![(name, root)]
    }

    /// Why a document of the file at `path` (on disk) is *partial* — a patch that sets only
    /// some values of an object defined elsewhere, such as a kustomize strategic-merge patch —
    /// or `None` for a whole document. A partial document is judged only on the values it sets:
    /// a finding whose rule points (`at`) at a value the document does not set is not reported.
    fn partial(&self, _path: &Path, _root: &Node) -> Option<String> {
        None
    }

    /// The CEL helpers it adds.
    fn helpers(&self) -> &'static [Helper] {
        &[]
    }

    /// Its documents' resources, for `resources(doc, type)` and gates; `None` when `doc` is not
    /// one of its documents.
    fn resources<'a>(&self, _doc: &'a MapNode) -> Option<Resources<'a>> {
        None
    }

    /// The fence language of its files in generated docs.
    fn fence(&self, _path: &Path) -> &'static str {
        "text"
    }

    /// Whether its kinds are generic (judged only by rules that name files).
    fn generic(&self) -> bool {
        false
    }

    /// Whether its documents are also the `repo` variable of the rules that judge them (the
    /// repository's facts).
    fn repo_facts(&self) -> bool {
        false
    }
}

/// The input that reads `path` itself, and the unit it reads it in.
pub fn claim(path: &Path) -> Option<(&'static dyn Input, Unit)> {
    registry()
        .iter()
        .find_map(|i| i.claim(path).map(|u| (*i, u)))
}

/// The input that reads a scan root as a whole, if any.
pub fn root_claims(dir: &Path) -> Vec<&'static dyn Input> {
    registry()
        .iter()
        .copied()
        .filter(|i| i.claims_root(dir))
        .collect()
}

/// Reads a file's text with the input that claims it as a single file (nothing for files no
/// input claims, or claims as part of a directory). Tests and fuzzing read files this way.
pub fn read_text(path: &Path, display: &str, text: &str) -> Read {
    match claim(path) {
        Some((input, Unit::File)) => input.read(&Source::File {
            path,
            display,
            text,
        }),
        _ => Read::default(),
    }
}

/// Whether `--kind KIND` (and the config's `kinds:`) may give a file this kind: every kind
/// read from a file of its own (not the repository, nor a Helm chart, which are directories).
pub fn forcible(kind: Kind) -> bool {
    !matches!(kind, Kind::Repository | Kind::HelmChart)
}

/// The kinds [`forcible`] accepts, for messages.
pub fn forcible_names() -> Vec<&'static str> {
    Kind::ALL
        .iter()
        .copied()
        .filter(|k| forcible(*k))
        .map(Kind::as_str)
        .collect()
}

/// Reads a file's text as `kind` whatever its name (`--kind`, the config's `kinds:`): a
/// Dockerfile, a one-file Terraform module, or YAML/JSON whose documents all get the kind.
pub fn read_as(kind: Kind, path: &Path, display: &str, text: &str) -> Read {
    match kind {
        Kind::Dockerfile => dockerfile::INPUT.read(&Source::File {
            path,
            display,
            text,
        }),
        Kind::Terraform => terraform::read_text(display, text),
        _ => yaml_json::read_as(path, display, text, Some(kind)),
    }
}

/// Every resource of a document with its type, from the input that knows the document's shape.
pub fn resource_nodes(doc: &MapNode) -> Resources<'_> {
    registry()
        .iter()
        .find_map(|i| i.resources(doc))
        .unwrap_or_else(|| Box::new(std::iter::empty()))
}

/// Whether some line of `text` starts with `key` followed by `:` (YAML), or the text holds
/// `"key"` (JSON): a cheap look at a file that does not parse.
pub(crate) fn has_top_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    }) || text.contains(&format!("\"{key}\""))
}

/// The file name of a path, or "".
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Helpers that span input kinds.
pub const SHARED_HELPERS: &[Helper] = &[Helper {
    name: "resources",
    signature: "resources(doc, type) -> list<map>",
    doc: "Resources of a type ('*' for all): CloudFormation `Resources` whose `Type` equals it, Terraform `resource.<type>.*` (modules and plans), or ARM template `resources` (nested ones included) whose `type` equals it, case-insensitively.",
    arity: 2,
    function: resources,
    gate: HelperGate::ResourceType,
}];

fn resources<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "resources")?;
    let wanted = arg_str(&args, 1, "resources")?;
    let mut walked = 0;
    let found = doc
        .into_iter()
        .flat_map(resource_nodes)
        .inspect(|_| walked += 1)
        .filter(|(t, _)| wanted == "*" || t.is_some_and(|t| type_matches(t, wanted)))
        .map(|(_, r)| r.clone())
        .collect();
    charge(walked)?;
    list_of(found)
}

/// Whether a resource's type is `wanted` (ARM types are case-insensitive).
pub fn type_matches(t: &str, wanted: &str) -> bool {
    t == wanted || (t.contains('/') && t.eq_ignore_ascii_case(wanted))
}

/// Every helper: the generic ones, the shared ones, then each input's, in registry order.
pub fn all_helpers() -> impl Iterator<Item = &'static Helper> {
    crate::cel::helpers::GENERIC
        .iter()
        .chain(crate::cel::secrets::HELPERS)
        .chain(SHARED_HELPERS)
        .chain(registry().iter().flat_map(|i| i.helpers().iter()))
}

/// The helper called `name`.
pub fn helper(name: &str) -> Option<&'static Helper> {
    all_helpers().find(|h| h.name == name)
}

/// The regular expression pre-commit's `files:` needs to pass every file some input reads.
pub fn precommit_files_pattern() -> String {
    let mut alternatives: Vec<String> = Vec::new();
    for input in registry() {
        for p in input.patterns() {
            let re = glob_to_regex(p);
            if !alternatives.contains(&re) {
                alternatives.push(re);
            }
        }
    }
    format!("(?i)(^|/)({})$", alternatives.join("|"))
}

/// A file-name glob (`*.tf`, `Dockerfile*`) as a regular expression on the name.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::new();
    for c in glob.chars() {
        match c {
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '.' | '(' | ')' | '+' | '|' | '^' | '$' | '[' | ']' | '{' | '}' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_belong_to_their_input() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
            assert!(k.input().kinds().contains(k), "{k}");
        }
        assert!("helm".parse::<Kind>().is_err());
        assert!("toml".parse::<Kind>().is_err());
    }

    #[test]
    fn helper_names_are_unique() {
        let mut names: Vec<&str> = all_helpers().map(|h| h.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn the_precommit_pattern_matches_what_inputs_claim() {
        let re = regex::Regex::new(&precommit_files_pattern()).unwrap();
        for p in [
            "main.tf",
            "MAIN.TF",
            "k8s/deploy.yaml",
            "a.yml",
            "x.json",
            "Dockerfile",
            "Dockerfile.prod",
            "Dockerfile-prod",
            "web.dockerfile",
            "Containerfile",
            "terraform.tfvars",
        ] {
            assert!(re.is_match(p), "{p}");
        }
        for p in ["README.md", "main.rs", "x.toml"] {
            assert!(!re.is_match(p), "{p}");
        }
    }
}
