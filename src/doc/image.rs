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
