//! Git facts of the scanned tree, never of the working directory: which repository holds each
//! scan root, its commit, branch, dirty flag and name, and where refs are resolved. Every git
//! command isms-lint runs goes through here.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths;

/// Where and when the evidence was taken.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EvidenceMeta {
    /// Evidence date (`YYYY-MM-DD`): the commit date, or today outside git.
    pub date: String,
    /// Git commit, when in a repository.
    pub commit: Option<String>,
    /// Git branch, when known.
    pub branch: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
    /// Repository name: `GITHUB_REPOSITORY` when the scanned repository is the GitHub Actions
    /// workspace, else the `origin` remote's `owner/name`, else the top-level directory's name.
    pub repository: String,
    /// isms-lint version.
    pub tool_version: String,
    /// What the reader must know about where the evidence comes from (e.g. the scan root is
    /// not in a git repository, so no commit is recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A git repository, found from a scan root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// The top level as the user's paths spell it (absolute, `.`/`..` folded, symbolic links
    /// kept), so display paths and SARIF URIs can be made relative to it.
    pub top: PathBuf,
    /// The top level as git reports it (symbolic links resolved): the repository's identity.
    pub canonical: PathBuf,
}

/// One scan root and where it lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// The root as given, absolute and normalised.
    pub path: PathBuf,
    /// The repository holding it, if any.
    pub repo: Option<Repo>,
    /// Its path inside the repository (empty at the top level; the file name for a file).
    pub inside: PathBuf,
    /// Why it is not in a repository, when it is not.
    pub outside_reason: Option<String>,
}

/// What the scan roots have in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tree {
    /// Every root lies in this repository.
    Repo(Repo),
    /// No root lies in a git repository; `dir` is the deepest directory holding them all.
    Outside {
        /// The directory standing for the scanned tree.
        dir: PathBuf,
        /// Why there is no repository (e.g. "'/x' is not inside a git repository").
        reason: String,
    },
}

impl Tree {
    /// The directory the scanned tree starts at: the repository's top level, or `dir`.
    pub fn dir(&self) -> &Path {
        match self {
            Tree::Repo(r) => &r.top,
            Tree::Outside { dir, .. } => dir,
        }
    }
}

/// The scan roots, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The repository (or plain directory) they share.
    pub tree: Tree,
    /// Each root.
    pub roots: Vec<Root>,
}

/// A `git` command that ignores `GIT_DIR`, `GIT_WORK_TREE` and `GIT_INDEX_FILE` (set inside git
/// hooks: they would point git at the hook's repository instead of the scanned one) and takes
/// no optional locks (isms-lint only reads).
fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_OPTIONAL_LOCKS", "0");
    c
}

/// What went wrong asking git about the scanned tree.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started (not installed, not on `PATH`).
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    /// git ran and refused; its own message.
    #[error("{0}")]
    Failed(String),
    /// A scan root could not be read.
    #[error("cannot read '{path}': {source}")]
    Unreadable {
        /// The root, as shown.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The scan roots lie in different repositories (or some outside any): one Statement of
    /// Applicability is about one repository.
    #[error(
        "the scan roots lie in different repositories: '{first}' is {first_place}, '{other}' is \
         {other_place}; run once per repository and combine the bundles with `isms-lint evidence merge`"
    )]
    MixedRoots {
        /// The first root.
        first: String,
        /// Where it lies.
        first_place: String,
        /// A root elsewhere.
        other: String,
        /// Where that one lies.
        other_place: String,
    },
}

/// Runs git in `dir`; stdout (trimmed of the final newline) or git's error message.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let mut s = String::from_utf8_lossy(&run_bytes(dir, args)?).into_owned();
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    Ok(s)
}

/// Runs git in `dir` and returns its raw stdout bytes.
pub fn run_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = git_command(dir)
        .args(args)
        .output()
        .map_err(GitError::Spawn)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(GitError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// `path` made absolute against the working directory, `.`/`..` folded (no file system access).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        paths::normalize(path)
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        paths::normalize(&cwd.join(path))
    }
}

/// Finds the repository holding `path` (a file or a directory).
pub fn locate(path: &Path) -> Result<Root, GitError> {
    let meta = std::fs::metadata(path).map_err(|source| GitError::Unreadable {
        path: paths::display(path),
        source,
    })?;
    let abs = absolute(path);
    let (dir, file) = if meta.is_dir() {
        (abs.clone(), None)
    } else {
        let parent = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        (parent, abs.file_name().map(PathBuf::from))
    };
    match run(
        &dir,
        &[
            "rev-parse",
            "--show-toplevel",
            "--show-cdup",
            "--show-prefix",
        ],
    ) {
        Ok(out) => {
            let mut lines = out.split('\n');
            let canonical = PathBuf::from(lines.next().unwrap_or_default());
            let cdup = lines.next().unwrap_or_default();
            let prefix = lines.next().unwrap_or_default();
            let top = paths::normalize(&dir.join(cdup));
            let mut inside = PathBuf::from(prefix.trim_end_matches('/'));
            if let Some(f) = file {
                inside.push(f);
            }
            Ok(Root {
                path: abs,
                repo: Some(Repo { top, canonical }),
                inside,
                outside_reason: None,
            })
        }
        Err(e) => {
            let reason = if e.to_string().contains("not a git repository") {
                format!("'{}' is not inside a git repository", paths::display(&abs))
            } else {
                format!("git cannot read '{}': {e}", paths::display(&abs))
            };
            Ok(Root {
                path: abs,
                repo: None,
                inside: PathBuf::new(),
                outside_reason: Some(reason),
            })
        }
    }
}

/// The roots a scan of `paths` starts from (`.` when none is given).
pub fn roots_of(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// The deepest directory holding every one of `dirs` (absolute, normalised).
fn common_ancestor(dirs: &[PathBuf]) -> PathBuf {
    let mut common = match dirs.first() {
        Some(d) => d.clone(),
        None => return PathBuf::from("/"),
    };
    for d in &dirs[1..] {
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

fn dir_of(root: &Root) -> PathBuf {
    if root.path.is_dir() {
        root.path.clone()
    } else {
        root.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Locates every scan root; an error when they lie in different repositories, or some in a
/// repository and some outside any (one Statement of Applicability is about one repository).
pub fn scope(paths: &[PathBuf]) -> Result<Scope, GitError> {
    let roots = roots_of(paths)
        .iter()
        .map(|p| locate(p))
        .collect::<Result<Vec<Root>, GitError>>()?;
    let first = &roots[0];
    for other in &roots[1..] {
        let same = match (&first.repo, &other.repo) {
            (Some(a), Some(b)) => a.canonical == b.canonical,
            (None, None) => true,
            _ => false,
        };
        if !same {
            let place = |r: &Root| match &r.repo {
                Some(repo) => format!("in the repository at '{}'", paths::display(&repo.top)),
                None => "outside any git repository".to_string(),
            };
            return Err(GitError::MixedRoots {
                first: paths::display(&first.path),
                first_place: place(first),
                other: paths::display(&other.path),
                other_place: place(other),
            });
        }
    }
    let tree = match &first.repo {
        Some(repo) => Tree::Repo(repo.clone()),
        None => {
            let dirs: Vec<PathBuf> = roots.iter().map(dir_of).collect();
            Tree::Outside {
                dir: common_ancestor(&dirs),
                reason: first.outside_reason.clone().unwrap_or_default(),
            }
        }
    };
    Ok(Scope { tree, roots })
}

/// The directory report URIs are relative to: the repository holding every root, or else the
/// deepest directory holding them all. One git call, on that common directory.
pub fn report_root(paths: &[PathBuf]) -> PathBuf {
    let dirs: Vec<PathBuf> = roots_of(paths)
        .iter()
        .map(|p| {
            let abs = absolute(p);
            if abs.is_dir() {
                abs
            } else {
                abs.parent().map(Path::to_path_buf).unwrap_or(abs)
            }
        })
        .collect();
    let common = common_ancestor(&dirs);
    match locate(&common) {
        Ok(Root {
            repo: Some(repo), ..
        }) => repo.top,
        _ => common,
    }
}

/// `owner/name` from a remote URL (`https://host/owner/name.git`, `git@host:owner/name.git`,
/// `ssh://git@host/owner/name`); `None` for local paths. Credentials never survive.
pub fn remote_name(url: &str) -> Option<String> {
    let url = url.trim();
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/').map(|(_, p)| p)?
    } else if let Some((host, p)) = url.split_once(':') {
        // scp-like `user@host:owner/name`; a Windows drive (`C:`) or a local path is not.
        if host.contains('/') || host.len() <= 1 {
            return None;
        }
        p
    } else {
        return None;
    };
    let parts: Vec<&str> = path
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match parts.as_slice() {
        [] => None,
        [name] => Some((*name).to_string()),
        [.., owner, name] => Some(format!("{owner}/{name}")),
    }
}

/// Whether the tree is what GitHub Actions checked out (`GITHUB_WORKSPACE`), the only case
/// where `GITHUB_REPOSITORY` names what is scanned: a repository whose top level is the
/// workspace (a repository checked out into a subdirectory is another one), or a tree outside
/// git that lies in the workspace.
fn is_github_workspace(tree: &Tree) -> bool {
    let Some(ws) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) else {
        return false;
    };
    let (Ok(ws), Ok(dir)) = (std::fs::canonicalize(ws), std::fs::canonicalize(tree.dir())) else {
        return false;
    };
    match tree {
        Tree::Repo(_) => dir == ws,
        Tree::Outside { .. } => dir.starts_with(&ws),
    }
}

/// The repository's name: `GITHUB_REPOSITORY` when the tree is the GitHub Actions workspace,
/// else the `owner/name` of the `origin` remote, else the directory name.
pub fn repository_name(tree: &Tree) -> String {
    if is_github_workspace(tree)
        && let Some(r) = std::env::var("GITHUB_REPOSITORY")
            .ok()
            .filter(|r| !r.is_empty())
    {
        return r;
    }
    if let Tree::Repo(repo) = tree
        && let Some(name) = run(&repo.top, &["config", "--get", "remote.origin.url"])
            .ok()
            .and_then(|u| remote_name(&u))
    {
        return name;
    }
    tree.dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether the work tree differs from `HEAD`: changed, staged, deleted or untracked files
/// (untracked files are scanned too); ignored files and anything under `skip` (the bundle
/// being written) do not count.
pub fn is_dirty(repo: &Repo, skip: Option<&Path>) -> Result<bool, GitError> {
    let skip = skip.and_then(|s| {
        absolute(s)
            .strip_prefix(&repo.top)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    });
    let out = run_bytes(
        &repo.top,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=none",
        ],
    )?;
    let text = String::from_utf8_lossy(&out);
    let mut entries = text.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let (status, path) = entry.split_at(entry.len().min(3));
        if status.starts_with('R') || status.starts_with('C') {
            entries.next(); // the original path of a rename or copy
        }
        let skipped = skip
            .as_deref()
            .is_some_and(|s| !s.is_empty() && (path == s || path.starts_with(&format!("{s}/"))));
        if !skipped {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Where the evidence of a scan comes from.
#[derive(Clone, Debug)]
pub struct Source {
    /// Repository, commit, branch, dirty flag, date, note.
    pub meta: EvidenceMeta,
    /// The scanned repository's top level (or the scanned directory outside git): SARIF URIs
    /// are relative to it.
    pub root: PathBuf,
}

/// Where and when the evidence of a scan of `paths` was taken: the repository holding the scan
/// roots, its `HEAD` commit and commit date, branch, and dirty flag (ignoring `skip`, the
/// output being written). Outside git: no commit, today's date and a note saying so. Roots in
/// different repositories are an error.
pub fn evidence_source(paths: &[PathBuf], skip: Option<&Path>) -> Result<Source, GitError> {
    let scope = scope(paths)?;
    let repository = repository_name(&scope.tree);
    let today = crate::config::today().to_string();
    let mut meta = EvidenceMeta {
        date: today.clone(),
        repository,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..EvidenceMeta::default()
    };
    match &scope.tree {
        Tree::Outside { reason, .. } => {
            meta.note = Some(format!("{reason}: no commit is recorded"));
        }
        Tree::Repo(repo) => {
            meta.commit = run(&repo.top, &["rev-parse", "--verify", "--quiet", "HEAD"]).ok();
            match &meta.commit {
                Some(_) => {
                    meta.date =
                        run(&repo.top, &["show", "-s", "--format=%cs", "HEAD"]).unwrap_or(today);
                }
                None => {
                    meta.note = Some(format!(
                        "the repository at '{}' has no commit yet",
                        paths::display(&repo.top)
                    ));
                }
            }
            meta.branch = run(&repo.top, &["symbolic-ref", "--quiet", "--short", "HEAD"]).ok();
            meta.dirty = is_dirty(repo, skip)?;
        }
    }
    Ok(Source {
        meta,
        root: scope.tree.dir().to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_names_keep_owner_and_name_only() {
        let cases = [
            (
                "https://github.com/acme/payments.git",
                Some("acme/payments"),
            ),
            (
                "https://user:t0ken@github.com/acme/payments",
                Some("acme/payments"),
            ),
            ("git@github.com:acme/payments.git", Some("acme/payments")),
            (
                "ssh://git@gitlab.example/group/sub/api.git/",
                Some("sub/api"),
            ),
            ("/srv/git/payments.git", None),
            ("../upstream", None),
            ("C:/repos/x", None),
        ];
        for (url, want) in cases {
            assert_eq!(remote_name(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn common_ancestor_of_dirs() {
        let d = |s: &str| PathBuf::from(s);
        assert_eq!(common_ancestor(&[d("/a/b/c"), d("/a/b/d/e")]), d("/a/b"));
        assert_eq!(common_ancestor(&[d("/a/b")]), d("/a/b"));
        assert_eq!(common_ancestor(&[d("/a/b"), d("/x")]), d("/"));
    }
}
