//! Dockerfiles and Containerfiles: `Dockerfile`, `Dockerfile.prod`, `Dockerfile-arm`,
//! `Dockerfile_windows`, `web.dockerfile`, `Containerfile…` (not `Dockerfile.md`, templates or
//! backups), read the way BuildKit reads them ([`parse`]).

pub mod parse;

use std::path::Path;

use super::{file_name, Document, Input, Kind, Read, Source, SourceFile, Unit};
use crate::doc::ParseError;

/// Dockerfiles.
pub struct Dockerfile;

/// The one instance the registry lists.
pub static INPUT: Dockerfile = Dockerfile;

/// Extensions that make a `Dockerfile…` name something else: docs, code, templates, backups.
const NOT_DOCKERFILE: &[&str] = &[
    "rs", "go", "py", "js", "ts", "md", "txt", "yml", "yaml", "json", "sh", "toml", "rb", "java",
    "orig", "bak", "swp", "tmpl", "template", "j2", "erb", "lock", "expect", "sample", "tpl",
];

/// Whether a file name is a Dockerfile's.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerfile") || lower.ends_with(".containerfile") {
        return true;
    }
    let rest = lower
        .strip_prefix("dockerfile")
        .or_else(|| lower.strip_prefix("containerfile"));
    match rest {
        Some("") => true,
        Some(r) if r.starts_with(['.', '-', '_']) => {
            let ext = r.rsplit_once('.').map_or("", |(_, e)| e);
            !NOT_DOCKERFILE.contains(&ext)
        }
        _ => false,
    }
}

impl Input for Dockerfile {
    fn name(&self) -> &'static str {
        "dockerfile"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::Dockerfile]
    }

    fn patterns(&self) -> &'static [&'static str] {
        &[
            "Dockerfile",
            "Dockerfile.*",
            "Dockerfile-*",
            "Dockerfile_*",
            "*.dockerfile",
            "Containerfile",
            "Containerfile.*",
            "Containerfile-*",
            "Containerfile_*",
            "*.containerfile",
        ]
    }

    fn claim(&self, path: &Path) -> Option<Unit> {
        is_dockerfile_name(&file_name(path)).then_some(Unit::File)
    }

    fn read(&self, source: &Source<'_>) -> Read {
        let Source::File { display, text, .. } = source else {
            return Read::default();
        };
        let mut read = Read {
            sources: vec![SourceFile {
                path: display.to_string(),
                text: text.to_string(),
                comments: true,
            }],
            ..Read::default()
        };
        match parse::parse(text) {
            Ok((root, positions)) => read.documents.push(Document {
                kind: Kind::Dockerfile,
                root,
                name: String::new(),
                files: vec![display.to_string()],
                via: Vec::new(),
                positions: std::sync::Arc::new(positions),
            }),
            Err(e) => read.errors.push(ParseError {
                path: display.to_string(),
                pos: e.pos,
                message: e.message,
                detected: true,
            }),
        }
        read
    }

    fn fence(&self, _path: &Path) -> &'static str {
        "dockerfile"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.prod",
            "Dockerfile-prod",
            "Dockerfile_arm",
            "Dockerfile-WINDOWS_LTSC2022",
            "web.Dockerfile",
            "api.dockerfile",
            "Containerfile",
            "Containerfile.dev",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile.md",
            "dockerfile.rs",
            "Dockerfile-alpine.template",
            "Dockerfile.bak",
            "Dockerfiles",
            "my-dockerfile-notes.txt",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
