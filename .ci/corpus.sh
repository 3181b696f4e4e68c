#!/usr/bin/env bash
# Scans the real-world corpus (../shared/corpus, public repositories' config files) with every
# profile and fails on any rule error, panic or hang; prints per-rule finding counts of the
# default scan. Skipped with a notice when the folder is absent (a plain clone still passes).
# Usage: .ci/corpus.sh BIN [--counts FILE]   (FILE: write the default scan's per-rule counts)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:?usage: .ci/corpus.sh BIN [--counts FILE]}"
counts_out=""
if [ "${2:-}" = "--counts" ]; then counts_out="${3:?--counts needs a file}"; fi
corpus="${ISMS_CORPUS:-../shared/corpus}"
if [ ! -d "$corpus" ]; then
  echo "notice: $corpus is absent; skipping the corpus scan"
  exit 0
fi
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for profile in default all; do
  set +e
  # A hang is a failure: the whole corpus scans in seconds.
  timeout 600 "$bin" scan "$corpus" --no-config --profile "$profile" --format json \
    --output "$out/$profile.json" --fail-on none 2>"$out/$profile.err"
  code=$?
  set -e
  if [ "$code" -eq 124 ]; then
    echo "the corpus scan (--profile $profile) did not finish in 600 s" >&2
    exit 1
  fi
  if grep -qi 'panicked' "$out/$profile.err"; then
    cat "$out/$profile.err" >&2
    echo "the corpus scan (--profile $profile) panicked" >&2
    exit 1
  fi
  errors="$(jq '.rule_errors | length' "$out/$profile.json")"
  if [ "$errors" -ne 0 ]; then
    jq -r '.rule_errors[] | "\(.rule_id) \(.path):\(.line): \(.message)"' "$out/$profile.json" >&2
    echo "the corpus scan (--profile $profile) had $errors rule error(s)" >&2
    exit 1
  fi
  if [ "$code" -ne 0 ]; then
    cat "$out/$profile.err" >&2
    echo "the corpus scan (--profile $profile) exited $code" >&2
    exit 1
  fi
  total="$(jq '.findings | length' "$out/$profile.json")"
  echo "--profile $profile: $total findings, 0 rule errors"
done
counts() {
  jq -r '.findings | group_by(.rule_id) | map("\(length)\t\(.[0].rule_id)") | .[]' "$1" | sort -k1,1nr -k2,2
}
if [ -n "$counts_out" ]; then counts "$out/default.json" >"$counts_out"; fi
