//! Kubernetes objects: any YAML/JSON document with a string `apiVersion` and `kind`, each item
//! of a `List`, named `Kind/namespace/name`; helpers for the pod spec and containers of a
//! workload.

use std::path::Path;

use super::{kustomize, yaml11, Input, Kind, TreeFormat, TreeInfo};
use crate::cel::args::{arg_map, list_of, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::{ListNode, MapBuilder, MapNode, Node, Value};

/// Kubernetes objects.
pub struct Kubernetes;

/// The one instance the registry lists.
pub static INPUT: Kubernetes = Kubernetes;

const POD_SPEC_WORDS: &str = "Kubernetes workload with a pod spec";

const HELPERS: &[Helper] = &[
    Helper { name: "podSpecs", signature: "podSpecs(doc) -> list<map>", doc: "The pod spec of a Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob; Argo Rollout; OpenKruise CloneSet, BroadcastJob, Advanced StatefulSet and DaemonSet; Knative Service, Configuration and Revision) as a list of zero or one map.", arity: 1, function: pod_specs, gate: HelperGate::Document(has_pod_spec, POD_SPEC_WORDS) },
    Helper { name: "containers", signature: "containers(doc) -> list<map>", doc: "Every container of a Kubernetes workload: containers, initContainers and ephemeralContainers.", arity: 1, function: containers, gate: HelperGate::Document(has_pod_spec, POD_SPEC_WORDS) },
];

impl Input for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Kubernetes]
    }

    fn recognize(&self, _path: &Path, _format: TreeFormat, root: &Node) -> Option<Kind> {
        (root.get("apiVersion").and_then(Node::as_str).is_some()
            && root.get("kind").and_then(Node::as_str).is_some())
        .then_some(Kind::Kubernetes)
    }

    fn sniff(&self, _path: &Path, text: &str) -> bool {
        super::has_top_key(text, "apiVersion") && super::has_top_key(text, "kind")
    }

    fn documents(
        &self,
        kind: Kind,
        root: Node,
        fallback: String,
        tree: &TreeInfo,
    ) -> Vec<(String, Node)> {
        let plain = &tree.yaml11_plain;
        if is_list(&root) {
            let items = root.get("items").and_then(Node::as_list).cloned();
            return items
                .iter()
                .flat_map(|l| l.items())
                .enumerate()
                .filter(|(_, item)| item.as_map().is_some())
                .map(|(j, item)| {
                    let name = name_of(item).unwrap_or_else(|| format!("{fallback}items[{j}]"));
                    let doc = yaml11::normalise(kind, item.clone(), plain);
                    (name, placeholder_images(doc))
                })
                .collect();
        }
        let name = name_of(&root).unwrap_or(fallback);
        vec![(
            name,
            placeholder_images(yaml11::normalise(kind, root, plain)),
        )]
    }

    fn partial(&self, path: &Path, root: &Node) -> Option<String> {
        if let Some(k) = kustomize::listing_kustomization(path) {
            return Some(format!(
                "listed as a patch by the kustomization in {}",
                k.display()
            ));
        }
        let spec = root.as_map().and_then(pod_spec_of)?;
        let imageless = ["containers", "initContainers"]
            .iter()
            .filter_map(|f| spec.get(f).and_then(Node::as_list))
            .flat_map(|l| l.items())
            .any(|c| c.as_map().is_some() && c.get("image").is_none());
        imageless
            .then(|| "a container has no image: a patch of a workload defined elsewhere".into())
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
    }
}

/// The path from a workload's root to its pod spec.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// The workload with every container `image` that is not an image reference (a placeholder
/// such as `<DOCKER_REPO>/app`, `gcr.io/PROJECT_ID/app`, `${IMAGE}`, `$(IMG)`,
/// `{{ .Values.image }}`) made a value not known before deployment: rules about tags then say
/// they cannot judge it instead of judging the placeholder as a tag.
fn placeholder_images(root: Node) -> Node {
    let Some(path) = root
        .get("kind")
        .and_then(Node::as_str)
        .and_then(pod_spec_path)
    else {
        return root;
    };
    let spec_changed = |spec: &Node| {
        rebuild_map(spec, |key, value| {
            if !["containers", "initContainers", "ephemeralContainers"].contains(&key) {
                return None;
            }
            let list = value.as_list()?;
            let items: Vec<Node> = list
                .items()
                .iter()
                .map(|c| {
                    rebuild_map(c, |k, v| match (k, v.as_str()) {
                        ("image", Some(text)) if !crate::doc::image::is_reference(text) => {
                            Some(Node::unknown(text, v.span))
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| c.clone())
                })
                .collect();
            Some(Node::new(
                Value::List(ListNode::new(items, list.span())),
                value.span,
            ))
        })
    };
    along(&root, path, &spec_changed).unwrap_or(root)
}

/// `node` with the value at `path` replaced by `change` (`None` when nothing changed).
fn along(node: &Node, path: &[&str], change: &dyn Fn(&Node) -> Option<Node>) -> Option<Node> {
    match path.split_first() {
        None => change(node),
        Some((first, rest)) => rebuild_map(node, |k, v| {
            (k == *first).then(|| along(v, rest, change)).flatten()
        }),
    }
}

/// A copy of a map node whose members `f` replaces (`None` keeps one); `None` when `node` is
/// not a map or `f` replaced nothing.
fn rebuild_map(node: &Node, f: impl Fn(&str, &Node) -> Option<Node>) -> Option<Node> {
    let map = node.as_map()?;
    let mut changed = false;
    let mut b = MapBuilder::new();
    for (k, e) in map.iter() {
        let value = match f(k, &e.value) {
            Some(v) => {
                changed = true;
                v
            }
            None => e.value.clone(),
        };
        b.insert(k.to_string(), e.key_span, value);
    }
    changed.then(|| Node::new(Value::Map(b.finish(map.span())), node.span))
}

fn is_list(root: &Node) -> bool {
    root.get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && root.get("items").and_then(Node::as_list).is_some()
}

/// `Kind/namespace/name` of a Kubernetes object, when it has a name.
pub fn name_of(obj: &Node) -> Option<String> {
    let kind = obj.get("kind").and_then(Node::as_str)?;
    let meta = obj.get("metadata")?;
    let name = meta
        .get("name")
        .or_else(|| meta.get("generateName"))
        .and_then(Node::as_str)?;
    Some(match meta.get("namespace").and_then(Node::as_str) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    })
}

/// Whether the document is a workload with a pod spec.
fn has_pod_spec(doc: &MapNode) -> bool {
    pod_spec_of(doc).is_some()
}

/// The pod spec node of a Kubernetes workload, if it has one: the core workloads (also
/// OpenKruise's Advanced StatefulSet and DaemonSet, which keep the kinds' names), OpenKruise
/// `CloneSet` and `BroadcastJob`, Argo Rollouts `Rollout`, and Knative Serving `Service` and
/// `Configuration` (a template) and `Revision` (the spec itself).
pub fn pod_spec_of(doc: &MapNode) -> Option<&Node> {
    let kind = doc.get("kind").and_then(Node::as_str)?;
    let spec = doc.get("spec")?;
    let group = doc
        .get("apiVersion")
        .and_then(Node::as_str)
        .map_or("", |v| v.split('/').next().unwrap_or(""));
    match (kind, group) {
        ("Revision", "serving.knative.dev") => Some(spec),
        ("Service" | "Configuration", "serving.knative.dev") => spec.get("template")?.get("spec"),
        ("Pod", _) => Some(spec),
        (
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "Rollout"
            | "CloneSet"
            | "BroadcastJob",
            _,
        ) => spec.get("template")?.get("spec"),
        ("CronJob", _) => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

fn pod_specs<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let specs = arg_map(&args, 0, "podSpecs")?
        .and_then(pod_spec_of)
        .filter(|s| s.as_map().is_some())
        .cloned()
        .into_iter()
        .collect();
    list_of(specs)
}

fn containers<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let mut out = Vec::new();
    if let Some(spec) = arg_map(&args, 0, "containers")?.and_then(pod_spec_of) {
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            if let Some(list) = spec.get(field).and_then(Node::as_list) {
                out.extend(
                    list.items()
                        .iter()
                        .filter(|n| n.as_map().is_some())
                        .cloned(),
                );
            }
        }
    }
    list_of(out)
}
