#!/usr/bin/env bash
# A real pre-commit run of isms-lint's hooks in a throwaway git repository: a violating Kubernetes
# manifest (the hook must fail and name the rule), then the fixed manifest (it must pass), the
# whole-repository hook in the manual stage, and the time of a warm run on three files.
#
#   bash tests/pre-commit/run.sh wheel WHEEL   the hooks users get: the pre-commit mirror rendered by
#                                               `scripts/release.sh mirror` (language: python), which
#                                               installs the isms-lint wheel WHEEL (built by maturin)
#                                               from a local wheelhouse: no Rust, no compile
#   bash tests/pre-commit/run.sh source         this repository's .pre-commit-hooks.yaml
#                                               (language: rust: the first run cargo-installs it)
#
# The hook repository is a snapshot of this checkout's working tree (tracked and untracked, not
# ignored files), committed to a temporary repository, so what is tested is what is on disk.
# Nothing in this checkout is modified.
#
# Env: ISMS_TOOLS (default /tmp/isms-lint-tools) holds pre-commit and the caches:
#   $ISMS_TOOLS/pre-commit-home     PRE_COMMIT_HOME (hook environments)
#   $ISMS_TOOLS/wheelhouse          setuptools for building the mirror package offline
# ISMS_SOURCE_HOOK_TARGET (default: this checkout's target/): CARGO_TARGET_DIR of the source hook
# build, so it reuses the release dependencies already built there.
# ISMS_WARM_RUN_LIMIT_MS (default 1000): the warm run on three files must take less CPU time.
# Prints `N passed, N failed`; exits 1 if any check failed. The warm run's times are printed as
# `warm run on 3 files: N ms wall, N ms CPU (medians of 7; …)`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
PRE_COMMIT="${PRE_COMMIT:-$TOOLS/bin/pre-commit}"
[[ -x "$PRE_COMMIT" ]] || PRE_COMMIT="$(command -v pre-commit || true)"
[[ -n "$PRE_COMMIT" ]] || { echo "tests/pre-commit: pre-commit not found (bash .ci/install-tools.sh precommit)" >&2; exit 2; }
LIMIT_MS="${ISMS_WARM_RUN_LIMIT_MS:-1000}"

mode="${1:-}"
case "$mode" in
  wheel)
    WHEEL="${2:-}"
    [[ -f "$WHEEL" ]] || { echo "tests/pre-commit: usage: run.sh wheel PATH/TO/isms_lint-*.whl" >&2; exit 2; }
    WHEEL="$(cd "$(dirname "$WHEEL")" && pwd -P)/$(basename "$WHEEL")"
    ;;
  source) ;;
  *) echo "tests/pre-commit: usage: run.sh wheel WHEEL | run.sh source" >&2; exit 2 ;;
esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/isms-pre-commit-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }
now_ms() { # wall clock in ms: bash 5's EPOCHREALTIME, else Python
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo $((10#$t / 1000))
  else
    python3 -c 'import time; print(int(time.time() * 1000))'
  fi
}

# deterministic commits: the same tree gives the same rev, so PRE_COMMIT_HOME is reused
export GIT_AUTHOR_NAME=isms-lint-test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=isms-lint-test GIT_COMMITTER_EMAIL=test@example.invalid
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
git_() { git -c commit.gpgsign=false -c init.defaultBranch=main -c core.hooksPath=/dev/null "$@"; }

# --- a snapshot of the working tree
snapshot="$WORK/snapshot"
mkdir -p "$snapshot"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do
    if [[ -f "$ROOT/$f" || -L "$ROOT/$f" ]]; then printf '%s\0' "$f"; fi
  done |
  (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$snapshot"

# --- the hook repository
hook_repo="$WORK/hook-repo"
if [[ "$mode" == wheel ]]; then
  version="$(bash "$snapshot/scripts/release.sh" version)"
  case "$(basename "$WHEEL")" in
    isms_lint-"$version"-*.whl) ;;
    *) echo "tests/pre-commit: $WHEEL is not a wheel of isms-lint $version" >&2; exit 2 ;;
  esac
  bash "$snapshot/scripts/release.sh" mirror "$version" "$hook_repo" >/dev/null
  # pip installs from a local wheelhouse only: the isms-lint wheel under test and setuptools
  # (the mirror package's build backend), fetched once from PyPI
  wheelhouse="$WORK/wheelhouse"
  mkdir -p "$wheelhouse" "$TOOLS/wheelhouse"
  if ! compgen -G "$TOOLS/wheelhouse/setuptools-*.whl" >/dev/null; then
    run python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
      --dest "$TOOLS/wheelhouse" "setuptools>=61" >&2
  fi
  cp "$TOOLS"/wheelhouse/*.whl "$WHEEL" "$wheelhouse/"
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheelhouse" PIP_DISABLE_PIP_VERSION_CHECK=1
  echo "== hook repository: the pre-commit mirror of isms-lint $version (language: python) with $(basename "$WHEEL")"
else
  cp -R "$snapshot" "$hook_repo"
  echo "== hook repository: this checkout's .pre-commit-hooks.yaml (language: rust)"
fi
git_ -C "$hook_repo" init -q
git_ -C "$hook_repo" add -A
git_ -C "$hook_repo" commit -q -m "hook repository"
rev="$(git -C "$hook_repo" rev-parse HEAD)"
if grep -q '^  language: python$' "$hook_repo/.pre-commit-hooks.yaml"; then lang=python; else lang=rust; fi
if [[ "$mode" == wheel && "$lang" == python ]] || [[ "$mode" == source && "$lang" == rust ]]; then
  ok "hook repository uses language: $lang"
else
  bad "hook repository uses the expected language (found $lang)"
fi

# --- the project using the hooks
project="$WORK/project"
mkdir -p "$project/deploy" "$project/infra"
git_ init -q "$project"
# --only: the fixture is judged by the one rule it is about, whatever else the rule pack grows into
cat >"$project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $hook_repo
    rev: $rev
    hooks:
      - id: isms-lint
        args: [--only, k8s-container-privileged]
      - id: isms-lint-repo
        args: [--only, k8s-container-privileged]
EOF
# the same hooks with every built-in rule, for the timing
sed '/args: \[--only/d' "$project/.pre-commit-config.yaml" >"$WORK/all-rules-config.yaml"
sed 's/ # expect:.*//' "$ROOT/fixtures/k8s-container-privileged/fail/deployment.yaml" >"$project/deploy/deployment.yaml"
printf 'FROM alpine:3.20\nUSER 10001\nENTRYPOINT ["/bin/true"]\n' >"$project/Dockerfile"
printf 'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n' >"$project/infra/main.tf"
printf '# not scanned\n' >"$project/README.md"
git_ -C "$project" add -A
git_ -C "$project" commit -q -m "violating manifest"

export PRE_COMMIT_HOME="$TOOLS/pre-commit-home"
# the source hook's `cargo install` builds in this checkout's target directory: the release
# dependencies `cargo build --release` compiled are reused (isms-lint itself compiles again, from
# the clone's path)
export CARGO_TARGET_DIR="${ISMS_SOURCE_HOOK_TARGET:-$ROOT/target}"
export PRE_COMMIT_COLOR=never NO_COLOR=1
mkdir -p "$PRE_COMMIT_HOME"

echo "-- violating manifest (the first run installs the hook environment)"
status=0
started="$(now_ms)"
(cd "$project" && run "$PRE_COMMIT" run --all-files --hook-stage pre-commit) >"$WORK/fail.log" 2>&1 || status=$?
first_ms=$(($(now_ms) - started))
sed 's/^/    | /' "$WORK/fail.log"
echo "    first run (hook environment installed unless cached): $first_ms ms"
if [[ "$status" -eq 1 ]]; then ok "pre-commit run --all-files fails (exit 1)"; else bad "pre-commit run --all-files fails (exit 1; got $status)"; fi
if grep -q '^isms-lint\.\.*Failed$' "$WORK/fail.log"; then ok "hook isms-lint reported Failed"; else bad "hook isms-lint reported Failed"; fi
if grep -qxF -- '- exit code: 1' "$WORK/fail.log"; then ok "isms-lint exited 1 (findings, no rule error)"; else bad "isms-lint exited 1 (findings, no rule error)"; fi
if grep -qF 'k8s-container-privileged' "$WORK/fail.log"; then ok "output names the rule k8s-container-privileged"; else bad "output names the rule k8s-container-privileged"; fi
if grep -qF 'deploy/deployment.yaml:12:13' "$WORK/fail.log" && grep -qF 'deploy/deployment.yaml:17:13' "$WORK/fail.log"; then
  ok "output points at deploy/deployment.yaml:12:13 and :17:13"
else
  bad "output points at deploy/deployment.yaml:12:13 and :17:13"
fi
if grep -qxF 'Result: FAILED (fail-on: low).' "$WORK/fail.log"; then ok "verdict line printed"; else bad "verdict line printed"; fi
if [[ "$mode" == wheel ]]; then
  env_bin="$(find "$PRE_COMMIT_HOME" -path '*/py_env-*/bin/isms-lint' -newer "$hook_repo/.pre-commit-hooks.yaml" 2>/dev/null | head -n 1)"
  if [[ -n "$env_bin" ]] && cmp -s "$env_bin" <(unzip -p "$WHEEL" "isms_lint-$version.data/scripts/isms-lint"); then
    ok "the hook runs the binary of the wheel under test"
  else
    bad "the hook runs the binary of the wheel under test"
  fi
fi

status=0
(cd "$project" && run "$PRE_COMMIT" run --all-files --hook-stage manual isms-lint-repo) >"$WORK/repo-fail.log" 2>&1 || status=$?
sed 's/^/    | /' "$WORK/repo-fail.log"
if [[ "$status" -eq 1 ]] && grep -qxF -- '- exit code: 1' "$WORK/repo-fail.log" &&
  grep -qF 'k8s-container-privileged' "$WORK/repo-fail.log"; then
  ok "isms-lint-repo (manual stage) fails on the repository"
else
  bad "isms-lint-repo (manual stage) fails on the repository (exit $status)"
fi

echo "-- fixed manifest"
sed 's/privileged: true/privileged: false/' "$project/deploy/deployment.yaml" >"$WORK/fixed.yaml"
cp "$WORK/fixed.yaml" "$project/deploy/deployment.yaml"
git_ -C "$project" add -A
status=0
(cd "$project" && run "$PRE_COMMIT" run --all-files --hook-stage pre-commit) >"$WORK/pass.log" 2>&1 || status=$?
sed 's/^/    | /' "$WORK/pass.log"
if [[ "$status" -eq 0 ]]; then ok "pre-commit run --all-files passes (exit 0)"; else bad "pre-commit run --all-files passes (exit 0; got $status)"; fi
if grep -q '^isms-lint\.\.*Passed$' "$WORK/pass.log"; then ok "hook isms-lint reported Passed"; else bad "hook isms-lint reported Passed"; fi

status=0
(cd "$project" && run "$PRE_COMMIT" run --all-files --hook-stage manual isms-lint-repo) >"$WORK/repo-pass.log" 2>&1 || status=$?
sed 's/^/    | /' "$WORK/repo-pass.log"
if [[ "$status" -eq 0 ]]; then ok "isms-lint-repo (manual stage) passes"; else bad "isms-lint-repo (manual stage) passes (exit $status)"; fi

echo "-- warm run on 3 files (deployment.yaml, Dockerfile, main.tf), every built-in rule"
# wall time, and CPU time (user + sys of pre-commit and isms-lint), which does not grow when other
# work shares the machine: the limit applies to the CPU time, both are printed
walls=()
cpus=()
TIMEFORMAT='%3R %3U %3S'
for _ in 1 2 3 4 5 6 7; do
  status=0
  { time (cd "$project" && "$PRE_COMMIT" run --config "$WORK/all-rules-config.yaml" --hook-stage pre-commit \
    isms-lint --files deploy/deployment.yaml Dockerfile infra/main.tf >"$WORK/warm.log" 2>&1); } 2>"$WORK/time.txt" || status=$?
  read -r real user sys <"$WORK/time.txt"
  walls+=("$(awk -v r="$real" 'BEGIN { printf "%d", r * 1000 }')")
  cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')")
  if [[ "$status" -gt 1 ]]; then break; fi
done
sed 's/^/    | /' "$WORK/warm.log"
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
wall="$(median "${walls[@]}")"
cpu="$(median "${cpus[@]}")"
echo "warm run on 3 files: $wall ms wall, $cpu ms CPU (medians of ${#walls[@]}; wall ${walls[*]} ms; CPU ${cpus[*]} ms)"
if grep -qE '^isms-lint\.+(Passed|Failed)$' "$WORK/warm.log" && [[ "$status" -le 1 ]]; then
  ok "the warm run judged the 3 files (exit $status)"
else
  bad "the warm run judged the 3 files (exit $status)"
fi
if ((cpu < LIMIT_MS)); then ok "warm run under $LIMIT_MS ms of CPU ($cpu ms)"; else bad "warm run under $LIMIT_MS ms of CPU ($cpu ms)"; fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
