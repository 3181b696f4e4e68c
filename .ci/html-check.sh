#!/usr/bin/env bash
# The HTML Statement of Applicability as a person sees it (docs/soa.md#the-html-page).
#
#   bash .ci/html-check.sh [ISMS_LINT_BIN]      (a step of .ci/run; also runs on its own)
#
# Writes four pages with the given binary (default target/release/isms-lint) into
# target/html-check/: the fixtures' page (fixtures/ with tests/html/demo.isms-lint.yaml), a page
# whose data tries to inject markup, a bundle written with --history (three earlier bundles and
# one tampered with), and an organisation merge of three repositories with --format html. Then
# tests/html/check.mjs opens each in Debian's headless Chromium (playwright-core) and checks the
# DOM (93 control cells, filters, sorting, marks), console errors, network requests and axe-core,
# and leaves screenshots and a PDF print next to the pages (a CI artifact).
# Installs chromium (apt), playwright-core and axe-core (npm) through .ci/install-tools.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ISMS_TOOLS="${ISMS_TOOLS:-/tmp/isms-lint-tools}" NO_COLOR=1
unset GITHUB_REPOSITORY GITHUB_WORKSPACE ISMS_LINT_TODAY
bin="${1:-${ISMS_LINT_BIN:-target/release/isms-lint}}"
bin="$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin")"
out="$PWD/target/html-check"
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n==> html-check: %s\n' "$*"; }

step "install chromium, playwright-core, axe-core"
bash .ci/install-tools.sh browser

expect_code() { # expect_code WANT CMD...: run CMD, fail unless it exits WANT
  local want="$1" code=0
  shift
  "$@" || code=$?
  [[ "$code" -eq "$want" ]] || { echo "expected exit $want from: $*, got $code" >&2; exit 1; }
}

step "the fixtures' page"
# Named as the project's repository, whatever folder the checkout is in (also docs/soa-html.png).
GITHUB_REPOSITORY=isms-lint/isms-lint GITHUB_WORKSPACE="$PWD" expect_code 0 "$bin" soa fixtures/ \
  --config tests/html/demo.isms-lint.yaml --format html --output "$out/fixtures.html"

step "a page whose data tries to inject markup"
hostile="$work/hostile"
mkdir -p "$hostile/rules" "$hostile/k8s"
cat >"$hostile/rules/priv.yaml" <<'EOF'
title: Containers must not run privileged
severity: high
kinds: [kubernetes]
controls:
  - id: "8.2"
    relation: partial
    rationale: "<img src=x onerror=window.__pwned=1> is not a rationale"
select: containers(doc)
assert: "!item.?securityContext.?privileged.orValue(false)"
at: securityContext.privileged
message: "container '{{ item.name }}' runs privileged"
remediation: Set privileged to false.
EOF
cat >"$hostile/k8s/<img src=x onerror=window.__pwned=1>.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: "<script>window.__pwned=1</script>"
spec:
  containers:
    - name: "<script>window.__pwned=1</script>"
      securityContext:
        privileged: true
EOF
cat >"$hostile/.isms-lint.yaml" <<'EOF'
controls:
  "8.2": {applicable: true, owner: "<script>window.__pwned=1</script>", justification: "</dd></dl><script>window.__pwned=1</script>", evidence: ["javascript:window.__pwned=1", "https://wiki.example/\"><script>window.__pwned=1</script>"]}
EOF
(cd "$hostile" && expect_code 0 "$bin" soa . --no-default-rules --rules rules --format html --output "$out/hostile.html")

git_repo() { # git_repo DIR OWNER/NAME: an empty repository named by its origin remote
  mkdir -p "$1"
  git -C "$1" init -q -b main
  git -C "$1" config user.name "CI"
  git -C "$1" config user.email "ci@example.com"
  git -C "$1" remote add origin "https://github.com/$2.git"
}
commit() { # commit DIR DATE MESSAGE
  git -C "$1" add -A
  GIT_AUTHOR_DATE="$2T02:23:00Z" GIT_COMMITTER_DATE="$2T02:23:00Z" git -C "$1" commit -q -m "$3"
}
pod() { # pod PRIVILEGED
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n    - name: app\n      image: registry.example/web@sha256:%s\n      securityContext:\n        privileged: %s\n        runAsNonRoot: true\n' \
    "$(printf '%064d' 0)" "$1"
}

step "history: three nightly bundles, one more tampered with, then a bundle with --history"
repo="$work/payments"
history="$work/history"
git_repo "$repo" acme/payments
pod true >"$repo/pod.yaml"
commit "$repo" 2026-11-25 "first"
(cd "$repo" && expect_code 0 "$bin" evidence . --out "$history/2026-11-25")
printf 'services:\n  web:\n    image: nginx:1.27\n    network_mode: host\n' >"$repo/compose.yaml"
commit "$repo" 2026-11-26 "compose"
(cd "$repo" && expect_code 0 "$bin" evidence . --out "$history/2026-11-26")
pod false >"$repo/pod.yaml"
commit "$repo" 2026-11-27 "unprivileged"
(cd "$repo" && expect_code 0 "$bin" evidence . --out "$history/2026-11-27")
cp -r "$history/2026-11-27" "$history/2026-11-27-edited"
sed -i 's/"status": "failing"/"status": "passing"/' "$history/2026-11-27-edited/soa.json"
printf 'services:\n  web:\n    image: nginx:1.27\n' >"$repo/compose.yaml"
commit "$repo" 2026-11-28 "no host network"
(cd "$repo" && expect_code 0 "$bin" evidence . --out "$work/bundle" --history "$history")
"$bin" evidence verify "$work/bundle"
cp "$work/bundle/soa.html" "$out/history.html"

step "organisation: three repositories merged with --format html"
bundles=()
for name in payments web infra; do
  r="$work/org-$name"
  git_repo "$r" "acme/$name"
  case "$name" in
    payments) pod true >"$r/pod.yaml" ;;
    web) pod false >"$r/pod.yaml"; printf 'FROM nginx:latest\nUSER root\n' >"$r/Dockerfile" ;;
    infra) printf 'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n' >"$r/main.tf" ;;
  esac
  commit "$r" 2026-11-28 "state"
  (cd "$r" && expect_code 0 "$bin" evidence . --out "$work/bundles/$name")
  bundles+=("$work/bundles/$name")
done
expect_code 0 "$bin" evidence merge "${bundles[@]}" --out "$out/org" --format html --expect acme/payments,acme/web,acme/infra
"$bin" evidence verify "$out/org"

step "headless Chromium: DOM, filters, console, requests, axe-core, screenshots"
node tests/html/check.mjs "$out" \
  fixtures="$out/fixtures.html" hostile="$out/hostile.html" history="$out/history.html" org="$out/org/soa.html" \
  2>&1 | tee "$out/check.log"
