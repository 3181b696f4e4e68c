//! The repository itself, read as one document from the scan root when it is a repository
//! root: the facts a reviewer checks by hand ([`facts`]). A directory-shaped input, scanned in
//! parallel and panic-guarded like every other unit.

pub mod facts;

use std::path::Path;

use super::{Input, Kind, Read, Source};

/// The repository.
pub struct Repository;

/// The one instance the registry lists.
pub static INPUT: Repository = Repository;

impl Input for Repository {
    fn name(&self) -> &'static str {
        "repository"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Repository]
    }

    fn claims_root(&self, dir: &Path) -> bool {
        facts::is_repository_root(dir)
    }

    fn repo_facts(&self) -> bool {
        true
    }

    fn read(&self, source: &Source<'_>) -> Read {
        let Source::Directory {
            path,
            display,
            excludes,
        } = source
        else {
            return Read::default();
        };
        let shown = |rel: &str| display(&path.join(rel));
        Read {
            documents: facts::document(path, excludes, &shown)
                .into_iter()
                .collect(),
            ..Read::default()
        }
    }
}
