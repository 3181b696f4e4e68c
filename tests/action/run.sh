#!/usr/bin/env bash
# Tests of scripts/action.sh (the scan step of action.yml) outside GitHub: each case builds a fake
# runner environment (GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# GITHUB_EVENT_NAME, GITHUB_EVENT_PATH) in a temporary directory, runs the script with a clean
# environment and checks its outputs, annotations, summary and SARIF.
#
#   bash tests/action/run.sh            (binary: $ISMS_LINT_BIN, else target/release or target/debug)
#
# Prints `N passed, N failed`; exits 1 if any check failed.
# shellcheck disable=SC2016 # single-quoted checks and literal file names are meant verbatim
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
SCRIPT="$ROOT/scripts/action.sh"
FIXTURES="fixtures/k8s-container-privileged"
# fixtures/<rule>/pass is clean for its own rule only: other rules may report on it, so the fixture
# scans run that one rule (the action's `only` input)
ONLY=ISMS_ONLY=k8s-container-privileged

BIN="${ISMS_LINT_BIN:-}"
if [[ -z "$BIN" ]]; then # the newer of the release and debug builds
  for b in "$ROOT/target/release/isms-lint" "$ROOT/target/debug/isms-lint"; do
    if [[ -x "$b" && ( -z "$BIN" || "$b" -nt "$BIN" ) ]]; then BIN="$b"; fi
  done
fi
[[ -n "$BIN" && -x "$BIN" ]] || { echo "tests/action: no isms-lint binary (set ISMS_LINT_BIN or cargo build)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "tests/action: python3 is needed to check JSON" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/isms-action-test.XXXXXX")"
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
has_line() { grep -qxF -- "$2" "$1"; }            # exact line
has_text() { grep -qF -- "$2" "$1"; }             # substring
lacks_text() { ! grep -qF -- "$2" "$1"; }
has_regex() { grep -qE -- "$2" "$1"; }
valid_json() { python3 -m json.tool "$1" >/dev/null; }
sarif_results() { # sarif_results FILE N: the SARIF has exactly N results
  python3 - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc["version"] == "2.1.0", doc.get("version")
n = sum(len(run.get("results", [])) for run in doc["runs"])
sys.exit(0 if n == int(sys.argv[2]) else 1)
PY
}

baseline_states() { # baseline_states FILE "STATE…": the sorted baselineState values of the results
  python3 - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
states = sorted(r.get("baselineState", "-") for run in doc["runs"] for r in run.get("results", []))
sys.exit(0 if " ".join(states) == sys.argv[2] else 1)
PY
}

# run_action NAME WORKSPACE [VAR=VALUE...]: runs scripts/action.sh in a fresh fake runner
# environment $WORK/NAME; leaves stdout, stderr, the script's exit status, the outputs and the
# step summary in $WORK/NAME/{stdout,stderr,status,output,summary}
run_action() {
  local name="$1" workspace="$2"
  shift 2
  local d="$WORK/$name"
  mkdir -p "$d/runner-temp"
  : >"$d/output"
  : >"$d/summary"
  [[ -f "$d/event.json" ]] || printf '{}\n' >"$d/event.json"
  local status=0
  env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 \
    GITHUB_ACTIONS=true \
    GITHUB_WORKSPACE="$workspace" \
    RUNNER_TEMP="$d/runner-temp" \
    GITHUB_OUTPUT="$d/output" \
    GITHUB_STEP_SUMMARY="$d/summary" \
    GITHUB_EVENT_NAME=push \
    GITHUB_EVENT_PATH="$d/event.json" \
    ISMS_LINT_BIN="$BIN" \
    "$@" \
    bash "$SCRIPT" >"$d/stdout" 2>"$d/stderr" || status=$?
  echo "$status" >"$d/status"
  printf '%s\n' "--- $name (exit $status)" >&2
}

echo "== scripts/action.sh with $BIN"

# 1. a passing fixture
echo "-- pass fixture"
run_action pass "$ROOT" ISMS_PATHS="$FIXTURES/pass" "$ONLY"
d="$WORK/pass"
check "script exits 0" has_line "$d/status" 0
check "output exit-code=0" has_line "$d/output" "exit-code=0"
check "output findings=0" has_line "$d/output" "findings=0"
check "output sarif-file is RUNNER_TEMP/isms-lint.sarif" has_line "$d/output" "sarif-file=$d/runner-temp/isms-lint.sarif"
check "no annotations" lacks_text "$d/stdout" "::error"
check "summary says passed" has_text "$d/summary" "passed"
check "SARIF is valid JSON with 0 results" sarif_results "$d/runner-temp/isms-lint.sarif" 0

# 2. a failing fixture
echo "-- fail fixture"
run_action fail "$ROOT" ISMS_PATHS="$FIXTURES/fail/deployment.yaml" "$ONLY"
d="$WORK/fail"
check "script exits 0 (the verdict is the action's last step)" has_line "$d/status" 0
check "output exit-code=1" has_line "$d/output" "exit-code=1"
check "output findings=2" has_line "$d/output" "findings=2"
check "annotation ::error at deployment.yaml line 12" has_regex "$d/stdout" "^::error file=$FIXTURES/fail/deployment\.yaml,line=12,col=13,endLine=12,title=k8s-container-privileged \[high\] \(A\.8\.2 A\.8\.9\)::container 'setup' of Deployment 'web' runs privileged"
check "annotation ::error at deployment.yaml line 17" has_regex "$d/stdout" "^::error file=$FIXTURES/fail/deployment\.yaml,line=17,col=13,endLine=17,title=k8s-container-privileged"
check "exactly 2 annotations" test "$(grep -c '^::error ' "$d/stdout")" -eq 2
check "summary says failed" has_text "$d/summary" "failed"
check "summary has the controls table header" has_line "$d/summary" "| Annex A control | Open findings |"
check "summary has the A.8.2 row" has_line "$d/summary" "| A.8.2 Privileged access rights | 2 |"
check "summary has the A.8.9 row" has_line "$d/summary" "| A.8.9 Configuration management | 2 |"
check "SARIF exists" test -s "$d/runner-temp/isms-lint.sarif"
check "SARIF is valid JSON" valid_json "$d/runner-temp/isms-lint.sarif"
check "SARIF has 2 results" sarif_results "$d/runner-temp/isms-lint.sarif" 2

# 3. annotations: false prints the text report instead
echo "-- annotations: false"
run_action no-annotations "$ROOT" ISMS_PATHS="$FIXTURES/fail/deployment.yaml" ISMS_ANNOTATIONS=false "$ONLY"
d="$WORK/no-annotations"
check "no workflow commands" lacks_text "$d/stdout" "::error"
check "text report verdict" has_line "$d/stdout" "Result: FAILED (fail-on: low)."
check "output exit-code=1" has_line "$d/output" "exit-code=1"

# 4. fail-on: none
echo "-- fail-on: none"
run_action fail-on-none "$ROOT" ISMS_PATHS="$FIXTURES/fail/deployment.yaml" ISMS_FAIL_ON=none "$ONLY"
d="$WORK/fail-on-none"
check "output exit-code=0" has_line "$d/output" "exit-code=0"
check "output findings=2" has_line "$d/output" "findings=2"
check "annotations still printed" has_regex "$d/stdout" "^::error file=$FIXTURES/fail/deployment\.yaml,line=17,"

# 5. several paths, one of them a file
echo "-- several paths"
run_action many-paths "$ROOT" "$ONLY" ISMS_PATHS="$FIXTURES/pass
$FIXTURES/fail/deployment.yaml"
d="$WORK/many-paths"
check "output findings=2" has_line "$d/output" "findings=2"
check "output exit-code=1" has_line "$d/output" "exit-code=1"

# 6. a broken rules directory: exit 2, reported, summary still written
echo "-- rule error"
mkdir -p "$WORK/bad-rules"
printf 'title: Broken\nseverity: high\nkinds: [kubernetes]\ncontrols: [{id: "8.9", relation: partial, rationale: x}]\nassert: "item.(("\nmessage: m\nremediation: r\n' \
  >"$WORK/bad-rules/broken-rule.yaml"
run_action rule-error "$ROOT" ISMS_PATHS="$FIXTURES/pass" ISMS_RULES="$WORK/bad-rules"
d="$WORK/rule-error"
check "script exits 0" has_line "$d/status" 0
check "output exit-code=2" has_line "$d/output" "exit-code=2"
check "rule error annotated" has_regex "$d/stdout" "^::error file=.*broken-rule\.yaml,.*title=isms-lint rule error::"
check "summary written" test -s "$d/summary"

# 7. the binary is missing: recorded, not a crash
echo "-- missing binary"
run_action no-binary "$ROOT" ISMS_PATHS="$FIXTURES/pass" ISMS_LINT_BIN="$WORK/does-not-exist" "$ONLY"
d="$WORK/no-binary"
check "script exits 0" has_line "$d/status" 0
check "output exit-code=127" has_line "$d/output" "exit-code=127"

# 8. pull_request: only the finding introduced by the PR's commit is reported
echo "-- pull_request with --new-since from the event payload"
repo="$WORK/pr-repo"
mkdir -p "$repo/deploy"
git init -q "$repo"
g() { git -C "$repo" -c user.name=test -c user.email=test@example.invalid -c commit.gpgsign=false "$@"; }
sed 's/ # expect:.*//' "$ROOT/$FIXTURES/fail/deployment.yaml" >"$WORK/full.yaml"
# first commit: the fixture without its initContainers block (one privileged container, 'app')
awk '/^      initContainers:/ {skip = 1} /^      containers:/ {skip = 0} !skip' "$WORK/full.yaml" >"$repo/deploy/deployment.yaml"
g add -A && g commit -q -m "one privileged container"
base="$(g rev-parse HEAD)"
# second commit: the whole fixture (adds the privileged init container 'setup')
cp "$WORK/full.yaml" "$repo/deploy/deployment.yaml"
g add -A && g commit -q -m "another privileged container"
check "fixture setup: first commit has 1 privileged container" test "$(g show "$base:deploy/deployment.yaml" | grep -c 'privileged: true')" -eq 1
check "fixture setup: second commit has 2" test "$(grep -c 'privileged: true' "$repo/deploy/deployment.yaml")" -eq 2

mkdir -p "$WORK/pr"
printf '{"action":"synchronize","number":1,"pull_request":{"number":1,"base":{"ref":"main","sha":"%s"},"head":{"ref":"feature","sha":"%s"}}}\n' \
  "$base" "$(g rev-parse HEAD)" >"$WORK/pr/event.json"
# paths: deploy, not `.`: repository-level rules (CODEOWNERS, SECURITY.md…) only run on the
# repository root, and isms-lint's base tree for --new-since is not a repository.
run_action pr "$repo" GITHUB_EVENT_NAME=pull_request ISMS_PATHS=deploy "$ONLY"
d="$WORK/pr"
check "output exit-code=1" has_line "$d/output" "exit-code=1"
check "output findings=1" has_line "$d/output" "findings=1"
check "new finding annotated (setup, line 12)" has_regex "$d/stdout" "^::error file=deploy/deployment\.yaml,line=12,col=13,endLine=12,title=k8s-container-privileged \[high\] \(A\.8\.2 A\.8\.9\)::container 'setup' of Deployment 'web' runs privileged"
check "old finding not reported (app)" lacks_text "$d/stdout" "container 'app'"
check "exactly 1 annotation" test "$(grep -c '^::' "$d/stdout")" -eq 1
check "--new-since <base sha> was passed" has_text "$d/stderr" "--new-since $base"
check "summary notes the base commit" has_text "$d/summary" "Only findings new since \`$base\`"
check "SARIF keeps both findings (code scanning diffs them itself)" sarif_results "$d/runner-temp/isms-lint.sarif" 2
check "SARIF marks the old one unchanged and the new one new" baseline_states "$d/runner-temp/isms-lint.sarif" "new unchanged"
check "--also-all wrote the SARIF" has_text "$d/stderr" "--also-all sarif="

# 9. same repository, new-since: none reports everything
mkdir -p "$WORK/pr-none"
cp "$WORK/pr/event.json" "$WORK/pr-none/event.json"
run_action pr-none "$repo" GITHUB_EVENT_NAME=pull_request ISMS_NEW_SINCE=none ISMS_PATHS=deploy "$ONLY"
d="$WORK/pr-none"
check "new-since: none -> findings=2" has_line "$d/output" "findings=2"
check "new-since: none -> no --new-since" lacks_text "$d/stderr" "--new-since"

# 10. a shallow clone (actions/checkout's default depth 1): the script fetches the base commit
echo "-- pull_request in a shallow clone"
git -C "$repo" config uploadpack.allowAnySHA1InWant true   # as GitHub allows fetching by SHA
clone="$WORK/pr-shallow-clone"
git clone -q --depth 1 "file://$repo" "$clone"
check "fixture setup: clone is shallow and lacks the base" test "$(git -C "$clone" rev-parse --is-shallow-repository)" = true
mkdir -p "$WORK/pr-shallow"
cp "$WORK/pr/event.json" "$WORK/pr-shallow/event.json"
run_action pr-shallow "$clone" GITHUB_EVENT_NAME=pull_request ISMS_PATHS=deploy "$ONLY"
d="$WORK/pr-shallow"
check "fetched the base commit" has_text "$d/stderr" "running: git fetch --no-tags --depth=50 origin $base"
check "output exit-code=1" has_line "$d/output" "exit-code=1"
check "output findings=1" has_line "$d/output" "findings=1"

# 11. a shallow clone whose origin cannot be reached: a clear warning, exit 2 from isms-lint
echo "-- pull_request in a shallow clone without origin access"
clone2="$WORK/pr-shallow-offline"
git clone -q --depth 1 "file://$repo" "$clone2"
git -C "$clone2" remote set-url origin "file://$WORK/no-such-remote"
mkdir -p "$WORK/pr-offline"
cp "$WORK/pr/event.json" "$WORK/pr-offline/event.json"
run_action pr-offline "$clone2" GITHUB_EVENT_NAME=pull_request ISMS_PATHS=deploy "$ONLY"
d="$WORK/pr-offline"
check "warning tells to set fetch-depth: 0" has_regex "$d/stdout" "^::warning title=isms-lint::could not fetch .*fetch-depth: 0"
check "output exit-code=2" has_line "$d/output" "exit-code=2"
check "script exits 0" has_line "$d/status" 0

# 12. args: options with spaces, passed as single arguments, never through a shell
echo "-- args input"
ws="$WORK/args-ws"
mkdir -p "$ws/deploy/legacy dir"
sed 's/ # expect:.*//' "$ROOT/$FIXTURES/fail/deployment.yaml" >"$ws/deploy/app.yaml"
cp "$ws/deploy/app.yaml" "$ws/deploy/legacy dir/old.yaml"
run_action args "$ws" ISMS_PATHS=deploy "$ONLY" ISMS_ARGS="--exclude 'deploy/legacy dir/**' --show-suppressed"
d="$WORK/args"
check "output findings=2 (the excluded directory's 2 are gone)" has_line "$d/output" "findings=2"
check "the quoted value reached isms-lint as one argument" has_text "$d/stderr" "--exclude deploy/legacy\\ dir/\\*\\* --show-suppressed -- deploy"
check "no annotation on the excluded directory" lacks_text "$d/stdout" "legacy dir"
(cd "$ws" && "$BIN" baseline --only k8s-container-privileged -o "$WORK/args-baseline.json" deploy/app.yaml >/dev/null 2>&1) || true
run_action args-baseline "$ws" ISMS_PATHS=deploy/app.yaml "$ONLY" ISMS_ARGS="--baseline $WORK/args-baseline.json"
d="$WORK/args-baseline"
check "--baseline through args: findings=0" has_line "$d/output" "findings=0"
check "--baseline through args: exit-code=0" has_line "$d/output" "exit-code=0"

echo "-- args input cannot run commands"
run_action args-inject "$ws" ISMS_PATHS=deploy/app.yaml "$ONLY" \
  ISMS_ARGS="\$(touch $WORK/pwned1) \`touch $WORK/pwned2\`; touch $WORK/pwned3 | touch $WORK/pwned4"
d="$WORK/args-inject"
check "nothing was run" bash -c '! ls "$1"/pwned* >/dev/null 2>&1' _ "$WORK"
check "the words reached isms-lint as plain arguments (a usage error: exit-code=2)" has_line "$d/output" "exit-code=2"
check "\$( passed literally" has_text "$d/stderr" "\\\$\\(touch"
run_action args-quote "$ws" ISMS_PATHS=deploy/app.yaml ISMS_ARGS="--exclude 'unterminated"
d="$WORK/args-quote"
check "an unterminated quote: ::error" has_regex "$d/stdout" "^::error title=isms-lint::the args input has an unterminated quote$"
check "an unterminated quote: exit-code=2, no scan" has_line "$d/output" "exit-code=2"
check "an unterminated quote: isms-lint not run" lacks_text "$d/stderr" "running:"

# 13. job summary: most severe first, file names escaped (no Markdown or HTML from a path)
echo "-- job summary: order and escaping"
ws="$WORK/summary-ws"
mkdir -p "$ws/deploy"
sed 's/ # expect:.*//' "$ROOT/fixtures/k8s-allow-privilege-escalation/fail/deployment.yaml" >"$ws/deploy/a-medium.yaml"
hostile='z <img src=x onerror=alert(1)> [x](https:evil) `code` |cell|.yaml'
sed 's/ # expect:.*//' "$ROOT/$FIXTURES/fail/deployment.yaml" >"$ws/deploy/$hostile"
run_action summary "$ws" ISMS_PATHS=deploy ISMS_ONLY=k8s-container-privileged,k8s-allow-privilege-escalation
d="$WORK/summary"
rows="$WORK/summary-rows"
sed -n '/^| Severity | Rule | Location | Message |$/,/^$/p' "$d/summary" | sed '1,2d;/^$/d' >"$rows"
check "findings listed" test -s "$rows"
check "the first rows are high (the path sorts last)" bash -c 'head -n 2 "$1" | grep -c "^| high |" | grep -qx 2' _ "$rows"
check "medium rows come after every high row" bash -c 'awk -F"|" "{print \$2}" "$1" | tr -d " " | uniq | tr "\n" " " | grep -qx "high medium "' _ "$rows"
check "the hostile file name is escaped" has_text "$d/summary" 'deploy\/z \<img src\=x onerror\=alert\(1\)\> \[x\]\(https\:evil\) \`code\` \|cell\|\.yaml\:'
check "no unescaped < from the file name" bash -c '! grep -qE "(^|[^\\])<img" "$1"' _ "$d/summary"
check "no raw link from the file name" lacks_text "$d/summary" "[x](https"

# 14. repository-level findings: file-less notices, the root in SARIF
echo "-- repository-level findings"
run_action repo-level "$ROOT" ISMS_PATHS=fixtures/repo-codeowners-missing/fail ISMS_ONLY=repo-codeowners-missing
d="$WORK/repo-level"
check "a file-less ::notice" has_regex "$d/stdout" "^::notice title=repo-codeowners-missing \[medium\] \(A\.8\.4 A\.5\.3 A\.8\.32\)::no CODEOWNERS file"
check "no annotation on the README" lacks_text "$d/stdout" "README.md"
check "SARIF locates it on the repository root" python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]["results"][0]; sys.exit(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] != "fixtures/repo-codeowners-missing/fail/")' "$d/runner-temp/isms-lint.sarif"
check "the summary names the repository" has_text "$d/summary" "| medium | repo\-codeowners\-missing | repository fixtures\/repo\-codeowners\-missing\/fail |"

echo
echo "$passed passed, $failed failed"
if ((failed)); then
  echo "tests/action: failures; outputs kept in $WORK" >&2
  trap - EXIT
  exit 1
fi
