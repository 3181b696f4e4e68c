#!/usr/bin/env bash
# CI checks of the integrations: the GitHub Action (action.yml, scripts/action.sh), the workflows
# (.github/workflows, docs/examples), the pre-commit hooks (.pre-commit-hooks.yaml).
#
#   bash .ci/integrations.sh        (the last step of .ci/run; also runs on its own)
#
#   1. zizmor --offline reports nothing on action.yml, the hooks, the workflows and the examples
#   2. actionlint passes on the workflows and the examples
#   3. isms-lint's own rules pass on action.yml and .github/workflows
#   4. tests/action/run.sh: scripts/action.sh in a fake runner environment
#   5. tests/pre-commit/run.sh: a real pre-commit run against this checkout (builds the hook)
#
# Env: ISMS_TOOLS (tool cache, default /tmp/isms-lint-tools), ISMS_LINT_BIN (the binary to test;
# default: the newer of target/release and target/debug, built with `cargo build` if neither exists).
# Tools come from npm and PyPI through .ci/install-tools.sh; the hook build needs crates.io.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ISMS_TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
export CARGO_TERM_COLOR=never NO_COLOR=1

start=$SECONDS
step() { printf '\n==> integrations: %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }

step "install zizmor, actionlint, pre-commit into $ISMS_TOOLS"
run bash .ci/install-tools.sh zizmor actionlint precommit

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
examples=(docs/examples/*.yml docs/examples/*.yaml)
shopt -u nullglob
((${#workflows[@]})) || { echo "no workflows in .github/workflows" >&2; exit 1; }
((${#examples[@]})) || { echo "no examples in docs/examples" >&2; exit 1; }

step "zizmor --offline (no findings allowed)"
run "$ISMS_TOOLS/bin/zizmor" --offline --no-progress --color=never --strict-collection \
  action.yml .pre-commit-hooks.yaml "${workflows[@]}" "${examples[@]}"

step "actionlint"
run "$ISMS_TOOLS/bin/actionlint" "${workflows[@]}" "${examples[@]}"

step "pre-commit validate-manifest"
run "$ISMS_TOOLS/bin/pre-commit" validate-manifest .pre-commit-hooks.yaml

if command -v shellcheck >/dev/null; then
  step "shellcheck"
  run shellcheck scripts/action.sh tests/action/run.sh tests/pre-commit/run.sh .ci/integrations.sh
fi

bin="${ISMS_LINT_BIN:-}"
if [[ -z "$bin" ]]; then
  for b in target/release/isms-lint target/debug/isms-lint; do
    if [[ -x "$b" && (-z "$bin" || "$b" -nt "$bin") ]]; then bin="$b"; fi
  done
  if [[ -z "$bin" ]]; then
    step "cargo build (no isms-lint binary yet)"
    run cargo build --locked
    bin=target/debug/isms-lint
  fi
fi
bin="$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin")"

step "isms-lint's own rules on action.yml and .github/workflows"
run "$bin" scan --color never action.yml .github/workflows

step "tests/action/run.sh (scripts/action.sh with $bin)"
ISMS_LINT_BIN="$bin" run bash tests/action/run.sh

step "tests/pre-commit/run.sh (real pre-commit; the first run compiles the hook)"
if command -v timeout >/dev/null; then
  run timeout 900 bash tests/pre-commit/run.sh
else
  run bash tests/pre-commit/run.sh
fi

step "integrations passed in $((SECONDS - start))s"
