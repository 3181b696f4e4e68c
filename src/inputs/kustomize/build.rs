//! Runs `kustomize build` (or `kubectl kustomize` when only kubectl is on `PATH`) on a
//! kustomization directory with origin annotations asked for, without writing into the user's
//! tree: the build is of a kustomization in a temporary directory that lists the user's
//! directory as its one resource and sets `buildMetadata: [originAnnotations]`. The child gets
//! no standard input and a time limit ([`TIMEOUT_ENV`], default [`DEFAULT_TIMEOUT`] seconds).

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable that sets the time limit of one build, in seconds.
pub const TIMEOUT_ENV: &str = "ISMS_LINT_KUSTOMIZE_TIMEOUT";

/// The time limit of one build, in seconds, unless [`TIMEOUT_ENV`] says otherwise.
pub const DEFAULT_TIMEOUT: u64 = 60;

/// The program that builds kustomizations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `kustomize build`.
    Kustomize(PathBuf),
    /// `kubectl kustomize`.
    Kubectl(PathBuf),
}

impl Tool {
    /// How a build is named in messages.
    pub fn command(&self) -> &'static str {
        match self {
            Tool::Kustomize(_) => "kustomize build",
            Tool::Kubectl(_) => "kubectl kustomize",
        }
    }
}

/// `kustomize` on `PATH`, else `kubectl`.
pub fn find() -> Option<Tool> {
    let path = std::env::var_os("PATH")?;
    let on_path = |name: &str| {
        std::env::split_paths(&path)
            .map(|d| d.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
            .find(|p| is_executable(p))
    };
    on_path("kustomize")
        .map(Tool::Kustomize)
        .or_else(|| on_path("kubectl").map(Tool::Kubectl))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// What a build printed, and the directory its origin paths are relative to.
#[derive(Debug)]
pub struct Output {
    /// The rendered YAML stream.
    pub stdout: String,
    /// The temporary kustomization's directory (gone after the build; paths only).
    pub base: PathBuf,
}

fn timeout() -> Duration {
    let secs = std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT);
    Duration::from_secs(secs)
}

/// `to` relative to `from`, both absolute and normalised (`../../x/y`).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component<'_>> = from.components().collect();
    let t: Vec<Component<'_>> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Builds the kustomization in `dir` (absolute, normalised); the error is one line saying why
/// the build gave nothing: the program's first line of standard error, its exit status, or
/// the time limit.
pub fn build(tool: &Tool, dir: &Path) -> Result<Output, String> {
    let tmp = tempfile::Builder::new()
        .prefix("isms-lint-kustomize")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let base = tmp
        .path()
        .canonicalize()
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let resource = relative(&base, dir).to_string_lossy().replace('\\', "/");
    let wrapper = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {}\nbuildMetadata:\n  - originAnnotations\n",
        serde_json::Value::String(resource)
    );
    std::fs::write(base.join("kustomization.yaml"), wrapper)
        .map_err(|e| format!("cannot write a temporary kustomization: {e}"))?;
    let mut cmd = match tool {
        Tool::Kustomize(p) => {
            let mut c = Command::new(p);
            c.args(["build", "--enable-alpha-plugins=false"]);
            c
        }
        Tool::Kubectl(p) => {
            let mut c = Command::new(p);
            c.arg("kustomize");
            c
        }
    };
    cmd.arg(&base)
        .current_dir(&base)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", tool.command()))?;
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let limit = timeout();
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} did not finish within {} s ({TIMEOUT_ENV} sets the limit)",
                    tool.command(),
                    limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for {}: {e}", tool.command())),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message");
        return Err(format!("{} failed ({status}): {first}", tool.command()));
    }
    Ok(Output { stdout, base })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_ancestor() {
        assert_eq!(
            relative(Path::new("/tmp/x1"), Path::new("/work/a/b")),
            PathBuf::from("../../work/a/b")
        );
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/b/c")),
            PathBuf::from("c")
        );
    }
}
