//! Build facts for `isms-lint --version`: the commit the binary was built from
//! (`ISMS_LINT_COMMIT` when the build sets it, as the release workflow and the Dockerfile do,
//! else `git` in the source tree, else "unknown" for a build outside git such as a crate or an
//! sdist). Also: rebuild when the embedded rule pack, catalog or fixtures change (include_dir!
//! alone does not tell cargo to watch new files).
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=data");
    println!("cargo:rerun-if-changed=fixtures");
    println!("cargo:rerun-if-env-changed=ISMS_LINT_COMMIT");
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let from_env = std::env::var("ISMS_LINT_COMMIT")
        .ok()
        .map(|c| c.trim().chars().take(12).collect::<String>())
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_hexdigit()));
    let commit = from_env.or_else(|| {
        // Only when this package is the top of a git tree (not a crate unpacked inside another
        // repository's checkout, whose commit would be the wrong one).
        let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
        let same = std::fs::canonicalize(&top).ok()? == std::fs::canonicalize(&dir).ok()?;
        if !same {
            return None;
        }
        // Rebuild when HEAD moves: HEAD itself, the branch refs (a commit rewrites a loose ref
        // file, a fresh clone may keep them all in packed-refs). Only paths that exist: cargo
        // reruns a build script on every build while a watched path is missing.
        for p in ["HEAD", "packed-refs", "refs/heads"] {
            if let Some(path) = git(&dir, &["rev-parse", "--git-path", p]) {
                let path = dir.join(path);
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        git(&dir, &["rev-parse", "--short=12", "HEAD"])
    });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match &commit {
        Some(c) => format!("{version} ({c})"),
        None => format!("{version} (commit unknown)"),
    };
    println!(
        "cargo:rustc-env=ISMS_LINT_COMMIT={}",
        commit.unwrap_or_default()
    );
    println!("cargo:rustc-env=ISMS_LINT_LONG_VERSION={long}");
}
