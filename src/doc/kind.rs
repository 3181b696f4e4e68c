//! Document kinds, and how a file's path and content decide them.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::tree::Node;

/// What a document is, which decides the rules that judge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Kubernetes object (`apiVersion` + `kind`).
    Kubernetes,
    /// `.github/workflows/*.yml`.
    GithubWorkflow,
    /// `action.yml`: a GitHub Action's metadata.
    GithubAction,
    /// A Docker Compose file.
    Compose,
    /// An AWS CloudFormation template.
    Cloudformation,
    /// A Terraform module (one directory).
    Terraform,
    /// `terraform show -json` output.
    TerraformPlan,
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// The scanned repository as a whole.
    Repository,
    /// Any other YAML file, for user rules that select it by glob.
    Yaml,
    /// Any other JSON file, for user rules that select it by glob.
    Json,
    /// Any TOML file, for user rules that select it by glob.
    Toml,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 12] = [
        Kind::Kubernetes,
        Kind::GithubWorkflow,
        Kind::GithubAction,
        Kind::Compose,
        Kind::Cloudformation,
        Kind::Terraform,
        Kind::TerraformPlan,
        Kind::Dockerfile,
        Kind::Repository,
        Kind::Yaml,
        Kind::Json,
        Kind::Toml,
    ];

    /// The name used in rule files (`kinds: [kubernetes]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Kubernetes => "kubernetes",
            Kind::GithubWorkflow => "github-workflow",
            Kind::GithubAction => "github-action",
            Kind::Compose => "compose",
            Kind::Cloudformation => "cloudformation",
            Kind::Terraform => "terraform",
            Kind::TerraformPlan => "terraform-plan",
            Kind::Dockerfile => "dockerfile",
            Kind::Repository => "repository",
            Kind::Yaml => "yaml",
            Kind::Json => "json",
            Kind::Toml => "toml",
        }
    }

    /// Generic kinds are judged only by rules that name the files they want with `files:`.
    pub fn is_generic(self) -> bool {
        matches!(self, Kind::Yaml | Kind::Json | Kind::Toml)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown kind '{s}' (expected one of: {})",
                    Kind::ALL.map(Kind::as_str).join(", ")
                )
            })
    }
}

/// How a file is read, decided from its path alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML (one or more documents).
    Yaml,
    /// JSON.
    Json,
    /// TOML.
    Toml,
    /// Terraform HCL.
    Hcl,
    /// Dockerfile syntax.
    Dockerfile,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The format of a file, or `None` when isms-lint does not read it.
pub fn format_of(path: &Path) -> Option<Format> {
    let name = file_name(path);
    let lower = name.to_ascii_lowercase();
    // `Dockerfile.dev` is a Dockerfile; `dockerfile.rs` or `Dockerfile.md` is not.
    const NOT_DOCKERFILE: &[&str] = &[
        "rs", "go", "py", "js", "ts", "md", "txt", "yml", "yaml", "json", "sh", "toml", "rb",
        "java", "orig", "bak", "swp", "tmpl", "j2", "erb", "lock", "expect",
    ];
    let variant = name
        .strip_prefix("Dockerfile.")
        .or_else(|| name.strip_prefix("Containerfile."))
        .is_some_and(|ext| !NOT_DOCKERFILE.contains(&ext.to_ascii_lowercase().as_str()));
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
        || variant
    {
        return Some(Format::Dockerfile);
    }
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    {
        Some(e) if e == "yaml" || e == "yml" => Some(Format::Yaml),
        Some(e) if e == "json" => Some(Format::Json),
        Some(e) if e == "toml" => Some(Format::Toml),
        Some(e) if e == "tf" => Some(Format::Hcl),
        _ => None,
    }
}

/// Whether the path is a GitHub Actions workflow (`.github/workflows/*.y*ml`).
pub fn is_workflow_path(path: &Path) -> bool {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let n = comps.len();
    n >= 3 && comps[n - 3] == ".github" && comps[n - 2] == "workflows"
}

/// Whether the path is an action metadata file (`action.yml` / `action.yaml`).
pub fn is_action_path(path: &Path) -> bool {
    matches!(file_name(path).as_str(), "action.yml" | "action.yaml")
}

/// Whether the file name looks like a Compose file.
pub fn is_compose_path(path: &Path) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    name.contains("compose") && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// The kind of one parsed YAML/JSON document, from the path and its content.
pub fn detect(path: &Path, format: Format, root: &Node) -> Kind {
    if is_workflow_path(path) && root.get("jobs").is_some() {
        return Kind::GithubWorkflow;
    }
    if is_action_path(path) && root.get("runs").is_some() {
        return Kind::GithubAction;
    }
    if root.get("apiVersion").and_then(Node::as_str).is_some()
        && root.get("kind").and_then(Node::as_str).is_some()
    {
        return Kind::Kubernetes;
    }
    if is_compose_path(path) && root.get("services").and_then(Node::as_map).is_some() {
        return Kind::Compose;
    }
    if is_cloudformation(root) {
        return Kind::Cloudformation;
    }
    if format == Format::Json
        && root.get("format_version").is_some()
        && (root.get("planned_values").is_some() || root.get("resource_changes").is_some())
    {
        return Kind::TerraformPlan;
    }
    match format {
        Format::Json => Kind::Json,
        Format::Toml => Kind::Toml,
        _ => Kind::Yaml,
    }
}

fn is_cloudformation(root: &Node) -> bool {
    if root.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    root.get("Resources")
        .and_then(Node::as_map)
        .is_some_and(|resources| {
            !resources.is_empty()
                && resources.iter().all(|(_, e)| {
                    e.value
                        .get("Type")
                        .and_then(Node::as_str)
                        .is_some_and(|t| t.contains("::"))
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(
            format_of(Path::new("a/Dockerfile")),
            Some(Format::Dockerfile)
        );
        assert_eq!(
            format_of(Path::new("web.dockerfile")),
            Some(Format::Dockerfile)
        );
        assert_eq!(format_of(Path::new("x.YML")), Some(Format::Yaml));
        assert_eq!(format_of(Path::new("main.tf")), Some(Format::Hcl));
        assert_eq!(format_of(Path::new("README.md")), None);
    }

    #[test]
    fn workflow_paths() {
        assert!(is_workflow_path(Path::new(".github/workflows/ci.yml")));
        assert!(is_workflow_path(Path::new("x/.github/workflows/ci.yaml")));
        assert!(!is_workflow_path(Path::new("workflows/ci.yml")));
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("helm".parse::<Kind>().is_err());
    }
}
