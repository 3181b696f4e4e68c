//! Module calls: the module each `module "x" { source = … }` block names, evaluated with the
//! call's arguments bound to its variables, as a document of its own.
//!
//! - A local source (`./modules/x`, `../shared`) is read relative to the calling module.
//! - Any other source (registry, git, archive) is read from where `terraform init` put it: the
//!   `Dir` of the call's `Key` in `.terraform/modules/modules.json` of the root module.
//! - A call that cannot be followed (not downloaded, directory missing, a source that is not a
//!   literal, a module calling itself) is a `not-evaluated` notice at the call, never silence.
//!
//! The child document is named after the call path (`module.app.module.db`), so its findings
//! have fingerprints of their own; its spans point into the child's files, and `via` lists the
//! calls, innermost first, which every finding carries as related locations. The child
//! directory, when it is also under a scan root, is scanned on its own with its defaults too;
//! the scan then drops a call's finding that the module alone reports identically, so a
//! setting written in the module is reported once and only what the arguments change is
//! reported again, naming the call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{module_files, parse_child_module, push_module_errors};
use crate::doc::tree::Node;
use crate::doc::{Positions, Related};
use crate::inputs::{Document, Kind, NotEvaluated, Read};

/// Deepest chain of module calls followed.
const MAX_DEPTH: usize = 16;
/// Most module instances evaluated for one root module (calls inside calls multiply).
const MAX_INSTANCES: usize = 256;

/// Arguments of a `module` block that configure the call, not the module's variables.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// What every call of one root module shares.
struct Walk<'a> {
    /// The root module's directory (where `.terraform` is).
    root: &'a Path,
    /// `Key` → `Dir` of `.terraform/modules/modules.json`, when it exists.
    manifest: Option<HashMap<String, String>>,
    display: &'a dyn Fn(&Path) -> String,
    /// Module instances evaluated so far.
    evaluated: std::cell::Cell<usize>,
}

/// The module that makes calls: its document, files and place in the call tree.
struct Caller<'a> {
    root: &'a Node,
    files: &'a [String],
    positions: &'a Positions,
    dir: &'a Path,
    /// Call keys joined by `.` (`app.db`), as `modules.json` names them; empty for the root.
    key: &'a str,
    via: &'a [Related],
    /// Directories of the modules on the call path, to stop a module calling itself.
    chain: &'a [PathBuf],
}

/// Follows the module calls of the root module read into `read` (its first document).
pub(super) fn follow(read: &mut Read, dir: &Path, display: &dyn Fn(&Path) -> String) {
    let Some(first) = read.documents.first() else {
        return;
    };
    let (root, files) = (first.root.clone(), first.files.clone());
    let positions = first.positions.clone();
    let walk = Walk {
        root: dir,
        manifest: manifest(dir),
        display,
        evaluated: std::cell::Cell::new(0),
    };
    let caller = Caller {
        root: &root,
        files: &files,
        positions: &positions,
        dir,
        key: "",
        via: &[],
        chain: &[canonical(dir)],
    };
    calls(&walk, &caller, read);
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// `Key` → `Dir` of the modules `terraform init` installed for the module in `dir`.
fn manifest(dir: &Path) -> Option<HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join(".terraform/modules/modules.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let modules = json.get("Modules")?.as_array()?;
    Some(
        modules
            .iter()
            .filter_map(|m| {
                let key = m.get("Key")?.as_str()?;
                let dir = m.get("Dir")?.as_str()?;
                Some((key.to_string(), dir.to_string()))
            })
            .collect(),
    )
}

/// Whether a module source is a path relative to the calling module.
fn is_local(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../") || source == "." || source == ".."
}

/// Evaluates every call of `caller`, depth first, adding documents and notices to `read`.
fn calls(walk: &Walk<'_>, caller: &Caller<'_>, read: &mut Read) {
    let Some(blocks) = caller.root.get("module").and_then(Node::as_map) else {
        return;
    };
    for (name, entry) in blocks.iter() {
        let call = &entry.value;
        let Some(args) = call.as_map() else {
            continue;
        };
        // The first line of the block: where a call is shown.
        let (file, start) = caller.positions.locate(call.span.start);
        let at = (start, start);
        let path = caller.files.get(file as usize).cloned().unwrap_or_default();
        let key = if caller.key.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", caller.key)
        };
        let mut notice = |why: String| {
            read.not_evaluated.push(NotEvaluated {
                path: path.clone(),
                start: at.0,
                end: at.1,
                what: module_name(&key),
                message: format!("module \"{name}\" not evaluated: {why}"),
                via: caller.via.to_vec(),
            });
        };
        let Some(source) = args.get("source").and_then(Node::as_str) else {
            notice("its `source` is not a literal string".into());
            continue;
        };
        let local = is_local(source);
        let dir = if local {
            caller.dir.join(source)
        } else {
            match walk.manifest.as_ref().and_then(|m| m.get(&key)) {
                Some(d) => walk.root.join(d),
                None => {
                    notice(format!(
                        "module not downloaded (`{source}` is not in .terraform/modules/modules.json; run `terraform init` before the scan)"
                    ));
                    continue;
                }
            }
        };
        if !dir.is_dir() {
            let why = if local {
                "its directory does not exist"
            } else {
                "module not downloaded (its directory under .terraform/modules is missing)"
            };
            notice(format!("{why}: {}", (walk.display)(&dir)));
            continue;
        }
        let here = canonical(&dir);
        if caller.chain.contains(&here) {
            notice(format!("it calls itself through {}", (walk.display)(&dir)));
            continue;
        }
        if caller.chain.len() > MAX_DEPTH {
            notice(format!("calls nest deeper than {MAX_DEPTH} modules"));
            continue;
        }
        if walk.evaluated.get() >= MAX_INSTANCES {
            notice(format!(
                "more than {MAX_INSTANCES} module instances under one root module"
            ));
            continue;
        }
        walk.evaluated.set(walk.evaluated.get() + 1);
        let files = module_files(&dir, walk.display, false);
        if files.tf.is_empty() {
            notice(format!("no .tf file in {}", (walk.display)(&dir)));
            continue;
        }
        let bindings: Vec<(String, Node)> = args
            .iter()
            .filter(|(k, _)| !k.starts_with('_') && !META_ARGUMENTS.contains(k))
            .map(|(k, e)| (k.to_string(), e.value.clone()))
            .collect();
        let (root, errors, positions) = parse_child_module(&files.tf, &bindings);
        let positions = Arc::new(positions);
        // A local module is read on its own when it is under a scan root, which reports its
        // files' errors; a downloaded one is read only here.
        if !local {
            push_module_errors(read, errors, &files.tf, &[], &(walk.display)(&dir));
            read.errors.extend(files.errors);
        }
        let mut via = vec![Related {
            via: "module call",
            path: path.clone(),
            start: at.0,
            end: at.1,
            message: format!("module call \"{name}\" ({source})"),
        }];
        via.extend(caller.via.iter().cloned());
        let shown: Vec<String> = files.tf.iter().map(|s| s.path.clone()).collect();
        let mut chain = caller.chain.to_vec();
        chain.push(here);
        read.documents.push(Document {
            kind: Kind::Terraform,
            root: root.clone(),
            name: module_name(&key),
            files: shown.clone(),
            via: via.clone(),
            positions: positions.clone(),
        });
        let child = Caller {
            root: &root,
            files: &shown,
            positions: &positions,
            dir: &dir,
            key: &key,
            via: &via,
            chain: &chain,
        };
        calls(walk, &child, read);
    }
}

/// `module.app.module.db` for the call key `app.db`.
fn module_name(key: &str) -> String {
    format!("module.{}", key.replace('.', ".module."))
}
