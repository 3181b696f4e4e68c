//! OCI image references split into their parts (used by the Dockerfile reader and by rules).

/// The parts of an OCI image reference.
#[derive(Debug, PartialEq, Eq, Default)]
pub struct ImageRef {
    /// Registry host, empty for Docker Hub.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, empty when absent.
    pub tag: String,
    /// Digest (`sha256:…`), empty when absent.
    pub digest: String,
}

/// Splits an image reference such as `ghcr.io/org/app:1.2@sha256:…`.
pub fn split_image(reference: &str) -> ImageRef {
    let reference = reference.trim();
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, d.to_string()),
        None => (reference, String::new()),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), path)
        }
        _ => (String::new(), rest),
    };
    let (repository, tag) = match path.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (path.to_string(), String::new()),
    };
    ImageRef {
        registry,
        repository,
        tag,
        digest,
    }
}

/// Whether `text` is an image reference by the OCI distribution grammar
/// (`[host[:port]/]path[:tag][@algorithm:hex]`, path components in lowercase). Anything else —
/// `<DOCKER_REPO>/app`, `gcr.io/PROJECT_ID/app`, `${IMAGE}`, `$(IMG)`, `{{ .Values.image }}` —
/// is a placeholder filled in at deployment, not a reference with a tag.
pub fn is_reference(text: &str) -> bool {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    // ASCII classes, as the OCI grammar has them: a Unicode `\w` under `{0,127}` compiles to an
    // automaton of megabytes, 60 ms and 35 MB paid by every scan that meets an image.
    let re = RE.get_or_init(|| {
        let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
        let host = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)";
        let domain = format!(r"(?:{host}(?:\.{host})*(?::[0-9]+)?)");
        regex::Regex::new(&format!(
            r"^(?:{domain}/)?{component}(?:/{component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}})?$"
        ))
        .expect("the reference grammar compiles")
    });
    let text = text.trim();
    if !re.is_match(text) {
        return false;
    }
    // A first component without `.` or `:` (and not `localhost`) is a path, so it must be
    // lowercase (`PROJECT/app` is not a reference).
    match text.split_once('/') {
        Some((first, _)) if !first.contains(['.', ':']) && first != "localhost" => {
            !first.bytes().any(|b| b.is_ascii_uppercase())
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_placeholders() {
        for r in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "ghcr.io/org/app:1.2.3",
            "localhost:5000/app",
            "quay.io/argoproj/argocd:v2.13.0",
            "registry.k8s.io/pause:3.9@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097",
        ] {
            assert!(is_reference(r), "{r}");
        }
        for p in [
            "<DOCKER_REPO>/app",
            "gcr.io/PROJECT_ID/app",
            "PROJECT_ID/app",
            "${IMAGE}",
            "$(IMG)",
            "{{ .Values.image }}",
            "example/app:{{ .Chart.AppVersion }}",
            "IMAGE",
            "",
        ] {
            assert!(!is_reference(p), "{p}");
        }
    }
}
