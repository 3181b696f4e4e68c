//! The declared minimum supported Rust version (`rust-version` in Cargo.toml) is no lower than
//! what the locked dependencies declare, and no higher than the toolchain that builds us.
//!
//! This machine has one toolchain and cannot fetch another, so `cargo +MSRV check` is not
//! available; this test is the documented equivalent (docs/architecture.md): the MSRV must cover
//! every package in `Cargo.lock` (all platforms, since releases build for Linux, macOS and
//! Windows), and clippy's `incompatible_msrv` lint (on by default, CI runs it with `-D warnings`)
//! rejects use of std APIs newer than the declared MSRV.

use std::process::Command;

/// A `major.minor[.patch]` version, compared numerically.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn declared_msrv_covers_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "isms-lint")
        .and_then(|p| p["rust_version"].as_str())
        .expect("isms-lint declares rust-version");
    let (needed, by) = packages
        .iter()
        .filter(|p| p["name"] != "isms-lint")
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .expect("some dependency declares a rust-version");
    assert!(
        version(ours) >= needed,
        "rust-version = {ours} but {by} needs {}.{}.{}: raise rust-version in Cargo.toml",
        needed.0,
        needed.1,
        needed.2
    );
}

#[test]
fn declared_msrv_is_not_newer_than_the_building_toolchain() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("--version")
        .output()
        .expect("rustc runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let toolchain = version(text.split_whitespace().nth(1).expect("rustc X.Y.Z"));
    let ours = version(env!("CARGO_PKG_RUST_VERSION"));
    assert!(
        ours <= toolchain,
        "rust-version {ours:?} is newer than the toolchain {toolchain:?}"
    );
}
