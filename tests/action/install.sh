#!/usr/bin/env bash
# Tests of scripts/install.sh (the install step of action.yml) outside GitHub, against a fake
# release: a copy of the action whose Cargo.toml says 9.9.9 and whose scripts/release-pins.txt pins
# archives made by scripts/release.sh, served by a local HTTP server (127.0.0.1) or from a file://
# directory. Each case runs the script with a clean environment and fake RUNNER_* values, then
# checks its outputs, its annotations and what it installed:
#   download + verify (Linux tar.gz over HTTP and file://, macOS, Windows .zip and .exe), a digest
#   mismatch refused, an asset missing on the server, a platform or version without a binary (the
#   cargo install fallback, with and without rustup, through stand-ins that record their arguments),
#   the `version` input naming another ref (fetched with git).
#
#   bash tests/action/install.sh            (needs python3, curl, git, tar, unzip or python zipfile)
#
# Prints `N passed, N failed`; exits 1 if any check failed.
# shellcheck disable=SC2016 # `bash -c '…"$1"…'` checks expand their arguments inside
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
for t in python3 curl git tar gzip; do
  command -v "$t" >/dev/null || { echo "tests/action/install: $t is needed" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/isms-install-test.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"; }
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
has_line() { grep -qxF -- "$2" "$1"; }
has_text() { grep -qF -- "$2" "$1"; }
lacks_text() { ! grep -qF -- "$2" "$1"; }
output_of() { sed -n "s/^$2=//p" "$1" | tail -n 1; } # output_of OUTPUT_FILE NAME

VERSION=9.9.9

# --- the fake action: this repository's scripts, a Cargo.toml of version 9.9.9, its own pins
ACTION="$WORK/action"
mkdir -p "$ACTION/scripts"
cp "$ROOT/scripts/install.sh" "$ROOT/scripts/release.sh" "$ACTION/scripts/"
cp "$ROOT/README.md" "$ROOT/CHANGELOG.md" "$ROOT/Cargo.lock" "$ACTION/"
printf '[package]\nname = "isms-lint"\nversion = "%s"\nedition = "2021"\n' "$VERSION" >"$ACTION/Cargo.toml"

# --- the fake release: a stand-in binary per target that prints its target
RELEASE="$WORK/release"
mkdir -p "$RELEASE/v$VERSION" "$WORK/bins"
for target in x86_64-unknown-linux-musl aarch64-apple-darwin x86_64-pc-windows-msvc; do
  printf '#!/bin/sh\necho "isms-lint %s (fake %s)"\n' "$VERSION" "$target" >"$WORK/bins/$target"
  bash "$ACTION/scripts/release.sh" archive "$target" "$VERSION" "$WORK/bins/$target" "$RELEASE/v$VERSION" >/dev/null
done
bash "$ACTION/scripts/release.sh" pins "$VERSION" 4242 "$RELEASE/v$VERSION" >"$ACTION/scripts/release-pins.txt"
check "fixture setup: three archives pinned" test "$(grep -c '^[0-9a-f]\{64\}  ' "$ACTION/scripts/release-pins.txt")" -eq 3
check "fixture setup: release.sh verify accepts the release" bash "$ACTION/scripts/release.sh" verify "$ACTION/scripts/release-pins.txt" "$RELEASE/v$VERSION"

# --- a local HTTP server for the release (loopback only, stopped on exit)
cat >"$WORK/serve.py" <<'PY'
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$WORK/serve.py" "$RELEASE" "$WORK/port" >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
[[ -s "$WORK/port" ]] || { echo "tests/action/install: the local HTTP server did not start" >&2; cat "$WORK/server.log" >&2; exit 2; }
HTTP="http://127.0.0.1:$(cat "$WORK/port")"

# --- stand-ins for cargo and rustup (the source build), recording their arguments
FAKE="$WORK/fakebin"
mkdir -p "$FAKE"
cat >"$FAKE/cargo" <<'SH'
#!/usr/bin/env bash
# records its arguments; `install … --root DIR` leaves a binary in DIR/bin
printf '%s\n' "$*" >>"$FAKE_LOG"
root=""
while (($#)); do
  if [[ "$1" == --root ]]; then root="$2"; fi
  shift
done
if [[ -n "$root" ]]; then
  mkdir -p "$root/bin"
  printf '#!/bin/sh\necho "isms-lint (built from source)"\n' >"$root/bin/isms-lint"
  chmod +x "$root/bin/isms-lint"
fi
SH
cat >"$FAKE/rustup" <<'SH'
#!/usr/bin/env bash
printf 'rustup %s\n' "$*" >>"$FAKE_LOG"
if [[ "$1" == run ]]; then shift 2; exec "$@"; fi
SH
chmod +x "$FAKE/cargo" "$FAKE/rustup"
# PATH without the machine's Rust toolchain: system tools and Python only
SYS_PATH="/usr/local/bin:/usr/bin:/bin:$(dirname "$(python3 -c 'import sys; print(sys.executable)')")"

# run_install NAME [VAR=VALUE...]: scripts/install.sh of the fake action in a fake runner; leaves
# stdout, stderr, status and the step outputs in $WORK/NAME
run_install() {
  local name="$1"
  shift
  local d="$WORK/$name"
  mkdir -p "$d/runner-temp"
  : >"$d/output"
  : >"$d/fake.log"
  local status=0
  env -i PATH="$SYS_PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 \
    RUNNER_TEMP="$d/runner-temp" GITHUB_OUTPUT="$d/output" \
    GITHUB_SERVER_URL=https://github.invalid GITHUB_REPOSITORY=isms-lint/isms-lint \
    ISMS_ROOT="$d/runner-temp/isms-lint" FAKE_LOG="$d/fake.log" \
    RUNNER_OS=Linux RUNNER_ARCH=X64 ISMS_RELEASE_URL="$HTTP" \
    "$@" \
    bash "$ACTION/scripts/install.sh" >"$d/stdout" 2>"$d/stderr" || status=$?
  echo "$status" >"$d/status"
  printf '%s\n' "--- $name (exit $status)" >&2
}

echo "== scripts/install.sh against a fake release $VERSION"

echo "-- Linux x64: download over HTTP, verify, install"
run_install linux
d="$WORK/linux"
check "exits 0" has_line "$d/status" 0
check "method=binary" has_line "$d/output" "method=binary"
check "bin is ISMS_ROOT/bin/isms-lint" has_line "$d/output" "bin=$d/runner-temp/isms-lint/bin/isms-lint"
check "downloaded the archive of the action's version" has_text "$d/stderr" "downloading $HTTP/v$VERSION/isms-lint-$VERSION-x86_64-unknown-linux-musl.tar.gz"
check "digest matched the pin" has_text "$d/stderr" "matches the pinned digest"
check "the installed binary runs" bash -c '"$1" | grep -qF "fake x86_64-unknown-linux-musl"' _ "$d/runner-temp/isms-lint/bin/isms-lint"
check "no source build" lacks_text "$d/output" "method=source"

echo "-- Linux x64 from a file:// release directory"
run_install linux-file ISMS_RELEASE_URL="file://$RELEASE"
d="$WORK/linux-file"
check "method=binary" has_line "$d/output" "method=binary"
check "the installed binary runs" test -x "$d/runner-temp/isms-lint/bin/isms-lint"

echo "-- macOS arm64"
run_install macos RUNNER_OS=macOS RUNNER_ARCH=ARM64
d="$WORK/macos"
check "method=binary" has_line "$d/output" "method=binary"
check "the aarch64-apple-darwin archive" has_text "$d/stderr" "isms-lint-$VERSION-aarch64-apple-darwin.tar.gz"
check "its binary was installed" bash -c '"$1" | grep -qF "fake aarch64-apple-darwin"' _ "$d/runner-temp/isms-lint/bin/isms-lint"

echo "-- Windows x64: .zip, isms-lint.exe"
run_install windows RUNNER_OS=Windows RUNNER_ARCH=X64
d="$WORK/windows"
check "method=binary" has_line "$d/output" "method=binary"
check "bin ends in .exe" has_line "$d/output" "bin=$d/runner-temp/isms-lint/bin/isms-lint.exe"
check "the zip was unpacked" bash -c '"$1" | grep -qF "fake x86_64-pc-windows-msvc"' _ "$d/runner-temp/isms-lint/bin/isms-lint.exe"

echo "-- Windows x64 without unzip (Python's zipfile unpacks)"
mkdir -p "$WORK/nounzip"
for t in bash env sed awk grep tr cut head mkdir cp chmod rm mktemp curl sha256sum cat dirname; do
  ln -sf "$(command -v "$t")" "$WORK/nounzip/$t"
done
run_install windows-python RUNNER_OS=Windows RUNNER_ARCH=X64 \
  PATH="$WORK/nounzip:$(dirname "$(python3 -c 'import sys; print(sys.executable)')")"
d="$WORK/windows-python"
check "method=binary" has_line "$d/output" "method=binary"
check "unpacked with Python" test -f "$d/runner-temp/isms-lint/bin/isms-lint.exe"

echo "-- a digest mismatch is refused"
cp -r "$RELEASE" "$WORK/tampered"
printf '#!/bin/sh\necho pwned\n' >"$WORK/bins/evil"
bash "$ACTION/scripts/release.sh" archive x86_64-unknown-linux-musl "$VERSION" "$WORK/bins/evil" "$WORK/tampered/v$VERSION" >/dev/null
run_install mismatch ISMS_RELEASE_URL="file://$WORK/tampered"
d="$WORK/mismatch"
check "exits 1" has_line "$d/status" 1
check "::error names the mismatch and the pinned digest" grep -qE '^::error title=isms-lint install::SHA-256 mismatch for isms-lint-9\.9\.9-x86_64-unknown-linux-musl\.tar\.gz: expected [0-9a-f]{64} \(pinned' "$d/stdout"
check "nothing installed" test ! -e "$d/runner-temp/isms-lint/bin/isms-lint"
check "no method output" lacks_text "$d/output" "method="
check "no fallback to a source build" test ! -s "$d/fake.log"

echo "-- a pinned asset missing on the server: warning, source build"
mkdir -p "$WORK/empty-release"
run_install missing-asset ISMS_RELEASE_URL="$HTTP/does-not-exist"
d="$WORK/missing-asset"
check "exits 0" has_line "$d/status" 0
check "warning names the missing asset" grep -qE '^::warning title=isms-lint::release asset .* was not found; building from source instead' "$d/stdout"
check "method=source" has_line "$d/output" "method=source"

echo "-- no binary for the platform (Linux arm, Windows arm64): source build"
run_install linux-arm RUNNER_OS=Linux RUNNER_ARCH=ARM
d="$WORK/linux-arm"
check "method=source" has_line "$d/output" "method=source"
check "says why" has_text "$d/stderr" "no release binary is built for Linux/ARM"
check "src is the action itself" has_line "$d/output" "src=$ACTION"
check "a cache key of OS, arch, lockfile and sources" grep -qE '^key=isms-lint-Linux-ARM-local-lock-[0-9a-f]{16}-src-[0-9a-f]{16}$' "$d/output"
check "nothing downloaded" lacks_text "$d/stderr" "downloading"
run_install windows-arm RUNNER_OS=Windows RUNNER_ARCH=ARM64
d="$WORK/windows-arm"
check "Windows arm64: method=source" has_line "$d/output" "method=source"
check "Windows arm64: bin ends in .exe" has_line "$d/output" "bin=$d/runner-temp/isms-lint/bin/isms-lint.exe"

echo "-- install.sh build: cargo install --locked (through rustup when present)"
d="$WORK/build"
mkdir -p "$d/runner-temp"
: >"$d/fake.log"
status=0
env -i PATH="$FAKE:$SYS_PATH" HOME="${HOME:-/root}" RUNNER_TEMP="$d/runner-temp" FAKE_LOG="$d/fake.log" \
  ISMS_SRC="$ACTION" ISMS_ROOT="$d/runner-temp/isms-lint" ISMS_TOOLCHAIN=1.88.0 \
  bash "$ACTION/scripts/install.sh" build >"$d/stdout" 2>"$d/stderr" || status=$?
check "exits 0" test "$status" -eq 0
check "rustup installs the toolchain" has_line "$d/fake.log" "rustup toolchain install 1.88.0 --profile minimal --no-self-update"
check "cargo install --locked --path <action> --root ISMS_ROOT" has_line "$d/fake.log" "install --locked --path $ACTION --root $d/runner-temp/isms-lint --target-dir $d/runner-temp/isms-lint-target"
check "the built binary is in ISMS_ROOT/bin" test -x "$d/runner-temp/isms-lint/bin/isms-lint"
rm "$FAKE/rustup"
d="$WORK/build-norustup"
mkdir -p "$d/runner-temp"
: >"$d/fake.log"
status=0
env -i PATH="$FAKE:$SYS_PATH" HOME="${HOME:-/root}" RUNNER_TEMP="$d/runner-temp" FAKE_LOG="$d/fake.log" \
  ISMS_SRC="$ACTION" ISMS_ROOT="$d/runner-temp/isms-lint" \
  bash "$ACTION/scripts/install.sh" build >"$d/stdout" 2>"$d/stderr" || status=$?
check "without rustup: plain cargo install --locked" has_line "$d/fake.log" "install --locked --path $ACTION --root $d/runner-temp/isms-lint --target-dir $d/runner-temp/isms-lint-target"
d="$WORK/build-nocargo"
mkdir -p "$d/runner-temp"
status=0
env -i PATH="$SYS_PATH" HOME="${HOME:-/root}" RUNNER_TEMP="$d/runner-temp" ISMS_SRC="$ACTION" \
  ISMS_ROOT="$d/runner-temp/isms-lint" bash "$ACTION/scripts/install.sh" build >"$d/stdout" 2>"$d/stderr" || status=$?
check "without Rust at all: exit 1" test "$status" -eq 1
check "without Rust at all: ::error says to install Rust" grep -qE '^::error title=isms-lint install::.*install Rust first' "$d/stdout"

echo "-- an unreleased version (no pins for it): source build"
mkdir -p "$WORK/action-next/scripts"
cp "$ACTION/scripts/install.sh" "$ACTION/scripts/release-pins.txt" "$WORK/action-next/scripts/"
cp "$ACTION/Cargo.lock" "$WORK/action-next/"
sed "s/^version = .*/version = \"10.0.0\"/" "$ACTION/Cargo.toml" >"$WORK/action-next/Cargo.toml"
d="$WORK/unreleased"
mkdir -p "$d/runner-temp"
: >"$d/output"
env -i PATH="$SYS_PATH" HOME="${HOME:-/root}" RUNNER_TEMP="$d/runner-temp" GITHUB_OUTPUT="$d/output" \
  RUNNER_OS=Linux RUNNER_ARCH=X64 ISMS_RELEASE_URL="$HTTP" \
  bash "$WORK/action-next/scripts/install.sh" >"$d/stdout" 2>"$d/stderr" || true
check "method=source" has_line "$d/output" "method=source"
check "says the version has no pinned binary" has_text "$d/stderr" "no pinned release binary for isms-lint 10.0.0"

echo "-- version input: the action's own tag counts as its own version"
run_install own-tag ISMS_VERSION="v$VERSION"
check "v$VERSION: method=binary" has_line "$WORK/own-tag/output" "method=binary"

echo "-- version input naming another ref: fetched and built from source"
srv="$WORK/srv"
mkdir -p "$srv/acme"
git init -q "$srv/acme/isms-lint.git"
cp "$ACTION/Cargo.toml" "$ACTION/Cargo.lock" "$srv/acme/isms-lint.git/"
git -C "$srv/acme/isms-lint.git" -c user.name=t -c user.email=t@example.invalid -c commit.gpgsign=false add -A
git -C "$srv/acme/isms-lint.git" -c user.name=t -c user.email=t@example.invalid -c commit.gpgsign=false commit -q -m src
git -C "$srv/acme/isms-lint.git" tag v1.2.3
run_install other-ref ISMS_VERSION=v1.2.3 GITHUB_SERVER_URL="file://$srv" ISMS_ACTION_REPOSITORY=acme/isms-lint
d="$WORK/other-ref"
check "method=source" has_line "$d/output" "method=source"
check "fetched into RUNNER_TEMP/isms-lint-src" has_line "$d/output" "src=$d/runner-temp/isms-lint-src"
check "the fetched tree is the ref's" test -f "$d/runner-temp/isms-lint-src/Cargo.toml"
check "the cache key names the ref" grep -qE '^key=isms-lint-Linux-X64-v1\.2\.3-lock-' "$d/output"

echo
echo "$passed passed, $failed failed"
if ((failed)); then
  echo "tests/action/install: failures; outputs kept in $WORK" >&2
  kill "$server_pid" 2>/dev/null || true
  trap - EXIT
  exit 1
fi
