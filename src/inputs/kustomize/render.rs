//! `--render-kustomize`: each root kustomization of a scan ([`super::tree`]) is built, and the
//! rendered objects are judged as Kubernetes documents shown at their source files. kustomize's
//! origin annotation (`config.kubernetes.io/origin`, its `path:` relative to the kustomization
//! built) names the file each object came from; the annotation is removed before any rule
//! sees the object.
//!
//! Every value of a rendered object is placed where it is written: in the source file when the
//! object there (same kind and name) has it with the same value; else in a patch of the tree
//! that sets it; else (a transformer set it: a name prefix, a label, an image) at the object's
//! header line in its source file. Every finding names the kustomization it was rendered by as
//! a related location.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::build;
use super::normalise;
use super::tree::{self, Tree};
use std::sync::Arc;

use crate::doc::positions::Import;
use crate::doc::{
    ListNode, MapBuilder, Node, Pos, Positions, PositionsBuilder, Related, Span, Value,
};
use crate::inputs::{kubernetes, Document, Input, Kind, NotEvaluated, Read, SourceFile, TreeInfo};

/// The largest source file read to place rendered objects (discovery's default limit).
const MAX_SOURCE_SIZE: u64 = 5 * 1024 * 1024;

/// The annotation kustomize writes when `buildMetadata: [originAnnotations]` is set.
pub const ORIGIN: &str = "config.kubernetes.io/origin";

/// One root kustomization and what building it gave.
#[derive(Debug)]
pub struct Built {
    /// The tree.
    pub tree: Tree,
    /// The rendered stream, or why there is none.
    outcome: Result<build::Output, String>,
}

impl Built {
    /// Whether the build gave a rendered stream.
    pub fn rendered(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// Every build of a scan.
#[derive(Debug, Default)]
pub struct Builds {
    /// One per root kustomization, in path order.
    pub built: Vec<Built>,
    /// Said once for the run when no program could build (neither kustomize nor kubectl is on
    /// `PATH`).
    pub warning: Option<String>,
}

impl Builds {
    /// The files judged through a rendered tree (absolute, normalised): the plain reading
    /// leaves them out, so nothing is counted twice.
    pub fn rendered_files(&self) -> BTreeSet<PathBuf> {
        self.built
            .iter()
            .filter(|b| b.rendered())
            .flat_map(|b| b.tree.members.iter().cloned())
            .collect()
    }
}

/// Builds every root kustomization among `kustomization_files` (the kustomization files a scan
/// found), in parallel.
pub fn build_all(kustomization_files: &[PathBuf]) -> Builds {
    let trees = tree::roots(kustomization_files);
    if trees.is_empty() {
        return Builds::default();
    }
    let Some(tool) = build::find() else {
        let n = trees.len();
        return Builds {
            built: trees
                .into_iter()
                .map(|tree| Built {
                    tree,
                    outcome: Err("neither kustomize nor kubectl is on PATH".into()),
                })
                .collect(),
            warning: Some(format!(
                "neither kustomize nor kubectl is on PATH, so {n} kustomization{} {} read without rendering (patches judged only on what they set)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "was" } else { "were" },
            )),
        };
    };
    Builds {
        built: trees
            .into_par_iter()
            .map(|tree| {
                // Output that is not YAML counts as a failed build: the tree's files are then
                // read on their own.
                let outcome = build::build(&tool, &tree.dir).and_then(|out| {
                    match crate::doc::yaml::parse(&out.stdout) {
                        Ok(_) => Ok(out),
                        Err(e) => Err(format!(
                            "the output of {} cannot be read as YAML at line {}: {}",
                            tool.command(),
                            e.pos.line,
                            e.message
                        )),
                    }
                });
                Built { tree, outcome }
            })
            .collect(),
        warning: None,
    }
}

/// Reads what building one root gave: its rendered objects as documents shown at their source
/// files, or one `not-evaluated` record at the kustomization file saying why nothing was
/// rendered.
pub fn read(built: &Built, display: &dyn Fn(&Path) -> String) -> Read {
    let kustomization = display(&built.tree.file);
    let not_evaluated = |why: String| NotEvaluated {
        path: kustomization.clone(),
        start: Pos::new(1, 1),
        end: Pos::new(1, 1),
        what: "kustomize-build".into(),
        via: Vec::new(),
        message: format!(
            "not evaluated: kustomization '{}' was not rendered: {why}",
            display(&built.tree.dir)
        ),
    };
    match &built.outcome {
        Ok(out) => read_output(&out.stdout, &out.base, &built.tree, display),
        Err(why) => Read {
            not_evaluated: vec![not_evaluated(why.clone())],
            ..Read::default()
        },
    }
}

/// Reads the stream a build of `tree` printed, whose origin paths are relative to `base`.
pub fn read_output(
    stdout: &str,
    base: &Path,
    tree: &Tree,
    display: &dyn Fn(&Path) -> String,
) -> Read {
    let kustomization = display(&tree.file);
    let stream = match crate::doc::yaml::parse(stdout) {
        Ok(s) => s,
        Err(e) => {
            return Read {
                not_evaluated: vec![NotEvaluated {
                    path: kustomization,
                    start: Pos::new(1, 1),
                    end: Pos::new(1, 1),
                    what: "kustomize-build".into(),
                    via: Vec::new(),
                    message: format!(
                        "not evaluated: kustomization '{}' was not rendered: its output cannot be read as YAML at line {}: {}",
                        display(&tree.dir),
                        e.pos.line,
                        e.message
                    ),
                }],
                ..Read::default()
            }
        }
    };
    let via = Related {
        via: "kustomization",
        path: kustomization.clone(),
        start: Pos::new(1, 1),
        end: Pos::new(1, 1),
        message: format!("rendered by the kustomization in {}", display(&tree.dir)),
    };
    let mut files = Files::default();
    let patches: Vec<PathBuf> = tree.patches.clone();
    let mut read = Read::default();
    for rendered in stream.documents {
        let Some((origin, object)) = strip_origin(rendered) else {
            continue;
        };
        let source = origin
            .path
            .filter(|_| origin.repo.is_none())
            .or(origin.configured_in)
            .map(|p| normalise(&base.join(p)))
            .unwrap_or_else(|| tree.file.clone());
        read.documents
            .extend(place(&object, &source, &patches, &mut files, display, &via));
    }
    read.sources = files.sources();
    read
}

/// Where a rendered object came from, as its origin annotation says.
#[derive(Default)]
struct Origin {
    path: Option<String>,
    repo: Option<String>,
    configured_in: Option<String>,
}

/// The object without its origin annotation (and without `annotations` when that was all
/// it held), and the origin; `None` for a document that is no object.
fn strip_origin(doc: Node) -> Option<(Origin, Node)> {
    let map = doc.as_map()?;
    map.get("kind").and_then(Node::as_str)?;
    let mut origin = Origin::default();
    let text = doc
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ORIGIN))
        .and_then(Node::as_str);
    if let Some(text) = text
        && let Ok(mut s) = crate::doc::yaml::parse(text)
        && !s.documents.is_empty()
    {
        let o = s.documents.remove(0);
        let field = |k: &str| o.get(k).and_then(Node::as_str).map(str::to_string);
        origin = Origin {
            path: field("path"),
            repo: field("repo"),
            configured_in: field("configuredIn"),
        };
    } else {
        return Some((origin, doc));
    }
    let rebuilt = rebuild(&doc, &|k, meta| {
        (k == "metadata").then(|| {
            rebuild_filtered(meta, &|k, ann| {
                if k != "annotations" {
                    return Keep::Same;
                }
                let left = ann.as_map().map_or(0, |m| m.len());
                if left <= 1 {
                    Keep::Drop
                } else {
                    Keep::Replace(rebuild_filtered(ann, &|k, _| {
                        if k == ORIGIN {
                            Keep::Drop
                        } else {
                            Keep::Same
                        }
                    }))
                }
            })
        })
    });
    Some((origin, rebuilt))
}

enum Keep {
    Same,
    Drop,
    Replace(Node),
}

/// A copy of a map whose members `f` keeps, drops or replaces.
fn rebuild_filtered(node: &Node, f: &dyn Fn(&str, &Node) -> Keep) -> Node {
    let Some(map) = node.as_map() else {
        return node.clone();
    };
    let mut b = MapBuilder::new();
    for (k, e) in map.iter() {
        match f(k, &e.value) {
            Keep::Same => {
                b.insert(k.to_string(), e.key_span, e.value.clone());
            }
            Keep::Drop => {}
            Keep::Replace(v) => {
                b.insert(k.to_string(), e.key_span, v);
            }
        }
    }
    Node::new(Value::Map(b.finish(map.span())), node.span)
}

fn rebuild(node: &Node, f: &dyn Fn(&str, &Node) -> Option<Node>) -> Node {
    rebuild_filtered(node, &|k, v| f(k, v).map_or(Keep::Same, Keep::Replace))
}

/// The files read to place rendered objects, each parsed once.
#[derive(Default)]
struct Files {
    read: HashMap<PathBuf, Option<Parsed>>,
    order: Vec<PathBuf>,
}

struct Parsed {
    display: String,
    text: String,
    documents: Vec<Node>,
    positions: Arc<Positions>,
}

impl Files {
    fn get(&mut self, path: &Path, display: &dyn Fn(&Path) -> String) -> Option<&Parsed> {
        if !self.read.contains_key(path) {
            // Only regular files of a sane size: an origin path is the build's word, not ours.
            let readable =
                std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_SOURCE_SIZE);
            let text = readable
                .then(|| std::fs::read_to_string(path).ok())
                .flatten();
            let parsed = text.map(|text| {
                let stream = crate::doc::yaml::parse(&text).unwrap_or_default();
                Parsed {
                    display: display(path),
                    documents: stream.documents,
                    positions: Arc::new(stream.positions),
                    text,
                }
            });
            if parsed.is_some() {
                self.order.push(path.to_path_buf());
            }
            self.read.insert(path.to_path_buf(), parsed);
        }
        self.read.get(path).and_then(Option::as_ref)
    }

    fn sources(&self) -> Vec<SourceFile> {
        self.order
            .iter()
            .filter_map(|p| self.read.get(p).and_then(Option::as_ref))
            .map(|p| SourceFile {
                path: p.display.clone(),
                text: p.text.clone(),
                comments: true,
            })
            .collect()
    }
}

fn str_at<'n>(node: &'n Node, path: &[&str]) -> Option<&'n str> {
    path.iter()
        .try_fold(node, |n, k| n.get(k))
        .and_then(Node::as_str)
}

/// The object among `documents` that a rendered object of this kind and name came from: the
/// one of the same kind and name, else the one whose name the rendered name contains (a name
/// prefix or suffix), else the only one of the kind.
fn find_object<'d>(documents: &'d [Node], kind: &str, name: Option<&str>) -> Option<&'d Node> {
    let same_kind: Vec<&Node> = documents
        .iter()
        .filter(|d| d.get("kind").and_then(Node::as_str) == Some(kind))
        .collect();
    fn named<'n>(d: &&'n Node) -> Option<&'n str> {
        str_at(d, &["metadata", "name"])
    }
    name.and_then(|n| {
        same_kind
            .iter()
            .find(|d| named(d) == Some(n))
            .or_else(|| {
                same_kind
                    .iter()
                    .filter(|d| named(d).is_some_and(|s| !s.is_empty() && n.contains(s)))
                    .max_by_key(|d| named(d).map_or(0, str::len))
            })
            .copied()
    })
    .or_else(|| (same_kind.len() == 1).then(|| same_kind[0]))
}

/// The rendered object as documents whose spans point into its source file (file 0) and the
/// patch files that set its values (files 1…).
fn place(
    object: &Node,
    source: &Path,
    patches: &[PathBuf],
    files: &mut Files,
    display: &dyn Fn(&Path) -> String,
    via: &Related,
) -> Vec<Document> {
    let kind = object
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or_default();
    let rendered_name = str_at(object, &["metadata", "name"]);
    let (shown, original, header, source_positions) = match files.get(source, display) {
        Some(p) => {
            let original = find_object(&p.documents, kind, rendered_name).cloned();
            let header = original
                .as_ref()
                .and_then(|o| o.as_map())
                .and_then(|m| m.iter().next().map(|(_, e)| e.key_span));
            (
                p.display.clone(),
                original,
                header,
                Some(p.positions.clone()),
            )
        }
        None => (display(source), None, None, None),
    };
    let source_name = original
        .as_ref()
        .and_then(|o| str_at(o, &["metadata", "name"]));
    let mut shown_files = vec![shown];
    let mut patch_nodes: Vec<(usize, Node)> = Vec::new();
    let mut patch_positions: Vec<Arc<Positions>> = Vec::new();
    for p in patches {
        let Some(parsed) = files.get(p, display) else {
            continue;
        };
        let matching: Vec<Node> = parsed
            .documents
            .iter()
            .filter(|d| d.get("kind").and_then(Node::as_str) == Some(kind))
            .filter(|d| {
                let n = str_at(d, &["metadata", "name"]);
                n.is_some() && (n == source_name || n == rendered_name)
            })
            .cloned()
            .collect();
        if matching.is_empty() {
            continue;
        }
        shown_files.push(parsed.display.clone());
        patch_positions.push(parsed.positions.clone());
        let index = patch_positions.len() - 1;
        patch_nodes.extend(matching.into_iter().map(|n| (index, n)));
    }
    // File 0 is the source file, files 1… the patch files, in `shown_files` order.
    let mut to = PositionsBuilder::new();
    let source_import = match &source_positions {
        Some(p) => Some(to.import(p)),
        None => {
            to.add_file();
            None
        }
    };
    let patch_imports: Vec<Import<'_>> = patch_positions.iter().map(|p| to.import(p)).collect();
    let header = match (header, source_import) {
        (Some(h), Some(i)) => i.span(&to, h),
        _ => to.span(0, Pos::new(1, 1), Pos::new(1, 1)),
    };
    let patch_refs: Vec<(Import<'_>, Option<&Node>)> = patch_nodes
        .iter()
        .map(|(i, n)| (patch_imports[*i], Some(n)))
        .collect();
    let moves = Moves {
        to: &to,
        source: source_import,
        header,
    };
    let placed = remap(object, original.as_ref(), &patch_refs, &moves);
    let positions = Arc::new(to.finish());
    let name = original.as_ref().and_then(kubernetes::name_of);
    kubernetes::INPUT
        .documents(
            Kind::Kubernetes,
            placed,
            String::new(),
            &TreeInfo::default(),
        )
        .into_iter()
        .map(|(rendered, root)| Document {
            kind: Kind::Kubernetes,
            root,
            name: name.clone().unwrap_or(rendered),
            files: shown_files.clone(),
            via: vec![via.clone()],
            positions: positions.clone(),
        })
        .collect()
}

/// Where the spans of a rendered object's source and patches read in its document (`to`),
/// and where a value set by a transformer is shown.
struct Moves<'a> {
    to: &'a PositionsBuilder,
    /// The source file's spans, when it was read.
    source: Option<Import<'a>>,
    /// The object's header line in its source file.
    header: Span,
}

/// Whether `written` is where `rendered` comes from: both maps, both lists, or the same scalar.
fn agrees(rendered: &Node, written: &Node) -> bool {
    match (&rendered.value, &written.value) {
        (Value::Map(_), Value::Map(_)) | (Value::List(_), Value::List(_)) => true,
        (Value::Map(_) | Value::List(_), _) | (_, Value::Map(_) | Value::List(_)) => false,
        _ => rendered.to_json() == written.to_json(),
    }
}

/// The item of `list` that a rendered list item stands for: the one of the same `name`, when
/// items have names; else the one at the same index.
fn counterpart<'n>(list: Option<&'n Node>, item: &Node, index: usize) -> Option<&'n Node> {
    let items = list?.as_list()?.items();
    match item.get("name").and_then(Node::as_str) {
        Some(name) => items
            .iter()
            .find(|i| i.get("name").and_then(Node::as_str) == Some(name)),
        None => items.get(index),
    }
}

/// `rendered` with every span moved to where its value is written (see the module docs).
fn remap(
    rendered: &Node,
    source: Option<&Node>,
    patches: &[(Import<'_>, Option<&Node>)],
    moves: &Moves<'_>,
) -> Node {
    let (to, header) = (moves.to, moves.header);
    let from_source = |s: Span| moves.source.map_or(header, |i| i.span(to, s));
    let span = match source.filter(|s| agrees(rendered, s)) {
        Some(s) => from_source(s.span),
        None => patches
            .iter()
            .find_map(|(i, p)| {
                p.filter(|p| agrees(rendered, p))
                    .map(|p| i.span(to, p.span))
            })
            .unwrap_or(header),
    };
    let value = match &rendered.value {
        Value::Map(m) => {
            let mut b = MapBuilder::new();
            for (k, e) in m.iter() {
                let child_source = source.and_then(|s| s.as_map()).and_then(|s| s.entry(k));
                let child_patches: Vec<(Import<'_>, Option<&Node>)> = patches
                    .iter()
                    .map(|(i, p)| (*i, p.and_then(|p| p.get(k))))
                    .collect();
                let key_span = match child_source.filter(|c| agrees(&e.value, &c.value)) {
                    Some(c) => from_source(c.key_span),
                    None => patches
                        .iter()
                        .find_map(|(i, p)| {
                            p.and_then(|p| p.as_map())
                                .and_then(|p| p.entry(k))
                                .filter(|c| agrees(&e.value, &c.value))
                                .map(|c| i.span(to, c.key_span))
                        })
                        .unwrap_or(header),
                };
                let value = remap(
                    &e.value,
                    child_source.map(|c| &c.value),
                    &child_patches,
                    moves,
                );
                b.insert(k.to_string(), key_span, value);
            }
            Value::Map(b.finish(span))
        }
        Value::List(l) => {
            let items = l
                .items()
                .iter()
                .enumerate()
                .map(|(j, item)| {
                    let s = counterpart(source, item, j);
                    let ps: Vec<(Import<'_>, Option<&Node>)> = patches
                        .iter()
                        .map(|(i, p)| (*i, counterpart(*p, item, j)))
                        .collect();
                    remap(item, s, &ps, moves)
                })
                .collect();
            Value::List(ListNode::new(items, span))
        }
        other => other.clone(),
    };
    Node::new(value, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Node> {
        crate::doc::yaml::parse(text).unwrap().documents
    }

    #[test]
    fn the_origin_annotation_is_read_and_removed() {
        let doc = parse("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../base/svc.yaml\n")
            .remove(0);
        let (origin, object) = strip_origin(doc).unwrap();
        assert_eq!(origin.path.as_deref(), Some("../base/svc.yaml"));
        assert!(object.get("metadata").unwrap().get("annotations").is_none());
        let doc = parse("kind: Service\nmetadata:\n  annotations:\n    a: b\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n")
            .remove(0);
        let (origin, object) = strip_origin(doc).unwrap();
        assert_eq!(origin.configured_in.as_deref(), Some("kustomization.yaml"));
        let ann = object.get("metadata").unwrap().get("annotations").unwrap();
        assert!(ann.get("a").is_some() && ann.get(ORIGIN).is_none());
    }

    #[test]
    fn values_are_placed_in_the_source_a_patch_or_the_header() {
        let source = crate::doc::yaml::parse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  image: a\n").unwrap();
        let patch = crate::doc::yaml::parse(
            "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
        )
        .unwrap();
        let rendered = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prod-web\nspec:\n  replicas: 3\n  image: a\n  extra: x\n")
            .remove(0);
        let mut to = PositionsBuilder::new();
        let from_source = to.import(&source.positions);
        let from_patch = to.import(&patch.positions);
        let header = to.span(0, Pos::new(1, 1), Pos::new(1, 11));
        let moves = Moves {
            to: &to,
            source: Some(from_source),
            header,
        };
        let placed = remap(
            &rendered,
            Some(&source.documents[0]),
            &[(from_patch, Some(&patch.documents[0]))],
            &moves,
        );
        let at = to.finish();
        let spec = placed.get("spec").unwrap();
        let image = spec.get("image").unwrap().span;
        assert_eq!((at.file(image), at.start(image)), (0, Pos::new(7, 10)));
        let replicas = spec.get("replicas").unwrap().span;
        assert_eq!((at.file(replicas), at.start(replicas).line), (1, 5));
        assert_eq!(spec.get("extra").unwrap().span, header);
        assert_eq!(
            placed.get("metadata").unwrap().get("name").unwrap().span,
            header
        );
    }
}
