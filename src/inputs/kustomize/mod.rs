//! Kustomize, as far as judging Kubernetes files needs it: which files a `kustomization.yaml`
//! lists as patches (`patches[].path`, `patchesStrategicMerge`). Such a file sets some values of
//! an object its base defines, so it is a partial document (see
//! [`super::Input::partial`]). A kustomization is looked for in the file's directory and up to
//! [`LEVELS`] directories above it, which covers patches next to or below their overlay.
//!
//! With `--render-kustomize`, each kustomization tree the scan found is also built by
//! `kustomize` (or `kubectl kustomize`) and its output judged at the resources' source files
//! ([`render`]).

mod build;
pub mod render;
pub mod tree;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::doc::Node;

/// File names kustomize reads, in its order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// How many directories above a file are searched for a kustomization that lists it.
pub const LEVELS: usize = 4;

/// The patch files a kustomization in `dir` lists (resolved, normalised), cached per directory.
fn patches_in(dir: &Path) -> Arc<Vec<PathBuf>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<PathBuf>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(dir).cloned()) {
        return hit;
    }
    let found = Arc::new(read_patches(dir));
    if let Ok(mut c) = cache.lock() {
        c.insert(dir.to_path_buf(), found.clone());
    }
    found
}

fn read_patches(dir: &Path) -> Vec<PathBuf> {
    let Some(text) = FILE_NAMES
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
    else {
        return Vec::new();
    };
    let Ok(mut stream) = crate::doc::yaml::parse(&text) else {
        return Vec::new();
    };
    if stream.documents.is_empty() {
        return Vec::new();
    }
    patch_paths(&stream.documents.remove(0))
        .into_iter()
        .map(|p| normalise(&dir.join(p)))
        .collect()
}

/// The relative paths a kustomization lists as patch files (inline patches are not files).
pub fn patch_paths(kustomization: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for field in ["patches", "patchesStrategicMerge"] {
        let Some(list) = kustomization.get(field).and_then(Node::as_list) else {
            continue;
        };
        for item in list.items() {
            let path = item
                .as_str()
                .or_else(|| item.get("path").and_then(Node::as_str));
            if let Some(p) = path.filter(|p| !p.contains('\n') && !p.trim().is_empty()) {
                out.push(p.trim().to_string());
            }
        }
    }
    out
}

/// `a/./b/../c` → `a/c`, without touching the file system; absolute when it can be made so.
pub(crate) fn normalise(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The kustomization that lists `file` as a patch, if any (its path, for messages).
pub fn listing_kustomization(file: &Path) -> Option<PathBuf> {
    let file = normalise(file);
    file.ancestors()
        .skip(1)
        .take(LEVELS + 1)
        .find(|dir| patches_in(dir).contains(&file))
        .map(|dir| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_of_both_spellings() {
        let k = crate::doc::yaml::parse(
            "resources: [../base]\npatches:\n  - path: deploy-patch.yaml\n  - patch: |-\n      - op: add\n        path: /x\n    target: {kind: Deployment}\n  - target: {kind: Service}\n    path: overlays/svc.yaml\npatchesStrategicMerge:\n  - cm.yaml\n",
        )
        .unwrap()
        .documents
        .remove(0);
        assert_eq!(
            patch_paths(&k),
            ["deploy-patch.yaml", "overlays/svc.yaml", "cm.yaml"]
        );
        assert_eq!(
            normalise(Path::new("/a/./b/../c.yaml")),
            PathBuf::from("/a/c.yaml")
        );
    }
}
