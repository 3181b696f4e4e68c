#!/usr/bin/env python3
"""Moves `# expect: <rule>` markers to the lines a rule now reports, after a deliberate change
of where findings point. Feed it the output of `isms-lint test`:

    isms-lint test [RULES_DIR --fixtures fixtures] | scripts/move-expect-markers.py

Only Wrong-line cases are moved; review the diff before committing."""
import re
import sys

rule = None
moves = []
for line in sys.stdin:
    m = re.match(r"FAILED (\S+)", line)
    if m:
        rule = m.group(1)
        continue
    m = re.search(r"Wrong-line: (.+?): expected line (\d+), reported line (\d+)", line)
    if m and rule:
        moves.append((m.group(1), rule, int(m.group(2)), int(m.group(3))))

for path, rule, old, new in moves:
    sidecar = path + ".expect"
    try:
        with open(sidecar) as f:
            entries = f.read().splitlines()
        entries = [f"{new} {rule}" if e.split() == [str(old), rule] else e for e in entries]
        with open(sidecar, "w") as f:
            f.write("\n".join(entries) + "\n")
        print(f"{sidecar}: {rule} {old} -> {new}")
        continue
    except FileNotFoundError:
        pass
    with open(path) as f:
        lines = f.read().split("\n")
    src = lines[old - 1]
    marker = re.search(r"\s*#\s*expect:.*$", src)
    ids = [t for t in re.split(r"[,\s]+", marker.group(0).split("expect:", 1)[1]) if t]
    rest = [t for t in ids if t != rule]
    lines[old - 1] = src[: marker.start()] + (f"  # expect: {', '.join(rest)}" if rest else "")
    target = lines[new - 1]
    if "# expect:" in target:
        lines[new - 1] = target.rstrip() + f", {rule}"
    else:
        lines[new - 1] = target.rstrip() + f"  # expect: {rule}"
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"{path}: {rule} {old} -> {new}")
