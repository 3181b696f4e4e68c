//! AWS CloudFormation templates: YAML or JSON with `AWSTemplateFormatVersion`, or whose every
//! resource has an AWS-style `Type`. Intrinsics are resolved where the template gives their value
//! ([`intrinsics`]); SAM templates gain the resources the transform implies ([`sam`]); a helper
//! lists what resources reference where.

pub mod intrinsics;
pub mod sam;

use std::path::Path;

use cel::common::types::CelBool;
use cel::common::value::CowVal;

use super::{Input, Kind, Resources, TreeFormat};
use crate::cel::args::{arg_map, arg_str, charge, map_values, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::{MapBuilder, MapNode, Node, Span, Value};

/// CloudFormation templates.
pub struct Cloudformation;

/// The one instance the registry lists.
pub static INPUT: Cloudformation = Cloudformation;

const HELPERS: &[Helper] = &[
    Helper { name: "refsAt", signature: "refsAt(doc, type, path) -> map", doc: "CloudFormation: the logical ids that resources of `type` ('*' for all) reference with `Ref` (or `Fn::GetAtt`) at `path` inside their `Properties`, as a map for `key in refsAt(...)`; computed once per document.", arity: 3, function: refs_at, gate: HelperGate::None },
];

impl Input for Cloudformation {
    fn name(&self) -> &'static str {
        "cloudformation"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Cloudformation]
    }

    fn recognize(&self, _path: &Path, _format: TreeFormat, root: &Node) -> Option<Kind> {
        is_template(root).then_some(Kind::Cloudformation)
    }

    fn sniff(&self, _path: &Path, text: &str) -> bool {
        text.contains("AWSTemplateFormatVersion")
    }

    fn documents(
        &self,
        _kind: Kind,
        root: Node,
        name: String,
        _tree: &super::TreeInfo,
    ) -> Vec<(String, Node)> {
        vec![(name, sam::expand(&intrinsics::normalize(root)))]
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
    }

    fn resources<'a>(&self, doc: &'a MapNode) -> Option<Resources<'a>> {
        let all = doc.get("Resources").and_then(Node::as_map)?;
        Some(Box::new(
            all.iter()
                .filter(|(_, r)| r.value.as_map().is_some())
                .map(|(_, r)| (r.value.get("Type").and_then(Node::as_str), &r.value)),
        ))
    }
}

fn is_template(root: &Node) -> bool {
    if root.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    root.get("Resources")
        .and_then(Node::as_map)
        .is_some_and(|resources| {
            !resources.is_empty()
                && resources.iter().all(|(_, e)| {
                    e.value.get("Type").is_some_and(|t| match t.as_str() {
                        Some(t) => t.contains("::"),
                        None => is_rain_directive(t),
                    })
                })
        })
}

/// Whether a resource `Type` is an AWS Rain directive (`Type: !Rain::Module ./bucket.yml`),
/// which Rain expands before deploying: the template is still CloudFormation.
fn is_rain_directive(t: &Node) -> bool {
    t.as_map()
        .is_some_and(|m| m.len() == 1 && m.iter().all(|(k, _)| k.starts_with("Rain::")))
}

/// Per-thread memo of `refsAt` for the document being evaluated, with what each result took
/// to compute: a hit is not charged (the first call paid for the walk), but noted as saved
/// ([`crate::cel::args::note_saved`]). It holds that document, so its address cannot be
/// reused by another one while the memo lives.
type RefsCache = Option<(
    MapNode,
    std::collections::HashMap<(String, String), (MapNode, usize)>,
)>;

thread_local! {
    static REFS_CACHE: std::cell::RefCell<RefsCache> = const { std::cell::RefCell::new(None) };
}

fn ref_target(n: &Node) -> Option<String> {
    if let Some(r) = n.get("Ref").and_then(Node::as_str) {
        return Some(r.to_string());
    }
    let att = n.get("Fn::GetAtt")?;
    match &att.value {
        Value::List(l) => l.items().first().and_then(Node::as_str).map(str::to_string),
        Value::Str(s) => s.inner().split('.').next().map(str::to_string),
        _ => None,
    }
}

fn refs_at<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let Some(doc) = arg_map(&args, 0, "refsAt")?.cloned() else {
        return Ok(CowVal::owned(MapBuilder::new().finish(Span::default())));
    };
    let wanted = arg_str(&args, 1, "refsAt")?.to_string();
    let path = arg_str(&args, 2, "refsAt")?.to_string();
    let cache_key = (wanted.clone(), path.clone());
    let hit = REFS_CACHE.with(|c| match &*c.borrow() {
        Some((d, memo)) if d.same(&doc) => memo.get(&cache_key).cloned(),
        _ => None,
    });
    if let Some((hit, walked)) = hit {
        crate::cel::args::note_saved(walked);
        return Ok(CowVal::owned(hit));
    }
    let mut b = MapBuilder::new();
    let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    let mut walked = 0;
    for r in map_values(doc.get("Resources")) {
        walked += 1;
        if wanted != "*" && r.get("Type").and_then(Node::as_str) != Some(wanted.as_str()) {
            continue;
        }
        let mut nodes: Vec<&Node> = r.get("Properties").into_iter().collect();
        for seg in &segments {
            nodes = nodes
                .into_iter()
                .flat_map(|n| match &n.value {
                    Value::List(l) => l
                        .items()
                        .iter()
                        .filter_map(|i| i.get(seg))
                        .collect::<Vec<_>>(),
                    _ => n.get(seg).into_iter().collect(),
                })
                .collect();
            walked += nodes.len();
        }
        for n in nodes {
            if let Some(t) = ref_target(n) {
                let truth = Node::new(Value::Bool(CelBool::from(true)), Span::default());
                b.insert(t, Span::default(), truth);
            }
        }
    }
    charge(walked)?;
    let result = b.finish(Span::default());
    REFS_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        match &mut *c {
            Some((d, memo)) if d.same(&doc) => {
                memo.insert(cache_key, (result.clone(), walked));
            }
            _ => {
                let mut memo = std::collections::HashMap::new();
                memo.insert(cache_key, (result.clone(), walked));
                *c = Some((doc.clone(), memo));
            }
        }
    });
    Ok(CowVal::owned(result))
}
