#!/usr/bin/env bash
# The compiled CEL evaluator against the interpreter it replaced (issue 18), on real and
# generated inputs: the reports are byte-identical (JSON and SARIF, every profile), and the
# differential engine, which runs both evaluators on every evaluation of the scan and stops on
# the first difference in value, error, CEL cost or values read, finds none.
# Inputs: ../shared/corpus (skipped with a notice when absent) and the benchmark corpus
# (scripts/gen_corpus.py, deterministic: 10,000 files, generated here).
# Usage: .ci/compiled-cel.sh BIN
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:?usage: .ci/compiled-cel.sh BIN}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

compare() { # compare NAME DIR
  local name="$1" dir="$2" engine format
  for engine in compiled interpreter differential; do
    for format in json sarif; do
      # the differential engine's JSON says all there is to say (SARIF is the same findings)
      [ "$engine" = differential ] && [ "$format" = sarif ] && continue
      if ! ISMS_LINT_CEL_ENGINE="$engine" timeout 900 "$bin" scan "$dir" --no-config \
          --profile all --format "$format" --output "$out/$name.$engine.$format" \
          --fail-on none 2>"$out/$name.$engine.err"; then
        cat "$out/$name.$engine.err" >&2
        echo "$name: the $engine scan failed" >&2
        exit 1
      fi
      if grep -q 'panicked' "$out/$name.$engine.err"; then
        cat "$out/$name.$engine.err" >&2
        echo "$name: the $engine scan panicked (a difference, for the differential engine)" >&2
        exit 1
      fi
    done
  done
  for pair in interpreter.json interpreter.sarif differential.json; do
    if ! cmp -s "$out/$name.compiled.${pair#*.}" "$out/$name.$pair"; then
      diff <(head -c 2000000 "$out/$name.compiled.${pair#*.}") <(head -c 2000000 "$out/$name.$pair") \
        | head -20 >&2 || true
      echo "$name: the ${pair%.*} engine's ${pair#*.} report differs from the compiled one's" >&2
      exit 1
    fi
  done
  echo "$name: compiled and interpreted reports identical (JSON, SARIF); differential engine: no difference"
}

corpus="${ISMS_CORPUS:-../shared/corpus}"
if [ -d "$corpus" ]; then
  compare corpus "$corpus"
else
  echo "notice: $corpus is absent; skipping it"
fi
python3 scripts/gen_corpus.py "$out/bench" >/dev/null
compare bench "$out/bench"
