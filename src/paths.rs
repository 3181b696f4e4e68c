//! Display paths (relative to the working directory when possible, always with `/`) and the one
//! directory walker every part of isms-lint uses.

use std::path::{Component, Path, PathBuf};

/// The path as shown in reports: relative to the current directory when it lies below it,
/// `./` and `..` folded, separators normalised to `/`.
pub fn display(path: &Path) -> String {
    static CWD: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    display_under(
        CWD.get_or_init(|| std::env::current_dir().unwrap_or_default()),
        path,
    )
}

/// The path as shown when `cwd` is the working directory.
pub fn display_under(cwd: &Path, path: &Path) -> String {
    let absolute = if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&cwd.join(path))
    };
    let shown = absolute
        .strip_prefix(normalize(cwd))
        .map(Path::to_path_buf)
        .unwrap_or(absolute);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".to_string()
    } else {
        s
    }
}

/// The path as shown when it may lie outside the working directory: like [`display`] below it,
/// else relative with `..` (`../.gitignore`) when the two share more than the file system root.
pub fn display_relative(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = normalize(&cwd.join(path));
    if abs.starts_with(&cwd) {
        return display_under(&cwd, &abs);
    }
    let (a, c): (Vec<_>, Vec<_>) = (abs.components().collect(), cwd.components().collect());
    let common = a.iter().zip(&c).take_while(|(x, y)| x == y).count();
    if common <= 1 {
        return display_under(&cwd, &abs);
    }
    let mut out = PathBuf::new();
    for _ in common..c.len() {
        out.push("..");
    }
    for part in &a[common..] {
        out.push(part.as_os_str());
    }
    out.to_string_lossy().replace('\\', "/")
}

/// Folds `.` and `..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The one way isms-lint walks a directory: hidden files included, `.gitignore`, `.ignore` and
/// `.git/info/exclude` honoured (also outside a git repository), the developer's global
/// gitignore **not** read (what is scanned must not depend on the machine), symbolic links not
/// followed, entries in path order. Callers add their own `filter_entry` (and skip `.git`).
pub fn walker(root: &Path) -> ignore::WalkBuilder {
    let mut b = ignore::WalkBuilder::new(root);
    b.hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_path(|a, b| a.cmp(b));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_relative() {
        assert_eq!(display(Path::new("./a/b/../c.yaml")), "a/c.yaml");
        assert_eq!(display(Path::new("x.yaml")), "x.yaml");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(display(&cwd.join("q/r.yml")), "q/r.yml");
    }
}
