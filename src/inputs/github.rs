//! GitHub Actions: workflows (`.github/workflows/*.y*ml` with `jobs`) and action metadata
//! (`action.y*ml` with `runs`); helpers for jobs, steps and `uses:` references.

use std::path::Path;

use super::{file_name, Input, Kind, TreeFormat};
use crate::cel::args::{arg_map, arg_str, list_of, map_of, map_values, s, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::image::split_image;
use crate::doc::{Node, Span, Value};
use cel::common::types::CelBool;

/// GitHub workflows and actions.
pub struct Github;

/// The one instance the registry lists.
pub static INPUT: Github = Github;

const HELPERS: &[Helper] = &[
    Helper { name: "jobs", signature: "jobs(doc) -> list<map>", doc: "The jobs of a GitHub workflow.", arity: 1, function: jobs, gate: HelperGate::None },
    Helper { name: "steps", signature: "steps(doc) -> list<map>", doc: "Every step of every job of a GitHub workflow, or of a composite action.", arity: 1, function: steps, gate: HelperGate::None },
    Helper { name: "actionRef", signature: "actionRef(uses) -> map", doc: "Splits a workflow `uses:` value into `kind` (local, docker, remote), `owner`, `repo`, `path`, `ref` and `pinned` (ref is a full commit SHA).", arity: 1, function: action_ref, gate: HelperGate::None },
];

impl Input for Github {
    fn name(&self) -> &'static str {
        "github"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::GithubWorkflow, Kind::GithubAction]
    }

    fn recognize(&self, path: &Path, _format: TreeFormat, root: &Node) -> Option<Kind> {
        if is_workflow_path(path) && root.get("jobs").is_some() {
            return Some(Kind::GithubWorkflow);
        }
        if matches!(file_name(path).as_str(), "action.yml" | "action.yaml")
            && root.get("runs").is_some()
        {
            return Some(Kind::GithubAction);
        }
        None
    }

    fn sniff(&self, path: &Path, _text: &str) -> bool {
        is_workflow_path(path) || matches!(file_name(path).as_str(), "action.yml" | "action.yaml")
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
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

fn jobs<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "jobs")?;
    let jobs = map_values(doc.and_then(|d| d.get("jobs")));
    list_of(jobs.into_iter().filter(|j| j.as_map().is_some()).collect())
}

fn steps<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "steps")?;
    let mut out = Vec::new();
    let mut push_steps = |holder: Option<&Node>| {
        if let Some(list) = holder.and_then(|h| h.get("steps")).and_then(Node::as_list) {
            out.extend(
                list.items()
                    .iter()
                    .filter(|n| n.as_map().is_some())
                    .cloned(),
            );
        }
    };
    if let Some(doc) = doc {
        for job in map_values(doc.get("jobs")) {
            push_steps(Some(&job));
        }
        push_steps(doc.get("runs"));
    }
    list_of(out)
}

fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn action_ref<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let uses = arg_str(&args, 0, "actionRef")?.trim();
    let pinned = |b: bool| Node::new(Value::Bool(CelBool::from(b)), Span::default());
    if uses.starts_with("./") || uses.starts_with("../") {
        return map_of(&[
            ("kind", s("local")),
            ("path", s(uses)),
            ("pinned", pinned(true)),
        ]);
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        let r = split_image(image);
        return map_of(&[
            ("kind", s("docker")),
            (
                "ref",
                s(if r.digest.is_empty() {
                    &r.tag
                } else {
                    &r.digest
                }),
            ),
            ("pinned", pinned(!r.digest.is_empty())),
        ]);
    }
    let (path, reference) = uses.split_once('@').unwrap_or((uses, ""));
    let mut parts = path.splitn(3, '/');
    let owner = parts.next().unwrap_or("");
    let repo = parts.next().unwrap_or("");
    let sub = parts.next().unwrap_or("");
    map_of(&[
        ("kind", s("remote")),
        ("owner", s(owner)),
        ("repo", s(repo)),
        ("path", s(sub)),
        ("ref", s(reference)),
        ("pinned", pinned(is_full_sha(reference))),
    ])
}
