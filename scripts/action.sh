#!/usr/bin/env bash
# The scan step of the isms-lint GitHub Action (action.yml). One scan, several reports:
#   - GitHub annotations (`--format github`) on stdout when ISMS_ANNOTATIONS is true, else the text report
#   - SARIF in $RUNNER_TEMP/isms-lint.sarif (for github/codeql-action/upload-sarif); with --new-since
#     (pull requests) it still holds every finding (`--also-all`): code scanning compares it with
#     the base branch's analysis itself, while annotations and the summary show only new findings
#   - a Markdown summary (with the Annex A controls table; most severe findings first) appended to
#     $GITHUB_STEP_SUMMARY
#   - step outputs in $GITHUB_OUTPUT: sarif-file, findings (open findings), exit-code
# It never fails on findings: action.yml's last step turns `exit-code` into the job's verdict, after
# the SARIF upload. It exits non-zero only when it cannot run at all (e.g. RUNNER_TEMP unset).
#
# Inputs come only from the environment (action.yml maps `inputs.*` to these in `env:`):
#   ISMS_LINT_BIN     the isms-lint binary (default: `isms-lint` on PATH)
#   ISMS_PATHS        files/directories to scan, whitespace- or newline-separated (default `.`)
#   ISMS_CONFIG       --config FILE (optional)
#   ISMS_RULES        --rules DIR…, whitespace- or newline-separated (optional)
#   ISMS_ONLY         --only RULE_OR_CONTROL,… (optional)
#   ISMS_SKIP         --skip RULE_OR_CONTROL,… (optional)
#   ISMS_FAIL_ON      --fail-on (default `low`)
#   ISMS_NEW_SINCE    --new-since REF; empty = on pull_request(_target) events the PR base SHA from
#                     $GITHUB_EVENT_PATH, else none; `none` = never
#   ISMS_ANNOTATIONS  true|false (default true)
#   ISMS_ARGS         further `scan` options, split like a shell splits words (quotes group, a
#                     backslash escapes) but never expanded or run: `$(…)`, `;`, `*` stay plain text
#   ISMS_FETCH_DEPTH  history to fetch when the PR base is missing from a shallow clone (default 50)
# and the runner's GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# GITHUB_EVENT_NAME, GITHUB_EVENT_PATH.
set -euo pipefail

log() { printf 'isms-lint action: %s\n' "$*" >&2; }
warn() { printf '::warning title=isms-lint::%s\n' "$*"; }

is_true() {
  case "$(lower "$1")" in
    true | yes | on | 1) return 0 ;;
    *) return 1 ;;
  esac
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

# json_get FILE KEY...: a scalar of a JSON document (python3, else jq); empty when absent
json_get() {
  local file="$1"
  shift
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$file" "$@" <<'PY' 2>/dev/null || true
import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2:]:
    v = v.get(k) if isinstance(v, dict) else None
if isinstance(v, bool):
    v = str(v).lower()
print("" if v is None or isinstance(v, (dict, list)) else v)
PY
  elif command -v jq >/dev/null 2>&1; then
    local path="" k
    for k in "$@"; do path+="[\"$k\"]"; done
    jq -r "${path} // empty" "$file" 2>/dev/null || true
  fi
}

# split_args STRING: the words of STRING in the array `words`, split the way a shell splits them
# (blanks and newlines separate; '…' and "…" group, with \" and \\ inside "…"; a backslash
# escapes the next character) but never expanded or run. Returns 1 on an unterminated quote.
split_args() {
  local s="$1" i=0 n=${#1} c next word="" in_word=0 quote=""
  words=()
  while ((i < n)); do
    c="${s:i:1}"
    if [[ -n "$quote" ]]; then
      next="${s:i+1:1}"
      if [[ "$c" == "$quote" ]]; then
        quote=""
      elif [[ "$quote" == '"' && "$c" == "\\" && ( "$next" == '"' || "$next" == "\\" ) ]]; then
        word+="$next"
        i=$((i + 1))
      else
        word+="$c"
      fi
    else
      case "$c" in
        ' ' | $'\t' | $'\n' | $'\r')
          if ((in_word)); then
            words+=("$word")
            word=""
            in_word=0
          fi
          ;;
        "'" | '"')
          quote="$c"
          in_word=1
          ;;
        "\\")
          i=$((i + 1))
          word+="${s:i:1}"
          in_word=1
          ;;
        *)
          word+="$c"
          in_word=1
          ;;
      esac
    fi
    i=$((i + 1))
  done
  [[ -z "$quote" ]] || return 1
  if ((in_word)); then words+=("$word"); fi
  return 0
}

output() { # output NAME VALUE: a step output
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
  log "output $1=$2"
}

bin="${ISMS_LINT_BIN:-isms-lint}"
tmp="${RUNNER_TEMP:?RUNNER_TEMP is not set (this script runs inside a GitHub Actions job)}"
workspace="${GITHUB_WORKSPACE:-$PWD}"
fail_on="${ISMS_FAIL_ON:-low}"
fail_on="$(lower "$fail_on")"
annotations="${ISMS_ANNOTATIONS:-true}"
depth="${ISMS_FETCH_DEPTH:-50}"
[[ "$depth" =~ ^[1-9][0-9]*$ ]] || depth=50

cd "$workspace"

if ! command -v "$bin" >/dev/null 2>&1; then
  printf '::error title=isms-lint::isms-lint binary not found: %s\n' "$bin"
  output exit-code 127
  output findings 0
  exit 0
fi

# whitespace/newline-separated lists, split without glob expansion (bash 3.2-safe: macOS runners)
paths=()
IFS=$' \t\r\n' read -r -d '' -a paths < <(printf '%s\0' "${ISMS_PATHS:-.}") || true
((${#paths[@]})) || paths=(.)
rule_dirs=()
IFS=$' \t\r\n' read -r -d '' -a rule_dirs < <(printf '%s\0' "${ISMS_RULES:-}") || true
words=()
if ! split_args "${ISMS_ARGS:-}"; then
  printf '::error title=isms-lint::the args input has an unterminated quote\n'
  output exit-code 2
  output findings 0
  output sarif-file ""
  exit 0
fi
extra=(${words[@]+"${words[@]}"})

# --new-since: explicit ref, `none`, or (empty) the pull request's base commit
new_since="${ISMS_NEW_SINCE:-}"
case "$(lower "$new_since")" in
  none | false | off) new_since="" ;;
  "")
    case "${GITHUB_EVENT_NAME:-}" in
      pull_request | pull_request_target)
        if [[ -f "${GITHUB_EVENT_PATH:-}" ]]; then
          base_sha="$(json_get "$GITHUB_EVENT_PATH" pull_request base sha)"
          if [[ "$base_sha" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]]; then
            new_since="$base_sha"
            log "pull request: reporting only findings new since the base commit $base_sha"
          else
            warn "could not read pull_request.base.sha from GITHUB_EVENT_PATH; scanning without --new-since"
          fi
        fi
        ;;
    esac
    ;;
esac

# Make sure the base commit and a merge-base with HEAD are in the clone (actions/checkout fetches
# one commit by default). Fetching needs the remote to be readable; otherwise ask for fetch-depth: 0.
if [[ -n "$new_since" ]] && git rev-parse --git-dir >/dev/null 2>&1; then
  if ! git rev-parse --verify --quiet "${new_since}^{commit}" >/dev/null ||
    ! git merge-base "$new_since" HEAD >/dev/null 2>&1; then
    if [[ "$(git rev-parse --is-shallow-repository 2>/dev/null)" == true ]]; then
      fetch=(git fetch --no-tags --depth="$depth" origin "$new_since" "$(git rev-parse HEAD)")
    else
      fetch=(git fetch --no-tags origin "$new_since")
    fi
    log "base commit or merge-base missing locally; running: ${fetch[*]}"
    if ! "${fetch[@]}" >&2; then
      warn "could not fetch '$new_since' from origin. Set 'fetch-depth: 0' on actions/checkout so the base commit is in the clone."
    elif ! git merge-base "$new_since" HEAD >/dev/null 2>&1; then
      warn "no merge-base of '$new_since' and HEAD within $depth commits. Set 'fetch-depth: 0' on actions/checkout."
    fi
  fi
fi

sarif="$tmp/isms-lint.sarif"
json="$tmp/isms-lint.json"
summary="$tmp/isms-lint-summary.md"
rm -f "$sarif" "$json" "$summary"

# On pull requests (--new-since) the SARIF keeps every finding: code scanning diffs it itself
if [[ -n "$new_since" ]]; then
  sarif_out=(--also-all "sarif=$sarif")
else
  sarif_out=(--also "sarif=$sarif")
fi
args=(scan --fail-on "$fail_on" "${sarif_out[@]}" --also "json=$json" --also "markdown=$summary")
if is_true "$annotations"; then
  args+=(--format github)
else
  args+=(--format text --color never)
fi
[[ -z "${ISMS_CONFIG:-}" ]] || args+=(--config "$ISMS_CONFIG")
for d in ${rule_dirs[@]+"${rule_dirs[@]}"}; do args+=(--rules "$d"); done
[[ -z "${ISMS_ONLY:-}" ]] || args+=(--only "$ISMS_ONLY")
[[ -z "${ISMS_SKIP:-}" ]] || args+=(--skip "$ISMS_SKIP")
[[ -z "$new_since" ]] || args+=(--new-since "$new_since")
args+=(${extra[@]+"${extra[@]}"})
args+=(-- "${paths[@]}")

printf 'isms-lint action: running:' >&2
printf ' %q' "$bin" "${args[@]}" >&2
printf '\n' >&2

set +e
"$bin" "${args[@]}"
code=$?
set -e
log "isms-lint exited with $code"

findings=0
if [[ -s "$json" ]]; then
  n="$(json_get "$json" summary open_findings)"
  if [[ -z "$n" ]]; then # neither python3 nor jq: the JSON report is pretty-printed, one key a line
    n="$(sed -n 's/^ *"open_findings": *\([0-9][0-9]*\).*/\1/p' "$json" | head -n 1)"
  fi
  [[ "$n" =~ ^[0-9]+$ ]] && findings="$n"
fi

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    if [[ -s "$summary" ]]; then
      cat "$summary"
      # shellcheck disable=SC2016 # backticks are Markdown
      [[ -z "$new_since" ]] || printf '\n_Only findings new since `%s` (merge-base with HEAD) are listed; the SARIF upload holds them all._\n' "$new_since"
    else
      printf '## isms-lint: ISO/IEC 27001:2022 Annex A checks\n\n'
      printf '**❌ failed** — isms-lint could not complete the scan (exit code %s); see the job log.\n' "$code"
    fi
    printf '\n'
  } >>"$GITHUB_STEP_SUMMARY"
fi

if [[ -s "$sarif" ]]; then
  output sarif-file "$sarif"
else
  output sarif-file ""
fi
output findings "$findings"
output exit-code "$code"
exit 0
