//! Runs `kustomize build` (or `kubectl kustomize` when only kubectl is on `PATH`) on a
//! kustomization directory with origin annotations asked for, without writing into the user's
//! tree: the build is of a kustomization in a temporary directory that lists the user's
//! directory as its one resource and sets `buildMetadata: [originAnnotations]`. The child gets
//! no standard input and a time limit ([`TIMEOUT_ENV`], default [`DEFAULT_TIMEOUT`] seconds).

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
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
        serde_json::Value::String(resource.clone())
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
        return Err(format!(
            "{} failed ({status}): {}",
            tool.command(),
            reason(&stderr, &resource)
        ));
    }
    Ok(Output { stdout, base })
}

/// The longest reason quoted from a failed build.
const REASON_CHARS: usize = 400;

/// Why a build failed, in one line, from its standard error: the first line that is not a
/// warning, without kubectl's log prefix (`E1203 12:13:10.27 30154 run.go:72] "command failed"
/// err=…`, whose time and process id would make the report differ from run to run), and without
/// the part that only says the temporary kustomization could not read the directory built.
fn reason(stderr: &str, resource: &str) -> String {
    static KLOG: OnceLock<regex::Regex> = OnceLock::new();
    let klog = KLOG.get_or_init(|| {
        regex::Regex::new(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^\]]*\] (.*)$")
            .expect("valid regex")
    });
    let mut lines = stderr.lines().map(str::trim).filter(|l| {
        !l.is_empty() && !l.starts_with("# Warning") && !l.starts_with("Warning:") && *l != ">"
    });
    let Some(first) = lines.next() else {
        return "no message".into();
    };
    let mut text = first.to_string();
    if let Some(body) = klog.captures(first).and_then(|c| c.get(1)) {
        let body = body.as_str();
        text = match body.split_once(" err=") {
            Some((_, rest)) if rest.starts_with('<') => lines.next().unwrap_or(rest).to_string(),
            Some((_, rest)) => rest
                .strip_prefix('"')
                .map_or(rest, |r| r.strip_suffix('"').unwrap_or(r))
                .replace("\\\"", "\""),
            None => body.to_string(),
        };
    }
    let mut text = text.strip_prefix("Error: ").unwrap_or(&text);
    // `accumulating resources from '<resource>': '<dir>' must resolve to a file': recursed
    // accumulation of path '<dir>': <why>` (or `couldn't make target for path '<dir>': <why>`).
    let wrapper = format!("accumulating resources from '{resource}': ");
    if let Some(i) = text.find(&wrapper) {
        const FILE: &str = "must resolve to a file': ";
        let rest = &text[i + wrapper.len()..];
        if let Some(j) = rest.find(FILE) {
            text = &rest[j + FILE.len()..];
            for step in [
                "recursed accumulation of path '",
                "couldn't make target for path '",
            ] {
                if let Some(r) = text.strip_prefix(step) {
                    text = r.find("': ").map_or(text, |k| &r[k + 3..]);
                }
            }
        }
    }
    if text.chars().count() > REASON_CHARS {
        let cut: String = text.chars().take(REASON_CHARS).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
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

    #[test]
    fn the_reason_is_the_error_without_log_prefix_or_wrapper() {
        // kubectl kustomize, the message on the lines after `err=<`.
        let klog = "E1203 12:13:10.278813   30154 run.go:72] \"command failed\" err=<\n\taccumulating resources: accumulation err='accumulating resources from '../../w/app': '/w/app' must resolve to a file': recursed accumulation of path '/w/app': accumulating resources: accumulation err='accumulating resources from 'github.com/a/b//x?ref=v1': fatal: unable to access 'https://github.com/a/b/': Could not resolve host: github.com\n\t: exit status 128\n >\n";
        assert_eq!(
            reason(klog, "../../w/app"),
            "accumulating resources: accumulation err='accumulating resources from 'github.com/a/b//x?ref=v1': fatal: unable to access 'https://github.com/a/b/': Could not resolve host: github.com"
        );
        // kubectl kustomize, the message quoted on the same line.
        let quoted = "E1203 12:13:10.529048   30168 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from '../../w/helm': '/w/helm' must resolve to a file': recursed accumulation of path '/w/helm': loading KV pairs: file sources: [generate.sh]: lstat /w/helm/generate.sh: no such file or directory\"\n";
        assert_eq!(
            reason(quoted, "../../w/helm"),
            "loading KV pairs: file sources: [generate.sh]: lstat /w/helm/generate.sh: no such file or directory"
        );
        // kustomize, after a deprecation warning.
        let plain = "# Warning: 'bases' is deprecated. Please use 'resources' instead.\nError: map[string]interface {}(nil): yaml: unmarshal errors:\n  line 3: x\n";
        assert_eq!(
            reason(plain, "x"),
            "map[string]interface {}(nil): yaml: unmarshal errors:"
        );
        let empty = "E1203 12:13:10.529048   30168 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from '../../w/e': '/w/e' must resolve to a file': couldn't make target for path '/w/e': kustomization.yaml is empty\"";
        assert_eq!(reason(empty, "../../w/e"), "kustomization.yaml is empty");
        assert_eq!(reason("", "x"), "no message");
    }
}
