#!/usr/bin/env bash
# CI checks of the integrations and the packaging: the GitHub Action (action.yml, scripts/action.sh,
# scripts/install.sh), the workflows (.github/workflows incl. release.yml, docs/examples), the
# release helpers (scripts/release.sh), the PyPI wheel, the pre-commit hooks, the Dockerfile.
#
#   bash .ci/integrations.sh        (the last step of .ci/run; also runs on its own)
#
#   1. zizmor --offline reports nothing on action.yml, the hooks, the workflows and the examples
#   2. actionlint passes on the workflows and the examples
#   3. isms-lint's own rules pass on action.yml, .github/workflows and the Dockerfile
#   4. tests/action/run.sh: scripts/action.sh in a fake runner environment
#   5. tests/action/install.sh: scripts/install.sh against a fake release (download, verify, refuse,
#      fall back) served from 127.0.0.1
#   6. the wheel: `maturin build --release` for this machine, into the same target directory and
#      profile as `cargo build --release` (so it packs the binary .ci/run built, no second
#      compile), then tests/wheel/run.sh (pip install into a fresh venv, --version, real scans; uvx)
#   7. tests/pre-commit/run.sh wheel: a real pre-commit run of the mirror hooks (language: python)
#      with that wheel, timed (first run and a warm run on 3 files)
#   8. tests/pre-commit/run.sh source: the source repository's hooks (language: rust), only with
#      ISMS_SOURCE_HOOK=1. pre-commit `cargo install`s the hook repository from its own clone, so
#      isms-lint compiles once more in release (dependencies reused from target/, the crate not:
#      another path is another package to cargo), minutes on 2 cores for what step 7 already
#      covers: the mirror's hooks are this repository's hooks with `language: python` for `rust`
#      (`scripts/release.sh mirror`, checked below). What only step 8 shows is that pre-commit's
#      own `cargo install --path .` of a clone succeeds; that the crate holds every file it
#      embeds is checked by tests/architecture.rs. Run it before changing .pre-commit-hooks.yaml
#      or the crate's layout.
#
# Env: ISMS_TOOLS (tool cache, default /tmp/isms-lint-tools), ISMS_LINT_BIN (the binary to test;
# default: the newer of target/release and target/debug, built with `cargo build` if neither exists),
# ISMS_SOURCE_HOOK=1 (step 8).
# Tools come from npm and PyPI through .ci/install-tools.sh; the source hook build needs crates.io.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ISMS_TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
export CARGO_TERM_COLOR=never NO_COLOR=1

start=$SECONDS
step() { printf '\n==> integrations: %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }

step "install zizmor, actionlint, pre-commit, maturin, uv, shellcheck into $ISMS_TOOLS"
run bash .ci/install-tools.sh zizmor actionlint precommit maturin uv shellcheck

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

step "shellcheck"
run "$ISMS_TOOLS/bin/shellcheck" scripts/action.sh scripts/install.sh scripts/release.sh tests/action/run.sh \
  tests/action/install.sh tests/wheel/run.sh tests/pre-commit/run.sh .ci/integrations.sh .ci/install-tools.sh \
  .ci/compiled-cel.sh .ci/corpus.sh

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

step "isms-lint's own Dockerfile rules on Dockerfile (no finding at the default fail-on)"
run "$bin" scan --color never Dockerfile

step "tests/action/run.sh (scripts/action.sh with $bin)"
ISMS_LINT_BIN="$bin" run bash tests/action/run.sh

step "tests/action/install.sh (scripts/install.sh against a fake release)"
run bash tests/action/install.sh

step "release helpers: the CHANGELOG section of this version, the pre-commit mirror"
run bash scripts/release.sh check "$(bash scripts/release.sh version)"
mirror="$(mktemp -d)"
run bash scripts/release.sh mirror "$(bash scripts/release.sh version)" "$mirror"
run "$ISMS_TOOLS/bin/pre-commit" validate-manifest "$mirror/.pre-commit-hooks.yaml"
rm -rf "$mirror"

step "the wheel: maturin build --release --locked (reuses target/release when it is current)"
wheels="target/wheels"
rm -f "$wheels"/isms_lint-*.whl
wheel_start=$SECONDS
run "$ISMS_TOOLS/bin/maturin" build --release --locked --out "$wheels"
wheel_secs=$((SECONDS - wheel_start))
wheel="$(ls "$wheels"/isms_lint-*.whl)"
echo "wheel built in ${wheel_secs}s: $wheel"

step "tests/wheel/run.sh (pip install into a fresh venv, --version, real scans)"
run bash tests/wheel/run.sh "$wheel"

step "tests/pre-commit/run.sh wheel (the mirror hooks, language: python, with the wheel)"
if command -v timeout >/dev/null; then
  run timeout 600 bash tests/pre-commit/run.sh wheel "$wheel"
else
  run bash tests/pre-commit/run.sh wheel "$wheel"
fi

if [[ "${ISMS_SOURCE_HOOK:-}" == 1 ]]; then
  step "tests/pre-commit/run.sh source (this repository's hooks, language: rust; compiles isms-lint)"
  if command -v timeout >/dev/null; then
    run timeout 900 bash tests/pre-commit/run.sh source
  else
    run bash tests/pre-commit/run.sh source
  fi
else
  step "tests/pre-commit/run.sh source: not run (ISMS_SOURCE_HOOK=1 runs it; see the header)"
fi

step "integrations passed in $((SECONDS - start))s"
