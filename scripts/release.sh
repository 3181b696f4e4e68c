#!/usr/bin/env bash
# Release helpers for .github/workflows/release.yml, runnable (and tested) locally:
#
#   release.sh version                      the version in Cargo.toml
#   release.sh check VERSION                Cargo.toml has VERSION and CHANGELOG.md a section for it
#   release.sh notes VERSION                the CHANGELOG.md section of VERSION (release notes)
#   release.sh archive TARGET VERSION BIN OUTDIR
#                                           isms-lint-VERSION-TARGET.tar.gz (.zip for Windows)
#                                           holding isms-lint-VERSION-TARGET/{isms-lint,README.md,CHANGELOG.md}
#   release.sh pins VERSION RUN_ID DIR      the pins file (stdout) of every release file in DIR
#   release.sh sums DIR                     SHA256SUMS (stdout) of every release file in DIR
#   release.sh verify PINS DIR              every file pinned in PINS is in DIR with its digest, and
#                                           nothing else is; exit 1 otherwise
#   release.sh mirror VERSION OUTDIR        the pre-commit mirror repository's files for VERSION
#
# Release files are the archives (*.tar.gz, *.zip), the wheels (*.whl) and the sdist (*.tar.gz of
# the Python package) in DIR, sorted by name. See docs/ci.md, "Releases".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  printf 'release.sh: %s\n' "$*" >&2
  exit 1
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

version() {
  sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1
}

# The release files of DIR, one name a line, sorted (C locale)
files() {
  local dir="$1"
  [[ -d "$dir" ]] || die "no directory $dir"
  (cd "$dir" && find . -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.whl' \) |
    sed 's|^\./||' | LC_ALL=C sort)
}

# The CHANGELOG.md section of VERSION: from its `## [VERSION]` heading to the next `## ` heading
notes() {
  local v="$1"
  awk -v v="$v" '
    /^## / {
      if (found) exit
      h = $0
      sub(/^## +/, "", h)
      if (h == "[" v "]" || index(h, "[" v "] ") == 1 || h == v || index(h, v " ") == 1) { found = 1; next }
    }
    found { print }
  ' "$ROOT/CHANGELOG.md" | sed -e '/./,$!d' | awk '{ lines[NR] = $0 } END { n = NR; while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }'
}

check() {
  local v="$1" have
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "'$v' is not a version (X.Y.Z)"
  have="$(version)"
  [[ "$have" == "$v" ]] || die "Cargo.toml has version $have, not $v"
  [[ -n "$(notes "$v" | tr -d '[:space:]')" ]] || die "CHANGELOG.md has no section '## [$v]' with release notes"
  echo "ok: version $v, release notes in CHANGELOG.md"
}

archive() {
  local target="$1" v="$2" binary="$3" out="$4"
  [[ -f "$binary" ]] || die "no binary at $binary"
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  local name="isms-lint-$v-$target" stage
  stage="$(mktemp -d)"
  mkdir "$stage/$name"
  local exe=""
  [[ "$target" != *windows* ]] || exe=".exe"
  cp "$binary" "$stage/$name/isms-lint$exe"
  chmod 755 "$stage/$name/isms-lint$exe"
  cp "$ROOT/README.md" "$ROOT/CHANGELOG.md" "$stage/$name/"
  if [[ "$target" == *windows* ]]; then
    local py
    py="$(command -v python3 || command -v python || true)"
    [[ -n "$py" ]] || die "python is needed to write a zip archive"
    (cd "$stage" && "$py" -m zipfile -c "$out/$name.zip" "$name")
    echo "$out/$name.zip"
  else
    # owner root, no gzip timestamp
    local owner=(--owner=0 --group=0 --numeric-owner)
    tar --version 2>/dev/null | grep -q 'GNU tar' || owner=(--uid 0 --gid 0) # bsdtar (macOS)
    (cd "$stage" && tar "${owner[@]}" -cf - "$name") | gzip -n -9 >"$out/$name.tar.gz"
    echo "$out/$name.tar.gz"
  fi
  rm -rf "$stage"
}

sums() {
  local dir="$1" f
  while IFS= read -r f; do
    printf '%s  %s\n' "$(sha256 "$dir/$f")" "$f"
  done < <(files "$dir")
}

pins() {
  local v="$1" run="$2" dir="$3"
  [[ "$run" =~ ^[0-9]+$ ]] || die "run id '$run' is not a number"
  local listed
  listed="$(sums "$dir")"
  [[ -n "$listed" ]] || die "no release files in $dir"
  cat <<EOF
# isms-lint release pins: the SHA-256 of every file of release v$v, written by the release
# workflow (.github/workflows/release.yml, run $run) before the version was tagged. The tag
# v$v points at the commit that adds this file, so the GitHub Action of that version installs
# the release binary only when its digest is the one below (scripts/install.sh). Do not edit.
version: $v
build-run: $run
$listed
EOF
}

verify() {
  local pinfile="$1" dir="$2" bad=0 name want got n=0
  [[ -f "$pinfile" ]] || die "no pins file $pinfile"
  while read -r want name; do
    [[ "$want" =~ ^[0-9a-f]{64}$ ]] || continue
    n=$((n + 1))
    if [[ ! -f "$dir/$name" ]]; then
      echo "MISSING  $name"
      bad=1
      continue
    fi
    got="$(sha256 "$dir/$name")"
    if [[ "$got" == "$want" ]]; then
      echo "ok       $name"
    else
      echo "MISMATCH $name: pinned $want, found $got"
      bad=1
    fi
  done <"$pinfile"
  ((n > 0)) || die "$pinfile pins no file"
  while IFS= read -r name; do
    if ! awk -v f="$name" '$2 == f { found = 1 } END { exit !found }' "$pinfile"; then
      echo "UNPINNED $name"
      bad=1
    fi
  done < <(files "$dir")
  return "$bad"
}

mirror() {
  local v="$1" out="$2" n
  mkdir -p "$out"
  # The source repository's hooks, with language: python (the wheel) instead of rust
  n="$(grep -c '^  language: rust$' "$ROOT/.pre-commit-hooks.yaml")"
  ((n > 0)) || die ".pre-commit-hooks.yaml has no 'language: rust' hook to mirror"
  {
    echo "# Generated from isms-lint's .pre-commit-hooks.yaml by scripts/release.sh mirror $v."
    echo "# language: python installs the isms-lint wheel from PyPI (pyproject.toml): no Rust toolchain."
    sed -e '/^# /d' -e 's/^  language: rust$/  language: python/' "$ROOT/.pre-commit-hooks.yaml" | sed -e '/./,$!d'
  } >"$out/.pre-commit-hooks.yaml"
  [[ "$(grep -c '^  language: python$' "$out/.pre-commit-hooks.yaml")" == "$n" ]] ||
    die "not every hook was mirrored"
  sed -e "s/@VERSION@/$v/g" "$ROOT/packaging/pre-commit-mirror/pyproject.toml" >"$out/pyproject.toml"
  sed -e "s/@VERSION@/$v/g" "$ROOT/packaging/pre-commit-mirror/README.md" >"$out/README.md"
  echo "$out"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  version) version ;;
  check) check "${1:?check VERSION}" ;;
  notes) notes "${1:?notes VERSION}" ;;
  archive) archive "${1:?archive TARGET VERSION BIN OUTDIR}" "${2:?}" "${3:?}" "${4:?}" ;;
  sums) sums "${1:?sums DIR}" ;;
  pins) pins "${1:?pins VERSION RUN_ID DIR}" "${2:?}" "${3:?}" ;;
  verify) verify "${1:?verify PINS DIR}" "${2:?}" ;;
  mirror) mirror "${1:?mirror VERSION OUTDIR}" "${2:?}" ;;
  *) die "usage: release.sh version|check|notes|archive|sums|pins|verify|mirror …" ;;
esac
