//! YAML 1.1 booleans in the fields Kubernetes and Compose read as booleans: `privileged: yes` is
//! `true` to kubectl and to Docker Compose, a string to a YAML 1.2 reader. After kind detection
//! those fields are normalised to booleans, keeping their spans.
//!
//! - **Kubernetes** (kubectl, the kubelet: YAML 1.1): plain scalars `yes`, `no`, `on`, `off`,
//!   `y`, `n` in any case. A quoted `"yes"` stays a string (the API server refuses it in a
//!   boolean field).
//! - **Compose** (compose-go casts strings in boolean fields): the same words and `true`/`false`,
//!   quoted or not.

use std::collections::HashSet;

use cel::common::types::CelBool;

use super::Kind;
use crate::doc::yaml::yaml11_bool;
use crate::doc::{ListNode, MapBuilder, Node, Value};

/// One step of a field pattern.
#[derive(Clone, Copy, Debug)]
enum Seg {
    /// A map key.
    Key(&'static str),
    /// Any item of a list.
    Item,
    /// Any member of a map.
    Member,
}

use Seg::{Item, Key, Member};

/// Boolean fields of a pod spec.
const POD_SPEC: &[&[Seg]] = &[
    &[Key("hostNetwork")],
    &[Key("hostPID")],
    &[Key("hostIPC")],
    &[Key("hostUsers")],
    &[Key("shareProcessNamespace")],
    &[Key("automountServiceAccountToken")],
    &[Key("enableServiceLinks")],
    &[Key("setHostnameAsFQDN")],
    &[Key("securityContext"), Key("runAsNonRoot")],
    &[
        Key("securityContext"),
        Key("windowsOptions"),
        Key("hostProcess"),
    ],
    // Volume sources: `readOnly` (awsElasticBlockStore, csi, nfs, persistentVolumeClaim…),
    // `optional` (configMap, secret), iSCSI and ScaleIO switches.
    &[Key("volumes"), Item, Member, Key("readOnly")],
    &[Key("volumes"), Item, Member, Key("optional")],
    &[Key("volumes"), Item, Member, Key("chapAuthDiscovery")],
    &[Key("volumes"), Item, Member, Key("chapAuthSession")],
    &[Key("volumes"), Item, Member, Key("sslEnabled")],
    &[
        Key("volumes"),
        Item,
        Key("projected"),
        Key("sources"),
        Item,
        Member,
        Key("optional"),
    ],
];

/// Boolean fields of a container (`containers`, `initContainers`, `ephemeralContainers`).
const CONTAINER: &[&[Seg]] = &[
    &[Key("stdin")],
    &[Key("stdinOnce")],
    &[Key("tty")],
    &[Key("securityContext"), Key("privileged")],
    &[Key("securityContext"), Key("allowPrivilegeEscalation")],
    &[Key("securityContext"), Key("readOnlyRootFilesystem")],
    &[Key("securityContext"), Key("runAsNonRoot")],
    &[
        Key("securityContext"),
        Key("windowsOptions"),
        Key("hostProcess"),
    ],
    &[Key("volumeMounts"), Item, Key("readOnly")],
    &[Key("env"), Item, Key("valueFrom"), Member, Key("optional")],
    &[Key("envFrom"), Item, Member, Key("optional")],
];

/// Boolean fields of objects, by kind (besides their pod spec).
const OBJECTS: &[(&str, &[&[Seg]])] = &[
    ("ServiceAccount", &[&[Key("automountServiceAccountToken")]]),
    ("ConfigMap", &[&[Key("immutable")]]),
    ("Secret", &[&[Key("immutable")]]),
    ("Deployment", &[&[Key("spec"), Key("paused")]]),
    (
        "Job",
        &[
            &[Key("spec"), Key("suspend")],
            &[Key("spec"), Key("manualSelector")],
        ],
    ),
    ("CronJob", &[&[Key("spec"), Key("suspend")]]),
    (
        "Service",
        &[
            &[Key("spec"), Key("publishNotReadyAddresses")],
            &[Key("spec"), Key("allocateLoadBalancerNodePorts")],
        ],
    ),
    ("StorageClass", &[&[Key("allowVolumeExpansion")]]),
    (
        "PersistentVolume",
        &[&[Key("spec"), Member, Key("readOnly")]],
    ),
    ("PriorityClass", &[&[Key("globalDefault")]]),
    (
        "PodSecurityPolicy",
        &[
            &[Key("spec"), Key("privileged")],
            &[Key("spec"), Key("hostNetwork")],
            &[Key("spec"), Key("hostPID")],
            &[Key("spec"), Key("hostIPC")],
            &[Key("spec"), Key("allowPrivilegeEscalation")],
            &[Key("spec"), Key("defaultAllowPrivilegeEscalation")],
            &[Key("spec"), Key("readOnlyRootFilesystem")],
            &[Key("spec"), Key("allowedHostPaths"), Item, Key("readOnly")],
        ],
    ),
    (
        "KubeletConfiguration",
        &[
            &[Key("authentication"), Key("anonymous"), Key("enabled")],
            &[Key("authentication"), Key("webhook"), Key("enabled")],
            &[Key("enableServer")],
            &[Key("enableDebuggingHandlers")],
            &[Key("enableContentionProfiling")],
            &[Key("enableProfilingHandler")],
            &[Key("enableSystemLogHandler")],
            &[Key("failSwapOn")],
            &[Key("protectKernelDefaults")],
            &[Key("makeIPTablesUtilChains")],
            &[Key("rotateCertificates")],
            &[Key("serverTLSBootstrap")],
            &[Key("seccompDefault")],
            &[Key("cgroupsPerQOS")],
        ],
    ),
];

/// Where a workload's pod spec is, by kind.
fn pod_spec_path(kind: &str) -> Option<&'static [Seg]> {
    Some(match kind {
        "Pod" => &[Key("spec")],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &[Key("spec"), Key("template"), Key("spec")],
        "CronJob" => &[
            Key("spec"),
            Key("jobTemplate"),
            Key("spec"),
            Key("template"),
            Key("spec"),
        ],
        "PodTemplate" => &[Key("template"), Key("spec")],
        _ => return None,
    })
}

/// Boolean fields of a Compose service.
const COMPOSE_SERVICE: &[&[Seg]] = &[
    &[Key("privileged")],
    &[Key("read_only")],
    &[Key("init")],
    &[Key("tty")],
    &[Key("stdin_open")],
    &[Key("oom_kill_disable")],
    &[Key("use_api_socket")],
    &[Key("healthcheck"), Key("disable")],
    &[Key("build"), Key("privileged")],
    &[Key("volumes"), Item, Key("read_only")],
    &[Key("volumes"), Item, Key("volume"), Key("nocopy")],
    &[Key("volumes"), Item, Key("bind"), Key("create_host_path")],
];

/// Boolean fields of Compose's top-level networks, volumes, secrets and configs.
const COMPOSE_TOP: &[&[Seg]] = &[
    &[Key("networks"), Member, Key("external")],
    &[Key("networks"), Member, Key("internal")],
    &[Key("networks"), Member, Key("attachable")],
    &[Key("networks"), Member, Key("enable_ipv4")],
    &[Key("networks"), Member, Key("enable_ipv6")],
    &[Key("volumes"), Member, Key("external")],
    &[Key("secrets"), Member, Key("external")],
    &[Key("configs"), Member, Key("external")],
];

/// Which string values become booleans.
#[derive(Clone, Copy)]
enum Reader<'a> {
    /// kubectl: plain scalars spelled as YAML 1.1 booleans (their start positions).
    Kubectl(&'a HashSet<u32>),
    /// compose-go: the YAML 1.1 words and `true`/`false`, quoted or not.
    Compose,
}

impl Reader<'_> {
    fn boolean(self, node: &Node) -> Option<bool> {
        let s = node.as_str()?;
        match self {
            Reader::Kubectl(plain) if plain.contains(&node.span.start) => yaml11_bool(s),
            Reader::Kubectl(_) => None,
            Reader::Compose => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => yaml11_bool(s),
            },
        }
    }
}

/// `root` with the YAML 1.1 booleans of its boolean fields read as booleans. `plain` holds the
/// start positions of the plain scalars spelled as YAML 1.1 booleans (from the YAML reader).
/// Documents of other kinds, and documents without such values, come back unchanged.
pub fn normalise(kind: Kind, root: Node, plain: &HashSet<u32>) -> Node {
    if kind == Kind::Kubernetes && plain.is_empty() {
        // kubectl reads YAML 1.1 words only in plain scalars, and this document has none:
        // nothing to convert (most documents; the patterns are not even built).
        return root;
    }
    let mut patterns: Vec<Vec<Seg>> = Vec::new();
    let reader = match kind {
        Kind::Kubernetes => {
            let object = root.get("kind").and_then(Node::as_str).unwrap_or_default();
            if let Some(spec) = pod_spec_path(object) {
                for p in POD_SPEC {
                    patterns.push([spec, p].concat());
                }
                for list in ["containers", "initContainers", "ephemeralContainers"] {
                    for p in CONTAINER {
                        patterns.push([spec, &[Key(list), Item], p].concat());
                    }
                }
            }
            for (k, fields) in OBJECTS {
                if *k == object {
                    patterns.extend(fields.iter().map(|f| f.to_vec()));
                }
            }
            Reader::Kubectl(plain)
        }
        Kind::Compose => {
            for p in COMPOSE_SERVICE {
                patterns.push([&[Key("services"), Member], *p].concat());
            }
            patterns.extend(COMPOSE_TOP.iter().map(|p| p.to_vec()));
            Reader::Compose
        }
        _ => return root,
    };
    let active: Vec<&[Seg]> = patterns.iter().map(Vec::as_slice).collect();
    convert(&root, &active, reader).unwrap_or(root)
}

/// The patterns that continue below the member `key` (or a list item when `key` is `None`).
fn descend<'p>(patterns: &[&'p [Seg]], key: Option<&str>) -> Vec<&'p [Seg]> {
    patterns
        .iter()
        .filter_map(|p| {
            let (first, rest) = p.split_first()?;
            let hit = match (first, key) {
                (Key(k), Some(key)) => *k == key,
                (Member, Some(_)) | (Item, None) => true,
                _ => false,
            };
            hit.then_some(rest)
        })
        .collect()
}

/// The node with its matching fields converted, or `None` when nothing changed.
fn convert(node: &Node, patterns: &[&[Seg]], reader: Reader<'_>) -> Option<Node> {
    if patterns.iter().any(|p| p.is_empty()) {
        let b = reader.boolean(node)?;
        return Some(Node::new(Value::Bool(CelBool::from(b)), node.span));
    }
    match &node.value {
        Value::Map(m) => {
            let changed: Vec<Option<Node>> = m
                .iter()
                .map(|(k, e)| {
                    let below = descend(patterns, Some(k));
                    (!below.is_empty())
                        .then(|| convert(&e.value, &below, reader))
                        .flatten()
                })
                .collect();
            if changed.iter().all(Option::is_none) {
                return None;
            }
            let mut b = MapBuilder::new();
            for ((k, e), new) in m.iter().zip(changed) {
                b.insert(
                    k.to_string(),
                    e.key_span,
                    new.unwrap_or_else(|| e.value.clone()),
                );
            }
            Some(Node::new(Value::Map(b.finish(m.span())), node.span))
        }
        Value::List(l) => {
            let below = descend(patterns, None);
            if below.is_empty() {
                return None;
            }
            let changed: Vec<Option<Node>> = l
                .items()
                .iter()
                .map(|i| convert(i, &below, reader))
                .collect();
            if changed.iter().all(Option::is_none) {
                return None;
            }
            let items = l
                .items()
                .iter()
                .zip(changed)
                .map(|(old, new)| new.unwrap_or_else(|| old.clone()))
                .collect();
            Some(Node::new(
                Value::List(ListNode::new(items, l.span())),
                node.span,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    fn read(kind: Kind, text: &str) -> Node {
        let mut stream = yaml::parse(text).unwrap();
        let root = stream.documents.remove(0);
        normalise(kind, root, &stream.yaml11_plain)
    }

    fn at<'a>(n: &'a Node, path: &[&str]) -> &'a Node {
        path.iter().fold(n, |n, k| match k.parse::<usize>() {
            Ok(i) => &n.as_list().unwrap().items()[i],
            Err(_) => n.get(k).unwrap(),
        })
    }

    #[test]
    fn kubernetes_plain_words_in_boolean_fields_become_booleans() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {on: yes}}\nspec:\n  template:\n    spec:\n      hostNetwork: On\n      hostPID: \"yes\"\n      containers:\n        - name: app\n          tty: n\n          securityContext: {privileged: YES, runAsNonRoot: maybe}\n          volumeMounts: [{name: x, readOnly: oFF}]\n";
        let doc = read(Kind::Kubernetes, text);
        let spec = at(&doc, &["spec", "template", "spec"]);
        assert!(matches!(spec.get("hostNetwork").unwrap().value, Value::Bool(b) if *b));
        // Quoted: a string, as the API server would see it.
        assert_eq!(spec.get("hostPID").unwrap().as_str(), Some("yes"));
        let c = at(spec, &["containers", "0"]);
        assert!(matches!(c.get("tty").unwrap().value, Value::Bool(b) if !*b));
        let privileged = at(c, &["securityContext", "privileged"]);
        assert!(matches!(privileged.value, Value::Bool(b) if *b));
        let positions = crate::doc::Positions::of_text(text);
        assert_eq!(
            positions.start(privileged.span),
            crate::doc::Pos::new(12, 41)
        );
        assert_eq!(
            at(c, &["securityContext", "runAsNonRoot"]).as_str(),
            Some("maybe")
        );
        assert!(matches!(
            at(c, &["volumeMounts", "0", "readOnly"]).value,
            Value::Bool(b) if !*b
        ));
        // Not a boolean field: left alone.
        assert_eq!(
            at(&doc, &["metadata", "labels", "on"]).as_str(),
            Some("yes")
        );
    }

    #[test]
    fn object_fields_by_kind() {
        let doc = read(
            Kind::Kubernetes,
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nautomountServiceAccountToken: off\n",
        );
        let v = doc.get("automountServiceAccountToken").unwrap();
        assert!(matches!(v.value, Value::Bool(b) if !*b));
        let doc = read(
            Kind::Kubernetes,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nautomountServiceAccountToken: off\n",
        );
        assert_eq!(
            doc.get("automountServiceAccountToken").unwrap().as_str(),
            Some("off")
        );
    }

    #[test]
    fn compose_casts_quoted_and_plain_words() {
        let doc = read(
            Kind::Compose,
            "services:\n  web:\n    privileged: \"true\"\n    read_only: Yes\n    tty: 'off'\n    image: yes\n    volumes:\n      - {type: bind, source: /x, target: /y, read_only: y}\nnetworks:\n  n: {external: on}\n",
        );
        let web = at(&doc, &["services", "web"]);
        assert!(matches!(web.get("privileged").unwrap().value, Value::Bool(b) if *b));
        assert!(matches!(web.get("read_only").unwrap().value, Value::Bool(b) if *b));
        assert!(matches!(web.get("tty").unwrap().value, Value::Bool(b) if !*b));
        assert_eq!(web.get("image").unwrap().as_str(), Some("yes"));
        assert!(matches!(
            at(web, &["volumes", "0", "read_only"]).value,
            Value::Bool(b) if *b
        ));
        assert!(matches!(
            at(&doc, &["networks", "n", "external"]).value,
            Value::Bool(b) if *b
        ));
    }

    #[test]
    fn other_kinds_are_untouched() {
        let doc = read(
            Kind::GithubWorkflow,
            "on: push\njobs: {a: {privileged: yes}}\n",
        );
        assert_eq!(at(&doc, &["jobs", "a", "privileged"]).as_str(), Some("yes"));
    }
}
