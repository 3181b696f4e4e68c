#!/usr/bin/env python3
"""Per-rule finding counts of corpus scans, as the Markdown table in docs/corpus.md.

Usage: corpus_counts.py BEFORE.json AFTER_DEFAULT.json AFTER_ALL.json
Each file is `isms-lint scan ../shared/corpus --no-config --format json` output (AFTER_ALL with
`--profile all`). Every rule with a finding in any of the three scans gets a row."""
import json
import sys
from collections import Counter


def counts(path):
    with open(path) as f:
        report = json.load(f)
    return Counter(f["rule_id"] for f in report["findings"]), report


def main():
    before, b = counts(sys.argv[1])
    default, d = counts(sys.argv[2])
    every, a = counts(sys.argv[3])
    rules = sorted(set(before) | set(default) | set(every), key=lambda r: (-before[r], r))
    print("| rule | before | after (default) | after (`--profile all`) |")
    print("|---|---:|---:|---:|")
    for r in rules:
        print(f"| `{r}` | {before[r]} | {default[r]} | {every[r]} |")
    print(
        f"| **total findings** | **{sum(before.values())}** | **{sum(default.values())}** "
        f"| **{sum(every.values())}** |"
    )
    print(
        f"| rule errors | {len(b['rule_errors'])} | {len(d['rule_errors'])} "
        f"| {len(a['rule_errors'])} |"
    )


if __name__ == "__main__":
    main()
