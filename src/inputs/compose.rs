//! Docker Compose files: `*compose*.y*ml` with a `services` map; a helper for the services.

use std::path::Path;

use super::{file_name, yaml11, Input, Kind, TreeFormat, TreeInfo};
use crate::cel::args::{arg_map, list_of, map_values, Args, Ret};
use crate::cel::{Helper, HelperGate};
use crate::doc::Node;

/// Compose files.
pub struct Compose;

/// The one instance the registry lists.
pub static INPUT: Compose = Compose;

const HELPERS: &[Helper] = &[Helper {
    name: "services",
    signature: "services(doc) -> list<map>",
    doc: "The services of a Compose file.",
    arity: 1,
    function: services,
    gate: HelperGate::None,
}];

impl Input for Compose {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Compose]
    }

    fn recognize(&self, path: &Path, _format: TreeFormat, root: &Node) -> Option<Kind> {
        let name = file_name(path).to_ascii_lowercase();
        (name.contains("compose")
            && (name.ends_with(".yml") || name.ends_with(".yaml"))
            && root.get("services").and_then(Node::as_map).is_some())
        .then_some(Kind::Compose)
    }

    fn sniff(&self, path: &Path, text: &str) -> bool {
        file_name(path).to_ascii_lowercase().contains("compose")
            && super::has_top_key(text, "services")
    }

    fn documents(
        &self,
        kind: Kind,
        root: Node,
        name: String,
        tree: &TreeInfo,
    ) -> Vec<(String, Node)> {
        vec![(name, yaml11::normalise(kind, root, &tree.yaml11_plain))]
    }

    fn helpers(&self) -> &'static [Helper] {
        HELPERS
    }
}

fn services<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let doc = arg_map(&args, 0, "services")?;
    let s = map_values(doc.and_then(|d| d.get("services")));
    list_of(s.into_iter().filter(|j| j.as_map().is_some()).collect())
}
