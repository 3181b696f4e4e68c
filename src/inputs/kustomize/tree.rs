//! The kustomization trees of a scan: which kustomizations are roots (no other kustomization
//! found in the scan uses them as a base or component), and the files each tree reads as
//! resources or patches. Read statically from the kustomization files, without kustomize.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::{normalise, patch_paths, FILE_NAMES};
use crate::doc::Node;

/// A root kustomization and what its tree reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// The root's directory (absolute, normalised): what `kustomize build` is given.
    pub dir: PathBuf,
    /// Its kustomization file.
    pub file: PathBuf,
    /// Files the tree reads as resources or patches, in any of its kustomizations (absolute,
    /// normalised).
    pub members: BTreeSet<PathBuf>,
    /// The patch files among them, in tree order (a value a patch sets is shown there).
    pub patches: Vec<PathBuf>,
}

/// What a kustomization file says about its tree.
#[derive(Default)]
struct Kustomization {
    /// `kind: Component`: used by overlays, never built alone.
    component: bool,
    /// `resources`, `bases` and `components` entries, as written.
    uses: Vec<String>,
    /// Patch file paths, as written (see [`patch_paths`]).
    patches: Vec<String>,
}

/// The kustomization file of `dir`, in kustomize's order of names.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// Whether `path` is named as a kustomization file.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

fn read(dir: &Path) -> Option<Kustomization> {
    let text = std::fs::read_to_string(kustomization_file(dir)?).ok()?;
    let mut stream = crate::doc::yaml::parse(&text).ok()?;
    if stream.documents.is_empty() {
        return Some(Kustomization::default());
    }
    let root = stream.documents.remove(0);
    let mut uses = Vec::new();
    for field in ["resources", "bases", "components"] {
        if let Some(list) = root.get(field).and_then(Node::as_list) {
            uses.extend(
                list.items()
                    .iter()
                    .filter_map(Node::as_str)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    let mut patches = patch_paths(&root);
    if let Some(list) = root.get("patchesJson6902").and_then(Node::as_list) {
        patches.extend(
            list.items()
                .iter()
                .filter_map(|i| i.get("path").and_then(Node::as_str))
                .map(|s| s.trim().to_string()),
        );
    }
    Some(Kustomization {
        component: root.get("kind").and_then(Node::as_str) == Some("Component"),
        uses,
        patches,
    })
}

/// A local path a kustomization names (remote URLs are not local).
fn local(dir: &Path, entry: &str) -> Option<PathBuf> {
    (!entry.contains("://") && !entry.starts_with("git@") && !entry.starts_with("github.com/"))
        .then(|| normalise(&dir.join(entry)))
}

/// The root trees of the kustomization files found in a scan, in path order: every
/// kustomization directory that is neither used by another one found nor a component.
pub fn roots(kustomization_files: &[PathBuf]) -> Vec<Tree> {
    let dirs: BTreeSet<PathBuf> = kustomization_files
        .iter()
        .filter(|f| is_kustomization_file(f))
        .filter_map(|f| f.parent())
        .map(|d| {
            normalise(if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            })
        })
        .collect();
    let mut used = HashSet::new();
    let mut components = HashSet::new();
    for d in &dirs {
        let Some(k) = read(d) else { continue };
        if k.component {
            components.insert(d.clone());
        }
        for entry in &k.uses {
            if let Some(p) = local(d, entry).filter(|p| p.is_dir() && p != d) {
                used.insert(p);
            }
        }
    }
    dirs.into_iter()
        .filter(|d| !used.contains(d) && !components.contains(d))
        .filter_map(|dir| {
            let file = kustomization_file(&dir)?;
            let mut tree = Tree {
                dir: dir.clone(),
                file,
                ..Tree::default()
            };
            walk(&dir, &mut tree, &mut HashSet::new());
            Some(tree)
        })
        .collect()
}

/// Adds what the kustomization in `dir` and the ones it uses read.
fn walk(dir: &Path, tree: &mut Tree, seen: &mut HashSet<PathBuf>) {
    if !seen.insert(dir.to_path_buf()) {
        return;
    }
    let Some(k) = read(dir) else { return };
    for entry in &k.uses {
        let Some(p) = local(dir, entry) else { continue };
        if p.is_dir() {
            walk(&p, tree, seen);
        } else if p.is_file() {
            tree.members.insert(p);
        }
    }
    for entry in &k.patches {
        if let Some(p) = local(dir, entry).filter(|p| p.is_file()) {
            tree.members.insert(p.clone());
            if !tree.patches.contains(&p) {
                tree.patches.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_are_roots_and_read_their_bases_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = normalise(dir.path());
        let write = |p: &str, text: &str| {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
        write("base/deploy.yaml", "kind: Deployment\n");
        write("comp/kustomization.yaml", "kind: Component\n");
        write(
            "prod/kustomization.yaml",
            "resources: [../base, https://example.com/x.yaml]\ncomponents: [../comp]\npatches:\n  - path: p.yaml\n",
        );
        write("prod/p.yaml", "kind: Deployment\n");
        write("lone/kustomization.yml", "resources: [svc.yaml]\n");
        write("lone/svc.yaml", "kind: Service\n");
        let files: Vec<PathBuf> = [
            "base/kustomization.yaml",
            "comp/kustomization.yaml",
            "prod/kustomization.yaml",
            "lone/kustomization.yml",
            "base/deploy.yaml",
        ]
        .iter()
        .map(|p| root.join(p))
        .collect();
        let trees = roots(&files);
        let dirs: Vec<&Path> = trees.iter().map(|t| t.dir.as_path()).collect();
        assert_eq!(dirs, [root.join("lone"), root.join("prod")]);
        let prod = &trees[1];
        assert_eq!(
            prod.members.iter().cloned().collect::<Vec<_>>(),
            [root.join("base/deploy.yaml"), root.join("prod/p.yaml")]
        );
        assert_eq!(prod.patches, [root.join("prod/p.yaml")]);
        assert_eq!(prod.file, root.join("prod/kustomization.yaml"));
    }
}
