#!/usr/bin/env bash
# A real pre-commit run of this checkout's .pre-commit-hooks.yaml: a throwaway git repository whose
# .pre-commit-config.yaml points at this checkout (repo: <path>, rev: <commit>), a violating
# Kubernetes manifest (the hook must fail and name the rule), then the fixed manifest (it must pass).
# pre-commit's rust language `cargo install`s the hook repository: the first run compiles isms-lint.
#
#   bash tests/pre-commit/run.sh      (needs pre-commit: bash .ci/install-tools.sh precommit)
#
# The hook repository is this checkout at HEAD when the working tree is clean (CI). With
# uncommitted changes, a snapshot of the working tree (tracked and untracked, not ignored files) is
# committed to a temporary repository instead, so what is tested is what is on disk. Nothing in
# this checkout is modified.
#
# Env: ISMS_TOOLS (default /tmp/isms-lint-tools) holds pre-commit and the caches:
#   $ISMS_TOOLS/pre-commit-home     PRE_COMMIT_HOME (hook environments, reused for the same rev)
#   $ISMS_TOOLS/pre-commit-target   CARGO_TARGET_DIR of the hook build (compiled dependencies reused)
# Prints `N passed, N failed`; exits 1 if any check failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
PRE_COMMIT="${PRE_COMMIT:-$TOOLS/bin/pre-commit}"
[[ -x "$PRE_COMMIT" ]] || PRE_COMMIT="$(command -v pre-commit || true)"
[[ -n "$PRE_COMMIT" ]] || { echo "tests/pre-commit: pre-commit not found (bash .ci/install-tools.sh precommit)" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/isms-pre-commit-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

# deterministic commits: the same tree gives the same rev, so PRE_COMMIT_HOME is reused
export GIT_AUTHOR_NAME=isms-lint-test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=isms-lint-test GIT_COMMITTER_EMAIL=test@example.invalid
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
git_() { git -c commit.gpgsign=false -c init.defaultBranch=main -c core.hooksPath=/dev/null "$@"; }

# --- the hook repository and rev
git -C "$ROOT" rev-parse --verify --quiet HEAD >/dev/null ||
  { echo "tests/pre-commit: $ROOT is not a git checkout with a commit" >&2; exit 2; }
if [[ -z "$(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=normal)" ]]; then
  hook_repo="$ROOT"
  rev="$(git -C "$ROOT" rev-parse HEAD)"
  echo "== hook repository: $hook_repo at HEAD $rev (clean working tree)"
else
  hook_repo="$WORK/hook-repo"
  mkdir -p "$hook_repo"
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [[ -f "$ROOT/$f" || -L "$ROOT/$f" ]]; then printf '%s\0' "$f"; fi
    done |
    (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$hook_repo"
  git_ -C "$hook_repo" init -q
  git_ -C "$hook_repo" add -A
  git_ -C "$hook_repo" commit -q -m "working tree snapshot of $ROOT"
  rev="$(git -C "$hook_repo" rev-parse HEAD)"
  echo "== hook repository: snapshot of the uncommitted working tree of $ROOT in $hook_repo at $rev"
fi

# --- the project using the hooks
project="$WORK/project"
mkdir -p "$project/deploy"
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
sed 's/ # expect:.*//' "$ROOT/fixtures/k8s-container-privileged/fail/deployment.yaml" >"$project/deploy/deployment.yaml"
printf '# not scanned\n' >"$project/README.md"
git_ -C "$project" add -A
git_ -C "$project" commit -q -m "violating manifest"

export PRE_COMMIT_HOME="$TOOLS/pre-commit-home"
export CARGO_TARGET_DIR="$TOOLS/pre-commit-target"
# A quicker release profile for the hook build (the same code; this test is about the hook wiring,
# and `cargo install` of the release profile with LTO takes several minutes on 2 cores)
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-off}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"
export CARGO_PROFILE_RELEASE_INCREMENTAL="${CARGO_PROFILE_RELEASE_INCREMENTAL:-true}"
export PRE_COMMIT_COLOR=never NO_COLOR=1
mkdir -p "$PRE_COMMIT_HOME"

echo "-- violating manifest (first run builds the hook with cargo install; a few minutes)"
status=0
(cd "$project" && run "$PRE_COMMIT" run --all-files --hook-stage pre-commit) >"$WORK/fail.log" 2>&1 || status=$?
sed 's/^/    | /' "$WORK/fail.log"
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

echo
echo "$passed passed, $failed failed"
((failed == 0))
