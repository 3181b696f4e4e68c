//! Discovery: which files a scan reads. `.gitignore` is honoured (also outside git), excludes
//! are globs, named files always count, and oversized files and symlinks are skipped with a notice.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::inputs;
use crate::paths;

/// Default largest file read, in bytes (5 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// Something the scan did not read, or could not, said once so nothing is silently lost.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Notice {
    /// `warning` for skipped files, `error` for files that could not be handled.
    pub level: NoticeLevel,
    /// Display path.
    pub path: String,
    /// What happened.
    pub message: String,
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// For information (a file skipped on purpose).
    Note,
    /// Something the user probably wants to know (a file too big to read).
    Warning,
    /// A file could not be handled (unreadable, internal error).
    Error,
}

/// A file to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Path on disk.
    pub path: PathBuf,
    /// Display path.
    pub display: String,
}

/// How to walk.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// Glob patterns (relative to each scan root, and to the working directory) to leave out.
    pub excludes: Vec<String>,
    /// Largest file read.
    pub max_file_size: u64,
    /// `(from, to)`: a file under `from` is shown as the same path under `to` (the merge-base
    /// tree of `--new-since`, extracted elsewhere, shown under the repository's own names).
    pub display_as: Option<(PathBuf, PathBuf)>,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            excludes: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            display_as: None,
        }
    }
}

impl DiscoverOptions {
    /// How `path` is shown.
    pub fn display(&self, path: &Path) -> String {
        match &self.display_as {
            Some((from, to)) => match path.strip_prefix(from) {
                Ok(rest) => paths::display(&to.join(rest)),
                Err(_) => paths::display(path),
            },
            None => paths::display(path),
        }
    }
}

/// Why discovery could not start.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// An exclude pattern is not a valid glob.
    #[error("invalid exclude pattern '{pattern}': {source}")]
    Exclude {
        /// The pattern as written.
        pattern: String,
        /// globset's reason.
        #[source]
        source: globset::Error,
    },
    /// A scan root named on the command line cannot be read.
    #[error("cannot read '{}': {source}", .path.display())]
    Root {
        /// The root.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Builds the exclude matcher; a pattern `dir` also excludes everything below it.
pub fn exclude_set(patterns: &[String]) -> Result<GlobSet, DiscoverError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_end_matches('/');
        for variant in [p.to_string(), format!("{p}/**")] {
            b.add(
                Glob::new(&variant).map_err(|source| DiscoverError::Exclude {
                    pattern: p.to_string(),
                    source,
                })?,
            );
        }
    }
    b.build().map_err(|source| DiscoverError::Exclude {
        pattern: patterns.join(", "),
        source,
    })
}

/// The files to scan under `roots`, sorted by display path, and notices for those skipped.
pub fn discover(
    roots: &[PathBuf],
    opts: &DiscoverOptions,
) -> Result<(Vec<Candidate>, Vec<Notice>), DiscoverError> {
    let excludes = exclude_set(&opts.excludes)?;
    let mut files = Vec::new();
    let mut notices = Vec::new();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|source| DiscoverError::Root {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            // Named explicitly: read it whatever the excludes say, if it is a format we read.
            let display = opts.display(root);
            match inputs::claim(root) {
                Some(_) if !meta.file_type().is_file() => notices.push(not_regular(display)),
                Some(_) => {
                    if let Some(n) = size_notice(&display, meta.len(), opts.max_file_size) {
                        notices.push(n);
                    } else {
                        files.push(Candidate {
                            path: root.clone(),
                            display,
                        });
                    }
                }
                _ => notices.push(Notice {
                    level: NoticeLevel::Note,
                    path: display,
                    message: "not a file format isms-lint reads; skipped".into(),
                }),
            }
            continue;
        }
        walk(root, &excludes, opts, &mut files, &mut notices);
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    files.dedup_by(|a, b| a.display == b.display);
    notices.sort();
    notices.dedup();
    Ok((files, notices))
}

fn relative<'a>(root: &Path, p: &'a Path) -> &'a Path {
    p.strip_prefix(root).unwrap_or(p)
}

fn walk(
    root: &Path,
    excludes: &GlobSet,
    opts: &DiscoverOptions,
    files: &mut Vec<Candidate>,
    notices: &mut Vec<Notice>,
) {
    let root_owned = root.to_path_buf();
    let ex = excludes.clone();
    let shown = opts.clone();
    let walker = paths::walker(root)
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name() == ".git"
                || (e.file_type().is_some_and(|t| t.is_dir())
                    && inputs::is_managed_dir(e.file_name()))
            {
                return false;
            }
            let rel = relative(&root_owned, e.path());
            !ex.is_match(rel) && !ex.is_match(shown.display(e.path()))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                notices.push(Notice {
                    level: NoticeLevel::Warning,
                    path: opts.display(root),
                    message: format!("cannot walk: {err}"),
                });
                continue;
            }
        };
        let path = entry.path();
        let Some(ft) = entry.file_type() else {
            continue;
        };
        if ft.is_dir() {
            continue;
        }
        if inputs::claim(path).is_none() {
            continue;
        }
        let display = opts.display(path);
        if ft.is_symlink() {
            notices.push(Notice {
                level: NoticeLevel::Note,
                path: display,
                message: "symbolic link; skipped (scan its target instead)".into(),
            });
            continue;
        }
        if !ft.is_file() {
            notices.push(not_regular(display));
            continue;
        }
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some(n) = size_notice(&display, len, opts.max_file_size) {
            notices.push(n);
            continue;
        }
        files.push(Candidate {
            path: path.to_path_buf(),
            display,
        });
    }
}

/// A FIFO, socket or device: never opened (reading a FIFO would wait forever).
fn not_regular(display: String) -> Notice {
    Notice {
        level: NoticeLevel::Warning,
        path: display,
        message: "not a regular file (a FIFO, socket or device); skipped without opening it".into(),
    }
}

fn size_notice(display: &str, len: u64, max: u64) -> Option<Notice> {
    (len > max).then(|| Notice {
        level: NoticeLevel::Warning,
        path: display.to_string(),
        message: format!(
            "file is {:.1} MiB, over the {:.1} MiB limit; skipped",
            len as f64 / 1048576.0,
            max as f64 / 1048576.0
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn honours_gitignore_excludes_and_explicit_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("k8s")).unwrap();
        fs::create_dir_all(d.join("vendor")).unwrap();
        fs::create_dir_all(d.join(".github/workflows")).unwrap();
        fs::write(d.join("k8s/a.yaml"), "a: 1").unwrap();
        fs::write(d.join("k8s/ignored.yaml"), "a: 1").unwrap();
        fs::write(d.join("vendor/v.yaml"), "a: 1").unwrap();
        fs::write(d.join(".github/workflows/ci.yml"), "a: 1").unwrap();
        fs::write(d.join("notes.md"), "x").unwrap();
        fs::write(d.join(".gitignore"), "ignored.yaml\n").unwrap();
        let opts = DiscoverOptions {
            excludes: vec!["vendor".into()],
            ..Default::default()
        };
        let (files, _) = discover(&[d.to_path_buf()], &opts).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|c| relative(d, &c.path).to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [".github/workflows/ci.yml", "k8s/a.yaml"]);
        let (files, _) = discover(&[d.join("vendor/v.yaml")], &opts).unwrap();
        assert_eq!(files.len(), 1, "explicit files pass the excludes");
    }

    #[test]
    fn oversized_files_and_symlinks_get_notices() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("big.yaml"), "a: 1\n".repeat(100)).unwrap();
        fs::write(d.join("ok.yaml"), "a: 1\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("ok.yaml"), d.join("link.yaml")).unwrap();
        let opts = DiscoverOptions {
            excludes: vec![],
            max_file_size: 100,
            display_as: None,
        };
        let (files, notices) = discover(&[d.to_path_buf()], &opts).unwrap();
        assert_eq!(files.len(), 1);
        assert!(notices
            .iter()
            .any(|n| n.path.ends_with("big.yaml") && n.message.contains("limit")));
        #[cfg(unix)]
        assert!(notices
            .iter()
            .any(|n| n.path.ends_with("link.yaml") && n.message.contains("symbolic")));
    }
}
