#!/usr/bin/env bash
# Validate SARIF 2.1.0 file(s) with the official SARIF Multitool, including the rules
# GitHub code scanning applies on upload ("Gh" rule kind).
#
#   .ci/sarif-validate.sh FILE.sarif [FILE.sarif ...]
#
# Exit: 0 = valid (warnings/notes are printed but allowed)
#       1 = at least one error-level finding
#       2 = usage error or the validator itself failed
# The multitool always exits 0 when it finds problems, so its own SARIF output is parsed.
#
# Env: ISMS_TOOLS                 tool cache (default /tmp/isms-lint-tools), auto-installed
#      SARIF_VALIDATE_RULE_KIND   default "Sarif;Gh"
#      SARIF_VALIDATE_CONFIG=FILE multitool policy XML (default: generated, enables GH1001-GH1007)
#      SARIF_VALIDATE_KEEP=DIR    keep the multitool's report(s) in DIR
#      SARIF_VALIDATE_QUIET_WARNINGS=1  don't list warnings/notes
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
MT_BIN="$TOOLS/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
RULE_KIND="${SARIF_VALIDATE_RULE_KIND:-Sarif;Gh}"

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 FILE.sarif [FILE.sarif ...]" >&2
  exit 2
fi

# self-contained .NET app: without libicu it aborts unless invariant globalization is on
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Install (idempotent, locked, version-checked) unless already present.
if [[ ! -x "$MT_BIN" ]] || ! "$MT_BIN" --version >/dev/null 2>&1; then
  ISMS_TOOLS="$TOOLS" bash "$HERE/install-tools.sh" multitool >&2 ||
    { echo "sarif-validate: could not install the SARIF multitool" >&2; exit 2; }
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sarif-validate.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The classic GitHub-upload rules GH1001-GH1007 are *disabled by default* even with
# --rule-kind Gh (multitool 5.7.0); only GH1011-GH2012 run. Turn them on via a policy file.
# GH1004 (array sizes over GitHub's display limits) stays a warning: GitHub truncates.
config="${SARIF_VALIDATE_CONFIG:-$work/gh-rules.xml}"
if [[ -z "${SARIF_VALIDATE_CONFIG:-}" ]]; then
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<Properties>'
    for r in GH1001.ProvideRequiredLocationProperties:Error GH1002.InlineThreadFlowLocations:Error \
             GH1003.ProvideRequiredRegionProperties:Error GH1004.ReviewArraysThatExceedConfigurableDefaults:Warning \
             GH1005.LocationsMustBeRelativeUrisOrFilePaths:Error GH1006.ProvideCheckoutPath:Error \
             GH1007.ProvideFullyFormattedMessageStrings:Error; do
      echo "  <Properties Key=\"${r%%:*}.Options\">"
      echo "    <Property Key=\"RuleEnabled\" Value=\"${r##*:}\" Type=\"Driver.RuleEnabledState\" />"
      echo '  </Properties>'
    done
    echo '</Properties>'
  } >"$config"
fi

# The multitool makes network requests while validating (about 100 s of timeouts per file in a
# sandbox whose only network is the package registries); validation needs none, so it runs in a
# network namespace of its own where that is possible (root, util-linux unshare): 9 s per file.
offline=()
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
fi

status=0
n=0
for input in "$@"; do
  n=$((n + 1))
  if [[ ! -f "$input" || ! -r "$input" ]]; then
    echo "sarif-validate: $input: no such readable file" >&2
    status=2
    continue
  fi
  abs="$(cd "$(dirname "$input")" && pwd)/$(basename "$input")"
  out="$work/$n.out.sarif"
  if ! "${offline[@]}" "$MT_BIN" validate --rule-kind "$RULE_KIND" -c "$config" --max-file-size-in-kb 4194304 \
      --log ForceOverwrite -o "$out" "$abs" \
      >"$work/$n.log" 2>&1 || [[ ! -s "$out" ]]; then
    echo "sarif-validate: $input: the multitool failed:" >&2
    cat "$work/$n.log" >&2
    status=2
    continue
  fi
  if [[ -n "${SARIF_VALIDATE_KEEP:-}" ]]; then
    mkdir -p "$SARIF_VALIDATE_KEEP" && cp "$out" "$SARIF_VALIDATE_KEEP/$(basename "$input").validation.sarif"
  fi
  python3 - "$out" "$input" <<'PY'
import json, os, re, sys

report_path, input_name = sys.argv[1], sys.argv[2]
quiet_warnings = os.environ.get("SARIF_VALIDATE_QUIET_WARNINGS") == "1"
try:
    with open(report_path, encoding="utf-8-sig") as f:
        log = json.load(f)
except Exception as e:  # noqa: BLE001
    print(f"sarif-validate: {input_name}: cannot read the multitool's report: {e}", file=sys.stderr)
    sys.exit(2)

def fmt_message(msg, rule):
    msg = msg or {}
    text = msg.get("text")
    if text is None and rule is not None:
        text = ((rule.get("messageStrings") or {}).get(msg.get("id") or "", {}) or {}).get("text")
    if text is None:
        text = msg.get("id") or "(no message)"
    args = msg.get("arguments") or []
    if msg.get("text") is None:  # .NET-style template: {0} placeholders, {{ }} escapes
        def sub(m):
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            i = int(m.group(1))
            return str(args[i]) if i < len(args) else m.group(0)
        text = re.sub(r"\{\{|\}\}|\{(\d+)\}", sub, text)
    return " ".join(text.split())

def fmt_location(res):
    for loc in res.get("locations") or []:
        pl = loc.get("physicalLocation") or {}
        region = pl.get("region") or {}
        where = input_name
        if "startLine" in region:
            where += f":{region['startLine']}"
            if "startColumn" in region:
                where += f":{region['startColumn']}"
        return where
    return input_name

errors, others = [], []
for run in log.get("runs") or []:
    rules = ((run.get("tool") or {}).get("driver") or {}).get("rules") or []
    by_id = {r.get("id"): r for r in rules}
    for res in run.get("results") or []:
        rule = None
        idx = res.get("ruleIndex")
        if isinstance(idx, int) and 0 <= idx < len(rules):
            rule = rules[idx]
        rule = rule or by_id.get(res.get("ruleId"))
        level = res.get("level") or ((rule or {}).get("defaultConfiguration") or {}).get("level") or "warning"
        rid = res.get("ruleId") or (rule or {}).get("id") or "?"
        name = (rule or {}).get("name")
        jpath = (res.get("properties") or {}).get("jsonPath")
        line = f"{fmt_location(res)}: {level} {rid}{'/' + name if name else ''}: {fmt_message(res.get('message'), rule)}"
        if jpath:
            line += f"  [at {jpath}]"
        (errors if level == "error" else others).append(line)
    for inv in run.get("invocations") or []:
        if inv.get("executionSuccessful") is False:
            errors.append(f"{input_name}: error: the validator reports executionSuccessful=false")
        for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
            for note in inv.get(key) or []:
                lvl = note.get("level") or "warning"
                d = (note.get("descriptor") or {}).get("id") or (note.get("associatedRule") or {}).get("id") or "?"
                text = " ".join(((note.get("message") or {}).get("text") or "").split())
                (errors if lvl == "error" else others).append(f"{input_name}: {lvl} {d}: {text}")

for e in errors:
    print(e)
if not quiet_warnings:
    for o in others:
        print(o)
verdict = "INVALID" if errors else "OK"
print(f"sarif-validate: {input_name}: {verdict}: {len(errors)} error(s), {len(others)} warning/note(s)")
sys.exit(1 if errors else 0)
PY
  rc=$?
  if ((rc > status)); then status=$rc; fi
done
exit "$status"
