#!/usr/bin/env bash
# The install step of the isms-lint GitHub Action (action.yml): the release binary of the action's
# own version for the runner's OS and architecture, verified against the SHA-256 pinned in this
# repository (scripts/release-pins.txt, written by the release workflow before the version was
# tagged), or, only when no binary exists for the platform or version, a build from source.
#
#   bash scripts/install.sh            resolve: download + verify, or prepare a source build
#   bash scripts/install.sh build      the source build (cargo install --locked), after a cache miss
#
# It never trusts a checksum downloaded beside the binary: a digest that differs from the pinned
# one stops the job (exit 1) and nothing is installed.
#
# Env (action.yml maps inputs and runner facts to these):
#   ISMS_ACTION_PATH       the action's checkout (default: this script's repository)
#   ISMS_VERSION           `version` input: empty = the action's own version; else a git ref to
#                          build from source (a release tag of the action's own version counts as it)
#   ISMS_ROOT              install directory (default $RUNNER_TEMP/isms-lint); binary in ISMS_ROOT/bin
#   ISMS_TOOLCHAIN         Rust toolchain for the source build (default stable)
#   ISMS_RELEASE_URL       base URL of release downloads (default
#                          $GITHUB_SERVER_URL/<action repository>/releases/download); tests point it
#                          at a local server or file:// directory
#   ISMS_ACTION_REPOSITORY the action's repository (github.action_repository), else GITHUB_REPOSITORY
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_SERVER_URL
# Outputs (GITHUB_OUTPUT): method=binary|source, bin=<path of the binary>, and for a source build
# src=<source dir>, key=<cache key>.
set -euo pipefail

log() { printf 'isms-lint install: %s\n' "$*" >&2; }
fail() {
  printf '::error title=isms-lint install::%s\n' "$*"
  exit 1
}
output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
  log "output $1=$2"
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
action_path="${ISMS_ACTION_PATH:-$here}"
tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
root="${ISMS_ROOT:-$tmp/isms-lint}"
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"

exe=""
case "$os" in Windows | windows | MINGW* | MSYS* | CYGWIN*) exe=".exe" ;; esac
bin="$root/bin/isms-lint$exe"

# sha256 FILE: the hex digest (sha256sum on Linux and Git Bash, shasum on macOS)
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail "neither sha256sum nor shasum is available to verify the download"
  fi
}

# The release target of a runner (RUNNER_OS/RUNNER_ARCH, or uname values), empty when none is built
target_of() {
  case "$1/$2" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

# The package version in Cargo.toml (the first `version = "…"` line, which is [package]'s)
cargo_version() {
  sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$1/Cargo.toml" | head -n 1
}

# pinned PINS VERSION FILE: the pinned digest of FILE for VERSION, empty when not pinned
pinned() {
  local pins="$1" version="$2" file="$3"
  [[ -f "$pins" ]] || return 0
  [[ "$(sed -n 's/^version: *//p' "$pins" | head -n 1 | tr -d '\r')" == "$version" ]] || return 0
  awk -v f="$file" '$2 == f && $1 ~ /^[0-9a-f]+$/ && length($1) == 64 { print $1; exit }' "$pins" | tr -d '\r'
}

# extract ARCHIVE DIR: .tar.gz with tar; .zip with unzip, 7z, Windows' bsdtar or Python
extract() {
  local archive="$1" dir="$2"
  case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$dir" ;;
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$archive" -d "$dir"
      elif command -v 7z >/dev/null 2>&1; then
        7z x -y -bd -o"$dir" "$archive" >/dev/null
      elif [[ -n "${SYSTEMROOT:-}" && -x "$SYSTEMROOT/System32/tar.exe" ]]; then
        "$SYSTEMROOT/System32/tar.exe" -xf "$archive" -C "$dir"
      else
        local py
        py="$(command -v python3 || command -v python || true)"
        [[ -n "$py" ]] || fail "cannot unpack $archive: no unzip, 7z, tar.exe or Python"
        "$py" -m zipfile -e "$archive" "$dir"
      fi
      ;;
    *) fail "unknown archive type: $archive" ;;
  esac
}

# download URL FILE: curl with retries; https only unless ISMS_RELEASE_URL points elsewhere
# (tests). Returns 2 when the server says the file does not exist (404), 1 on other failures.
download() {
  local url="$1" out="$2" proto="=https" code
  [[ -z "${ISMS_RELEASE_URL:-}" ]] || proto="=https,http,file"
  command -v curl >/dev/null 2>&1 || fail "curl is needed to download isms-lint"
  code="$(curl --proto "$proto" --location --silent --show-error --retry 3 --retry-delay 2 \
    --connect-timeout 20 --max-time 300 --output "$out" --write-out '%{http_code}' "$url")" || {
    # curl's exit 37 (file:// not found) and 22 are 'missing'; an HTTP 404 is reported below
    local rc=$?
    [[ $rc -eq 37 ]] && return 2
    return 1
  }
  case "$code" in
    2?? | 000) return 0 ;; # 000: file:// URLs have no HTTP status
    404) return 2 ;;
    *)
      log "HTTP $code from $url"
      return 1
      ;;
  esac
}

# A source build: where the source is and the cache key of the binary built from it.
prepare_source() {
  local reason="$1" src ref
  log "building from source: $reason"
  if [[ -n "${ISMS_VERSION:-}" && "$own" != 1 ]]; then
    local repo="${ISMS_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-isms-lint/isms-lint}}"
    src="$tmp/isms-lint-src"
    rm -rf "$src"
    git init -q "$src"
    log "fetching isms-lint $ISMS_VERSION from ${GITHUB_SERVER_URL:-https://github.com}/$repo"
    git -C "$src" fetch -q --no-tags --depth=1 "${GITHUB_SERVER_URL:-https://github.com}/$repo.git" "$ISMS_VERSION"
    git -C "$src" checkout -q --detach FETCH_HEAD
    ref="$ISMS_VERSION"
  else
    src="$action_path"
    ref="${ISMS_ACTION_REF:-local}"
  fi
  local hash=(sha256sum)
  command -v sha256sum >/dev/null 2>&1 || hash=(shasum -a 256)
  local lock tree
  lock="$("${hash[@]}" "$src/Cargo.lock" | cut -c1-16)"
  tree="$(cd "$src" && find . -type f -not -path './.git/*' -not -path './target/*' -print0 |
    LC_ALL=C sort -z | xargs -0 "${hash[@]}" | "${hash[@]}" | cut -c1-16)"
  output method source
  output bin "$bin"
  output src "$src"
  output key "isms-lint-$os-$arch-${ref//[^A-Za-z0-9._-]/_}-lock-$lock-src-$tree"
}

# `install.sh build`: cargo install into ISMS_ROOT from ISMS_SRC
build() {
  local src="${ISMS_SRC:?ISMS_SRC is not set}" toolchain="${ISMS_TOOLCHAIN:-stable}"
  local cargo=(cargo)
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal --no-self-update
    cargo=(rustup run "$toolchain" cargo)
  elif [[ "$toolchain" != stable ]]; then
    printf "::warning title=isms-lint::rustup not found; building with %s instead of '%s'\n" "$(cargo --version)" "$toolchain"
  fi
  command -v cargo >/dev/null 2>&1 || command -v rustup >/dev/null 2>&1 ||
    fail "no isms-lint binary for $os/$arch and no Rust toolchain to build one: install Rust first (rustup)"
  "${cargo[@]}" install --locked --path "$src" --root "$root" --target-dir "$tmp/isms-lint-target"
}

if [[ "${1:-}" == build ]]; then
  build
  exit 0
fi

version="$(cargo_version "$action_path")"
[[ -n "$version" ]] || fail "cannot read the version from $action_path/Cargo.toml"
# The `version` input names another ref unless it is the action's own release.
own=1
case "${ISMS_VERSION:-}" in
  "" | "v$version" | "$version") own=1 ;;
  *) own=0 ;;
esac
if [[ "$own" != 1 ]]; then
  prepare_source "version '$ISMS_VERSION' was asked for; release binaries are pinned only for the action's own version ($version)"
  exit 0
fi

target="$(target_of "$os" "$arch")"
if [[ -z "$target" ]]; then
  prepare_source "no release binary is built for $os/$arch"
  exit 0
fi
case "$target" in
  *windows*) archive="isms-lint-$version-$target.zip" ;;
  *) archive="isms-lint-$version-$target.tar.gz" ;;
esac
pins="$action_path/scripts/release-pins.txt"
want="$(pinned "$pins" "$version" "$archive")"
if [[ -z "$want" ]]; then
  prepare_source "no pinned release binary for isms-lint $version ($archive is not in scripts/release-pins.txt; unreleased commits have none)"
  exit 0
fi

repo="${ISMS_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-isms-lint/isms-lint}}"
base="${ISMS_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}"
url="$base/v$version/$archive"
work="$(mktemp -d "$tmp/isms-lint-download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "downloading $url"
status=0
download "$url" "$work/$archive" || status=$?
if [[ $status -eq 2 ]]; then
  printf '::warning title=isms-lint::release asset %s was not found; building from source instead\n' "$url"
  prepare_source "the release asset is missing"
  exit 0
elif [[ $status -ne 0 ]]; then
  fail "could not download $url (see the log above)"
fi
got="$(sha256 "$work/$archive")"
if [[ "$got" != "$want" ]]; then
  fail "SHA-256 mismatch for $archive: expected $want (pinned in scripts/release-pins.txt), got $got. The download was not installed."
fi
log "SHA-256 of $archive matches the pinned digest $want"
mkdir -p "$work/x"
extract "$work/$archive" "$work/x"
found="$work/x/isms-lint-$version-$target/isms-lint$exe"
[[ -f "$found" ]] || fail "$archive does not contain isms-lint-$version-$target/isms-lint$exe"
mkdir -p "$root/bin"
cp "$found" "$bin"
chmod +x "$bin"
output method binary
output bin "$bin"
