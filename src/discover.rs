//! Discovery: which files a scan reads. `.gitignore` is honoured (also outside git) unless
//! `--no-ignore`, excludes are globs that also apply to files named on the command line (what pre-commit and
//! editors pass; `--force-exclude` semantics, always on), the config's `kinds:` give odd
//! names a kind, and everything not read is counted ([`Skipped`]): ignored files by the ignore
//! file responsible, excluded ones, files of no known kind, non-regular and oversized files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::inputs::{self, Kind};
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
    /// The kind given by `--kind` or the config's `kinds:` (read as that kind whatever its name).
    pub kind: Option<Kind>,
}

/// Files a scan did not read, counted, so nothing is skipped silently.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Files of a kind isms-lint reads that an ignore file (`.gitignore`, `.ignore`,
    /// `.git/info/exclude`) left out, by that ignore file's display path.
    pub ignored: BTreeMap<String, usize>,
    /// Files of a kind isms-lint reads that `--exclude` or the config's `exclude` left out.
    pub excluded: usize,
    /// Files no input reads (and no `kinds:` pattern names).
    pub unknown_kind: usize,
    /// FIFOs, sockets and devices, never opened.
    pub not_regular: usize,
    /// Symbolic links, not followed.
    pub symlinks: usize,
    /// Files over the size limit.
    pub oversized: usize,
}

impl Skipped {
    /// Files ignored by any ignore file.
    pub fn ignored_total(&self) -> usize {
        self.ignored.values().sum()
    }

    /// Whether nothing was skipped.
    pub fn is_empty(&self) -> bool {
        *self == Skipped::default()
    }

    /// The counts in words (`12 files ignored by ../.gitignore, 3 of no known kind`), empty
    /// when nothing was skipped.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .ignored
            .iter()
            .map(|(f, n)| format!("{n} file{} ignored by {f}", plural(*n)))
            .collect();
        for (n, what) in [
            (self.excluded, "excluded"),
            (self.unknown_kind, "of no known kind"),
            (self.not_regular, "not regular (FIFO, socket, device)"),
            (self.symlinks, "symbolic links"),
            (self.oversized, "over the size limit"),
        ] {
            if n > 0 {
                parts.push(if parts.is_empty() {
                    format!("{n} file{} {what}", plural(n))
                } else {
                    format!("{n} {what}")
                });
            }
        }
        parts.join(", ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What discovery found: the files to read, notices, and what it skipped.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The files to scan, sorted by display path.
    pub files: Vec<Candidate>,
    /// Notices for the files skipped (one per file, plus one per ignore file).
    pub notices: Vec<Notice>,
    /// The counts of what was not read.
    pub skipped: Skipped,
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
    /// Read files that `.gitignore`, `.ignore` and `.git/info/exclude` leave out (`--no-ignore`).
    pub no_ignore: bool,
    /// `(glob, kind)`: files matching the glob are read as the kind (the config's `kinds:`).
    pub kinds: Vec<(String, Kind)>,
    /// Every file named or found is read as this kind (`--kind`).
    pub kind: Option<Kind>,
    /// Globs of isms-lint's own output (the evidence bundle being written, earlier bundles):
    /// never read and, unlike `excludes`, not counted as skipped, so a second run is identical.
    pub own_output: Vec<String>,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            excludes: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            display_as: None,
            no_ignore: false,
            kinds: Vec::new(),
            kind: None,
            own_output: Vec::new(),
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
    /// A `kinds:` pattern of the config is not a valid glob.
    #[error("invalid kinds pattern '{pattern}': {source}")]
    Kinds {
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

/// The `kinds:` globs, compiled, with their kinds in the same order.
struct KindMap {
    set: GlobSet,
    kinds: Vec<Kind>,
}

impl KindMap {
    fn new(pairs: &[(String, Kind)]) -> Result<KindMap, DiscoverError> {
        let mut b = GlobSetBuilder::new();
        for (glob, _) in pairs {
            b.add(Glob::new(glob).map_err(|source| DiscoverError::Kinds {
                pattern: glob.clone(),
                source,
            })?);
        }
        Ok(KindMap {
            set: b.build().map_err(|source| DiscoverError::Kinds {
                pattern: pairs
                    .iter()
                    .map(|(g, _)| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source,
            })?,
            kinds: pairs.iter().map(|(_, k)| *k).collect(),
        })
    }

    /// The kind of the first pattern matching `rel` or `display`.
    fn kind(&self, rel: &Path, display: &str) -> Option<Kind> {
        let mut hits = self.set.matches(rel);
        hits.extend(self.set.matches(display));
        hits.into_iter().min().map(|i| self.kinds[i])
    }
}

/// The kind a file is read as when its name alone does not say: `--kind`, else the first
/// matching `kinds:` pattern.
fn forced_kind(opts: &DiscoverOptions, map: &KindMap, rel: &Path, display: &str) -> Option<Kind> {
    opts.kind.or_else(|| map.kind(rel, display))
}

/// The files to scan under `roots`, sorted by display path, notices for those skipped, and
/// the counts of everything not read.
pub fn discover(roots: &[PathBuf], opts: &DiscoverOptions) -> Result<Discovered, DiscoverError> {
    let mut all_excludes = opts.excludes.clone();
    all_excludes.extend(opts.own_output.iter().cloned());
    let excludes = exclude_set(&all_excludes)?;
    let own = exclude_set(&opts.own_output)?;
    let kinds = KindMap::new(&opts.kinds)?;
    let mut out = Discovered::default();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|source| DiscoverError::Root {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            // Named explicitly: excluded paths stay excluded (a note says so); otherwise read it
            // if it is a format we read, whatever .gitignore says.
            let display = opts.display(root);
            if excludes.is_match(&display) || excludes.is_match(paths::normalize(root)) {
                out.skipped.excluded += 1;
                out.notices.push(Notice {
                    level: NoticeLevel::Note,
                    path: display,
                    message: "matches an `exclude` pattern; not scanned".into(),
                });
                continue;
            }
            let kind = forced_kind(opts, &kinds, root, &display);
            let readable = kind.is_some() || inputs::claim(root).is_some();
            if readable && !meta.file_type().is_file() {
                out.skipped.not_regular += 1;
                out.notices.push(not_regular(display));
            } else if readable {
                if let Some(n) = size_notice(&display, meta.len(), opts.max_file_size) {
                    out.skipped.oversized += 1;
                    out.notices.push(n);
                } else {
                    out.files.push(Candidate {
                        path: root.clone(),
                        display,
                        kind,
                    });
                }
            } else {
                out.skipped.unknown_kind += 1;
                out.notices.push(Notice {
                    level: NoticeLevel::Note,
                    path: display,
                    message: "not a file format isms-lint reads; skipped (give it one with --kind or the config's kinds:)".into(),
                });
            }
            continue;
        }
        walk(root, &excludes, &own, &kinds, opts, &mut out);
    }
    for (file, n) in &out.skipped.ignored {
        out.notices.push(Notice {
            level: NoticeLevel::Note,
            path: file.clone(),
            message: format!(
                "{n} file{} of a kind isms-lint reads ignored by this file; not scanned (--no-ignore scans them)",
                plural(*n)
            ),
        });
    }
    out.files.sort_by(|a, b| a.display.cmp(&b.display));
    out.files.dedup_by(|a, b| a.display == b.display);
    out.notices.sort();
    out.notices.dedup();
    Ok(out)
}

fn relative<'a>(root: &Path, p: &'a Path) -> &'a Path {
    p.strip_prefix(root).unwrap_or(p)
}

fn walk(
    root: &Path,
    excludes: &GlobSet,
    own: &GlobSet,
    kinds: &KindMap,
    opts: &DiscoverOptions,
    out: &mut Discovered,
) {
    let root_owned = root.to_path_buf();
    let ex = excludes.clone();
    let shown = opts.clone();
    let mut walker = paths::walker(root);
    walker
        .standard_filters(false)
        .hidden(false)
        .git_ignore(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
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
        });
    // The walk without filters that counts what this one leaves out runs beside it.
    std::thread::scope(|threads| {
        let unfiltered = (!opts.no_ignore || !opts.excludes.is_empty())
            .then(|| threads.spawn(|| readable_unfiltered(root, own, kinds, opts)));
        let seen = walk_filtered(&mut walker, root, kinds, opts, out);
        if let Some(unfiltered) = unfiltered {
            let readable = unfiltered
                .join()
                .expect("the unfiltered walk does not panic");
            count_left_out(root, excludes, opts, &seen, readable, &mut out.skipped);
        }
    });
}

/// What the filtered walk met at one entry that is not a directory.
enum Met {
    /// A file, with what becomes of it.
    File(PathBuf, Fate),
    /// Somewhere the walk could not go on.
    Error(String),
}

/// What becomes of a file the filtered walk sees.
enum Fate {
    /// Read, as this candidate.
    Read(Candidate),
    /// Not of a kind isms-lint reads (counted unless a symbolic link).
    UnknownKind { symlink: bool },
    /// A symbolic link to a kind isms-lint reads: skipped with a note.
    Symlink(String),
    /// Neither a file nor a directory.
    NotRegular(String),
    /// Larger than the largest file read.
    Oversized(Notice),
}

/// Runs `walker` on the threads of the pool and returns what `visit` makes of its entries,
/// in no particular order (callers sort).
fn walk_parallel<T: Send>(
    walker: &mut ignore::WalkBuilder,
    visit: impl Fn(Result<ignore::DirEntry, ignore::Error>) -> Option<T> + Sync,
) -> Vec<T> {
    let found = std::sync::Mutex::new(Vec::new());
    walker
        .threads(rayon::current_num_threads())
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                if let Some(t) = visit(entry) {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(t);
                }
                ignore::WalkState::Continue
            })
        });
    found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the filtered walk: adds the files to scan and what is skipped among the files it sees
/// (which it returns) to `out`.
fn walk_filtered(
    walker: &mut ignore::WalkBuilder,
    root: &Path,
    kinds: &KindMap,
    opts: &DiscoverOptions,
    out: &mut Discovered,
) -> HashSet<PathBuf> {
    let met = walk_parallel(walker, |entry| {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => return Some(Met::Error(format!("cannot walk: {err}"))),
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            return None;
        }
        let path = entry.path();
        let display = opts.display(path);
        let kind = forced_kind(opts, kinds, relative(root, path), &display);
        let fate = if kind.is_none() && inputs::claim(path).is_none() {
            Fate::UnknownKind {
                symlink: ft.is_symlink(),
            }
        } else if ft.is_symlink() {
            Fate::Symlink(display)
        } else if !ft.is_file() {
            Fate::NotRegular(display)
        } else {
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            match size_notice(&display, len, opts.max_file_size) {
                Some(n) => Fate::Oversized(n),
                None => Fate::Read(Candidate {
                    path: path.to_path_buf(),
                    display,
                    kind,
                }),
            }
        };
        Some(Met::File(entry.into_path(), fate))
    });
    let mut seen: HashSet<PathBuf> = HashSet::with_capacity(met.len());
    let skipped = &mut out.skipped;
    for m in met {
        let (path, fate) = match m {
            Met::File(path, fate) => (path, fate),
            Met::Error(message) => {
                out.notices.push(Notice {
                    level: NoticeLevel::Warning,
                    path: opts.display(root),
                    message,
                });
                continue;
            }
        };
        seen.insert(path);
        match fate {
            Fate::Read(c) => out.files.push(c),
            Fate::UnknownKind { symlink } => skipped.unknown_kind += usize::from(!symlink),
            Fate::Symlink(display) => {
                skipped.symlinks += 1;
                out.notices.push(Notice {
                    level: NoticeLevel::Note,
                    path: display,
                    message: "symbolic link; skipped (scan its target instead)".into(),
                });
            }
            Fate::NotRegular(display) => {
                skipped.not_regular += 1;
                out.notices.push(not_regular(display));
            }
            Fate::Oversized(n) => {
                skipped.oversized += 1;
                out.notices.push(n);
            }
        }
    }
    seen
}

/// Walks `root` with no ignore file and no exclude (only isms-lint's own output left out),
/// and lists the files of a kind isms-lint reads. Not needed with `--no-ignore` and no
/// exclude: nothing but isms-lint's own output is left out then, and that is not counted.
fn readable_unfiltered(
    root: &Path,
    own: &GlobSet,
    kinds: &KindMap,
    opts: &DiscoverOptions,
) -> Vec<PathBuf> {
    let root_owned = root.to_path_buf();
    let own = own.clone();
    let shown = opts.clone();
    let mut all = paths::walker(root);
    all.standard_filters(false)
        .hidden(false)
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let rel = relative(&root_owned, e.path());
            e.file_name() != ".git" && !own.is_match(rel) && !own.is_match(shown.display(e.path()))
        });
    walk_parallel(&mut all, |entry| {
        let entry = entry.ok()?;
        if entry.file_type().is_none_or(|t| t.is_dir()) {
            return None;
        }
        let path = entry.path();
        let display = opts.display(path);
        let rel = relative(root, path);
        let readable = opts.kind.is_some()
            || kinds.kind(rel, &display).is_some()
            || inputs::claim(path).is_some();
        readable.then(|| entry.into_path())
    })
}

/// Counts the files of `readable` (every readable file under `root`) the filtered walk did not
/// see: excluded ones, and ignored ones by the ignore file responsible.
fn count_left_out(
    root: &Path,
    excludes: &GlobSet,
    opts: &DiscoverOptions,
    seen: &HashSet<PathBuf>,
    readable: Vec<PathBuf>,
    skipped: &mut Skipped,
) {
    let mut matchers = IgnoreFiles::default();
    for path in readable {
        if seen.contains(&path) {
            continue;
        }
        let path = path.as_path();
        let display = opts.display(path);
        let rel = relative(root, path);
        if excludes.is_match(rel) || excludes.is_match(&display) {
            skipped.excluded += 1;
        } else {
            let by = matchers
                .responsible(path)
                .map(|f| paths::display_relative(&f))
                .unwrap_or_else(|| "an ignore file".to_string());
            *skipped.ignored.entry(by).or_default() += 1;
        }
    }
}

/// Ignore files read once each, to name the one that ignored a file.
#[derive(Default)]
struct IgnoreFiles {
    cache: HashMap<PathBuf, Option<ignore::gitignore::Gitignore>>,
}

impl IgnoreFiles {
    fn matcher(&mut self, dir: &Path, file: &Path) -> Option<&ignore::gitignore::Gitignore> {
        self.cache
            .entry(file.to_path_buf())
            .or_insert_with(|| {
                file.is_file().then(|| {
                    let mut b = ignore::gitignore::GitignoreBuilder::new(dir);
                    let _ = b.add(file);
                    b.build().ok()
                })?
            })
            .as_ref()
    }

    /// The ignore file whose rule leaves `path` out: the deepest directory's decides, and in
    /// one directory `.ignore` before `.gitignore` before `.git/info/exclude`, as the walker
    /// applies them.
    fn responsible(&mut self, path: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(path).ok()?;
        let abs = paths::normalize(&abs);
        for dir in abs.ancestors().skip(1) {
            let candidates = [
                dir.join(".ignore"),
                dir.join(".gitignore"),
                dir.join(".git/info/exclude"),
            ];
            for file in candidates {
                let Some(m) = self.matcher(dir, &file) else {
                    continue;
                };
                match m.matched_path_or_any_parents(&abs, false) {
                    ignore::Match::Ignore(_) => return Some(file),
                    ignore::Match::Whitelist(_) => return None,
                    ignore::Match::None => {}
                }
            }
        }
        None
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
        let Discovered { files, skipped, .. } = discover(&[d.to_path_buf()], &opts).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|c| relative(d, &c.path).to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [".github/workflows/ci.yml", "k8s/a.yaml"]);
        assert_eq!(skipped.excluded, 1, "vendor/v.yaml");
        assert_eq!(skipped.unknown_kind, 2, "notes.md and .gitignore");
        let by: Vec<_> = skipped.ignored.values().copied().collect();
        assert_eq!(by, [1], "{skipped:?}");
        assert!(skipped
            .ignored
            .keys()
            .next()
            .unwrap()
            .ends_with(".gitignore"));
        let no_ignore = DiscoverOptions {
            no_ignore: true,
            ..opts.clone()
        };
        let all = discover(&[d.to_path_buf()], &no_ignore).unwrap();
        assert_eq!(
            all.files.len(),
            3,
            "k8s/ignored.yaml is read with --no-ignore"
        );
        assert!(all.skipped.ignored.is_empty());
        // named files are matched by their display path (relative to the working directory;
        // here `d` is shown as the working directory)
        let opts = DiscoverOptions {
            display_as: Some((d.to_path_buf(), PathBuf::new())),
            ..opts
        };
        let named = discover(&[d.join("vendor/v.yaml")], &opts).unwrap();
        assert!(named.files.is_empty(), "excludes apply to named files too");
        assert_eq!(named.skipped.excluded, 1);
        assert!(
            named.notices[0].message.contains("exclude"),
            "{:?}",
            named.notices
        );
        let files = discover(&[d.join("k8s/ignored.yaml")], &opts)
            .unwrap()
            .files;
        assert_eq!(
            files.len(),
            1,
            "a named file is read whatever .gitignore says"
        );
    }

    #[test]
    fn a_parallel_walk_of_many_files_gives_the_same_sorted_result_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for i in 0..40 {
            let sub = d.join(format!("team{}/app{i}", i % 7));
            fs::create_dir_all(&sub).unwrap();
            fs::write(sub.join("deploy.yaml"), "a: 1").unwrap();
            fs::write(sub.join("skip.yaml"), "a: 1").unwrap();
            fs::write(sub.join("README.md"), "x").unwrap();
            if i % 5 == 0 {
                fs::write(sub.join(".gitignore"), "skip.yaml\n").unwrap();
            }
        }
        fs::create_dir_all(d.join("vendor/x")).unwrap();
        fs::write(d.join("vendor/x/v.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink(d.join("team0/app0/deploy.yaml"), d.join("link.yaml")).unwrap();
        let opts = DiscoverOptions {
            excludes: vec!["vendor".into()],
            ..Default::default()
        };
        let first = discover(&[d.to_path_buf()], &opts).unwrap();
        let paths: Vec<&str> = first.files.iter().map(|c| c.display.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert_eq!(
            paths.len(),
            40 + 32,
            "every deploy.yaml, the skip.yaml nothing ignores"
        );
        assert_eq!(first.skipped.excluded, 1);
        assert_eq!(first.skipped.symlinks, 1);
        assert_eq!(
            first.skipped.unknown_kind,
            40 + 8,
            "README.md files and .gitignore files"
        );
        assert_eq!(first.skipped.ignored.values().sum::<usize>(), 8);
        assert_eq!(first.skipped.ignored.len(), 8, "each ignore file named");
        for _ in 0..5 {
            let again = discover(&[d.to_path_buf()], &opts).unwrap();
            let again_paths: Vec<&str> = again.files.iter().map(|c| c.display.as_str()).collect();
            assert_eq!(again_paths, paths);
            assert_eq!(again.skipped, first.skipped);
            assert_eq!(again.notices, first.notices);
        }
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
            max_file_size: 100,
            ..Default::default()
        };
        let Discovered {
            files,
            notices,
            skipped,
        } = discover(&[d.to_path_buf()], &opts).unwrap();
        assert_eq!(skipped.oversized, 1);
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
