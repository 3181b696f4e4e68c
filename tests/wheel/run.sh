#!/usr/bin/env bash
# The PyPI wheel (pyproject.toml, maturin `bindings = "bin"`) as a user gets it: installed with
# pip into a fresh virtual environment, nothing else on PATH, then `isms-lint --version` and real
# scans from the installed entry point (a failing fixture, a clean one, a repository-level one).
#
#   bash tests/wheel/run.sh WHEEL      (the wheel built by `maturin build`, see .ci/integrations.sh)
#
# Prints `N passed, N failed`; exits 1 if any check failed.
# shellcheck disable=SC2016 # `bash -c '…"$1"…'` checks expand their arguments inside
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
WHEEL="${1:-}"
[[ -f "$WHEEL" ]] || { echo "tests/wheel: usage: run.sh PATH/TO/isms_lint-*.whl" >&2; exit 2; }
version="$(bash "$ROOT/scripts/release.sh" version)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/isms-wheel-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"; }
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

echo "== $(basename "$WHEEL")"
check "the wheel is named for isms-lint $version" bash -c '[[ "$(basename "$1")" == isms_lint-"$2"-py3-none-*.whl ]]' _ "$WHEEL" "$version"
check "the wheel carries the binary as a script" bash -c 'unzip -l "$1" | grep -qE "isms_lint-$2\.data/scripts/isms-lint(\.exe)?$"' _ "$WHEEL" "$version"

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --no-index --disable-pip-version-check "$WHEEL"
bin="$WORK/venv/bin/isms-lint"
check "pip install puts isms-lint in the venv's bin" test -x "$bin"

# only the venv on PATH: the entry point must work on its own
run() { env -i PATH="$WORK/venv/bin:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 "$@"; }

run isms-lint --version >"$WORK/version.txt" 2>&1 || true
check "isms-lint --version names $version" grep -qE "^isms-lint $version( |$)" "$WORK/version.txt"
sed 's/^/    | /' "$WORK/version.txt"

status=0
(cd "$ROOT" && run isms-lint scan fixtures/k8s-container-privileged/fail/deployment.yaml --only k8s-container-privileged \
  --format json --output "$WORK/fail.json") || status=$?
check "scan of a failing fixture exits 1" test "$status" -eq 1
check "…with its 2 findings" grep -q '"open_findings": 2' "$WORK/fail.json"

status=0
(cd "$ROOT" && run isms-lint scan fixtures/k8s-container-privileged/pass/deployment.yaml --only k8s-container-privileged) >"$WORK/pass.txt" 2>&1 || status=$?
check "scan of the passing fixture exits 0" test "$status" -eq 0
check "…and says passed" grep -qxF "Result: passed (fail-on: low)." "$WORK/pass.txt"

status=0
(cd "$ROOT" && run isms-lint scan fixtures/repo-codeowners-missing/fail --only repo-codeowners-missing --format sarif --output "$WORK/repo.sarif") || status=$?
check "scan of a repository fixture exits 1" test "$status" -eq 1
check "…with the repository-level finding in SARIF" grep -q '"ruleId": "repo-codeowners-missing"' "$WORK/repo.sarif"

if command -v uvx >/dev/null 2>&1 || [[ -x "${ISMS_TOOLS:-/tmp/isms-lint-tools}/bin/uvx" ]]; then
  uvx="$(command -v uvx || echo "${ISMS_TOOLS:-/tmp/isms-lint-tools}/bin/uvx")"
  status=0
  UV_OFFLINE=1 UV_CACHE_DIR="$WORK/uv-cache" "$uvx" --from "$WHEEL" isms-lint --version >"$WORK/uvx.txt" 2>&1 || status=$?
  check "uvx --from WHEEL isms-lint --version" grep -qE "^isms-lint $version( |$)" "$WORK/uvx.txt"
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
