//! Signatures of bundle manifests in the minisign format (Ed25519), so an auditor can check a
//! bundle with the standalone `minisign -V` as well as with `isms-lint evidence verify --key`.

use std::io::{Cursor, IsTerminal};
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

/// The environment variable holding the secret key's password (for CI; on a terminal the
/// password is asked for instead).
pub const PASSWORD_ENV: &str = "ISMS_LINT_KEY_PASSWORD";

/// The password from [`PASSWORD_ENV`], if set and not empty (a CI secret that is not defined
/// reaches the environment as an empty string).
pub fn password_from_env() -> Option<String> {
    std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty())
}

/// What went wrong creating, reading or using a signing key.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// A key file would be overwritten.
    #[error("'{}' exists; use --force to overwrite it", .0.display())]
    Exists(PathBuf),
    /// A key file cannot be read or written.
    #[error("cannot {action} '{}': {source}", .path.display())]
    Io {
        /// What was being done (`write`, `read the secret key`…).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An encrypted key, or a new one, needs a password and there is no terminal to ask on.
    #[error("{0}")]
    NoPassword(String),
    /// The key, signature or password was refused by minisign.
    #[error("{context}: {source}")]
    Minisign {
        /// What was being done, naming the file.
        context: String,
        /// minisign's own reason.
        #[source]
        source: minisign::PError,
    },
    /// Neither a public key file nor a key (`RW…`).
    #[error("'{0}' is neither a public key file nor a minisign public key (RW…)")]
    NotAPublicKey(String),
}

/// Wraps a minisign error with what was being done.
fn minisign_error(context: impl Into<String>) -> impl FnOnce(minisign::PError) -> SigningError {
    let context = context.into();
    move |source| SigningError::Minisign { context, source }
}

fn check_absent(path: &Path, force: bool) -> Result<(), SigningError> {
    if path.exists() && !force {
        return Err(SigningError::Exists(path.to_path_buf()));
    }
    Ok(())
}

/// How a new secret key is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Not encrypted (like `minisign -G -W`): for keys kept in a CI secret store.
    None,
    /// Encrypted with this password.
    Password(String),
    /// Encrypted with a password asked for on the terminal.
    Ask,
}

/// Creates a key pair in minisign's file formats: the secret key (protected as asked) and the
/// public key. Returns the public key line (`RW…`), the form `minisign -P` accepts.
pub fn keygen(
    secret: &Path,
    public: &Path,
    protection: Protection,
    force: bool,
) -> Result<String, SigningError> {
    check_absent(secret, force)?;
    check_absent(public, force)?;
    let pair = match protection {
        Protection::None => KeyPair::generate_unencrypted_keypair(),
        Protection::Password(p) => KeyPair::generate_encrypted_keypair(Some(p)),
        Protection::Ask if std::io::stdin().is_terminal() => {
            KeyPair::generate_encrypted_keypair(None)
        }
        Protection::Ask => {
            return Err(SigningError::NoPassword(format!(
                "no terminal to ask for a password: set {PASSWORD_ENV}, or pass --no-password for an unencrypted key"
            )));
        }
    }
    .map_err(minisign_error("cannot create a key pair"))?;
    let sk = pair
        .sk
        .to_box(Some("isms-lint evidence signing key (minisign)"))
        .map_err(minisign_error("cannot encode the secret key"))?;
    let pk = pair
        .pk
        .to_box()
        .map_err(minisign_error("cannot encode the public key"))?;
    write_private(secret, with_newline(sk.into_string()).as_bytes())?;
    std::fs::write(public, with_newline(pk.into_string())).map_err(|source| SigningError::Io {
        action: "write",
        path: public.to_path_buf(),
        source,
    })?;
    Ok(pair.pk.to_base64())
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Writes a file only its owner can read (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|source| SigningError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })
}

/// Reads a minisign secret key file. An encrypted key needs `password`, or a terminal to ask
/// for it on.
pub fn load_secret_key(path: &Path, password: Option<String>) -> Result<SecretKey, SigningError> {
    let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
        action: "read the secret key",
        path: path.to_path_buf(),
        source,
    })?;
    let boxed = SecretKeyBox::from_string(&text).map_err(minisign_error(format!(
        "'{}' is not a minisign secret key",
        path.display()
    )))?;
    match boxed.clone().into_unencrypted_secret_key() {
        Ok(sk) => return Ok(sk),
        Err(e) if !e.to_string().contains("encrypted") => {
            return Err(minisign_error(format!(
                "'{}' is not a usable minisign secret key",
                path.display()
            ))(e));
        }
        Err(_) => {} // encrypted: needs the password
    }
    if password.is_none() && !std::io::stdin().is_terminal() {
        return Err(SigningError::NoPassword(format!(
            "the secret key '{}' is encrypted: set {PASSWORD_ENV} to its password",
            path.display()
        )));
    }
    boxed
        .into_secret_key(password)
        .map_err(minisign_error(format!(
            "cannot decrypt the secret key '{}' (wrong password?)",
            path.display()
        )))
}

/// Reads a public key: a minisign public key file, or the key itself (`RW…`, as `minisign -P`
/// takes it).
pub fn load_public_key(key: &str) -> Result<PublicKey, SigningError> {
    let path = Path::new(key);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
            action: "read the public key",
            path: path.to_path_buf(),
            source,
        })?;
        PublicKeyBox::from_string(&text)
            .and_then(PublicKeyBox::into_public_key)
            .map_err(minisign_error(format!(
                "'{key}' is not a minisign public key"
            )))
    } else {
        PublicKey::from_base64(key.trim()).map_err(|_| SigningError::NotAPublicKey(key.into()))
    }
}

/// Signs `data`; returns the signature file's text (`.minisig`). The trusted comment is
/// signed too and shown by `minisign -V`.
pub fn sign(sk: &SecretKey, data: &[u8], trusted_comment: &str) -> Result<String, SigningError> {
    let sig = minisign::sign(
        None,
        sk,
        Cursor::new(data),
        Some(trusted_comment),
        Some("signature of an isms-lint evidence manifest (check: minisign -Vm manifest.json -p KEY.pub)"),
    )
    .map_err(minisign_error("cannot sign"))?;
    Ok(sig.into_string())
}

/// Checks a signature of `data`; returns its trusted comment.
pub fn verify(pk: &PublicKey, data: &[u8], signature: &str) -> Result<String, SigningError> {
    let sig =
        SignatureBox::from_string(signature).map_err(minisign_error("not a minisign signature"))?;
    minisign::verify(pk, &sig, Cursor::new(data), true, false, false).map_err(minisign_error(
        "the signature does not verify with this key",
    ))?;
    sig.trusted_comment().map_err(minisign_error(
        "the signature has no readable trusted comment",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_detect_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (sk, pk) = (dir.path().join("k.key"), dir.path().join("k.pub"));
        let line = keygen(&sk, &pk, Protection::None, false).unwrap();
        assert!(line.starts_with("RW"), "{line}");
        assert!(keygen(&sk, &pk, Protection::None, false)
            .unwrap_err()
            .to_string()
            .contains("exists"));
        let secret = load_secret_key(&sk, None).unwrap();
        let sig = sign(&secret, b"manifest", "comment 1").unwrap();
        let public = load_public_key(pk.to_str().unwrap()).unwrap();
        assert_eq!(verify(&public, b"manifest", &sig).unwrap(), "comment 1");
        assert!(verify(&public, b"manifesT", &sig).is_err());
        let by_line = load_public_key(&line).unwrap();
        assert_eq!(verify(&by_line, b"manifest", &sig).unwrap(), "comment 1");
        // Another key does not verify it.
        let (sk2, pk2) = (dir.path().join("o.key"), dir.path().join("o.pub"));
        keygen(&sk2, &pk2, Protection::None, false).unwrap();
        let other = load_public_key(pk2.to_str().unwrap()).unwrap();
        assert!(verify(&other, b"manifest", &sig).is_err());
    }
}
