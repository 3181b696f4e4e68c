#!/usr/bin/env bash
# Validates isms-lint's OSCAL assessment results with a real OSCAL implementation:
# compliance-trestle (PyPI) loads the document through its AssessmentResults model.
#   .ci/oscal-validate.sh FILE.json
set -euo pipefail
TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}"
VENV="$TOOLS/trestle-venv"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import trestle" 2>/dev/null; then
  mkdir -p "$TOOLS"
  python3 -m venv "$VENV"
  for i in 1 2 3; do
    "$VENV/bin/pip" install -q "compliance-trestle==${TRESTLE_VERSION:-5.2.0}" && break
    sleep $((i * 5))
  done
fi
"$VENV/bin/python" - "$@" <<'PY'
import pathlib
import sys

from trestle.oscal.assessment_results import AssessmentResults

for name in sys.argv[1:]:
    ar = AssessmentResults.oscal_read(pathlib.Path(name))
    result = ar.results[0]
    print(f"{name}: valid OSCAL assessment results: "
          f"{len(result.observations or [])} observations, {len(result.findings or [])} findings")
PY
