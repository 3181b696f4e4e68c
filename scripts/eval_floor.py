#!/usr/bin/env python3
"""Where a full scan's evaluation time goes, by taking the built-in rules apart.

    python3 scripts/eval_floor.py [--runs 3] [--corpus target/bench-corpus] [--bin target/release/isms-lint]

It copies rules/ four times under target/eval-floor/, each time emptying one more part of every
rule, and scans the corpus with each copy (`--no-default-rules --rules DIR --timings`, JSON to a
file, all cores):

  full        the rules as they are (the same findings as a default scan);
  no-assert   `assert: "true"`: selects and filters everything, reports nothing;
  no-when     also no `when`: selects everything;
  no-select   also `select: "[]"`: the loop over rules and documents, gates included;

and with no rules at all (parse only). The differences between lines are what each part costs:
no-select - parse only = visiting every rule for every document; no-when - no-select = `select`;
no-assert - no-when = `when`; full - no-assert = `assert` and building, sorting and writing the
findings. Without `when`, a rule's gate settles fewer documents, so the no-when line runs more
selections than the full rules do: the floor of the rules as they are is no-assert. It prints
the median evaluation CPU (`--timings`) and wall time of each.
It is a measurement, not a test: it asserts nothing."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_KEY = r"(?=^[a-z_]+:|\Z)"


def strip(text, variant):
    """The rule file's text with the parts `variant` empties replaced."""
    order = ["full", "no-assert", "no-when", "no-select"]
    level = order.index(variant)
    if level >= 1:
        text = re.sub(r"^assert:.*?" + TOP_KEY, 'assert: "true"\n', text, flags=re.S | re.M)
    if level >= 2:
        text = re.sub(r"^when:.*?" + TOP_KEY, "", text, flags=re.S | re.M)
    if level >= 3:
        text = re.sub(r"^select:.*?" + TOP_KEY, 'select: "[]"\n', text, flags=re.S | re.M)
    return text


def write_variant(variant, out_root):
    out = os.path.join(out_root, variant)
    shutil.rmtree(out, ignore_errors=True)
    for d, _, names in os.walk(os.path.join(ROOT, "rules")):
        for n in names:
            src = os.path.join(d, n)
            dst = os.path.join(out, os.path.relpath(src, os.path.join(ROOT, "rules")))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(src) as f:
                text = f.read()
            with open(dst, "w") as f:
                f.write(strip(text, variant) if n.endswith(".yaml") else text)
    return out


def scan(binary, corpus, rules, out):
    cmd = [binary, "scan", corpus, "--no-default-rules", "--format", "json", "--output", out,
           "--fail-on", "none", "--timings"]
    if rules:
        cmd += ["--rules", rules]
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed with {p.returncode}:\n{p.stderr}")
    m = re.search(r"evaluate ([0-9.]+) ms \(cpu\)", p.stderr)
    if not m:
        sys.exit(f"no evaluate timing in:\n{p.stderr}")
    return wall, float(m.group(1)) / 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "target/bench-corpus"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/isms-lint"))
    args = ap.parse_args()
    if not os.path.isdir(args.corpus):
        sys.exit(f"{args.corpus} is missing: run scripts/bench.py once to generate it")
    out_root = os.path.join(ROOT, "target/eval-floor")
    os.makedirs(out_root, exist_ok=True)
    lines = [("parse only", None)]
    for variant in ["no-select", "no-when", "no-assert", "full"]:
        lines.append((variant, write_variant(variant, out_root)))
    results = {}
    for _ in range(args.runs):  # alternate the variants, so that load is shared evenly
        for name, rules in lines:
            r = scan(args.bin, args.corpus, rules, os.path.join(out_root, "report.json"))
            results.setdefault(name, []).append(r)
    print(f"{'rules':<12} {'wall s':>8} {'evaluate CPU s':>15}   (median of {args.runs})")
    for name, _ in lines:
        walls = [w for w, _ in results[name]]
        cpus = [c for _, c in results[name]]
        print(f"{name:<12} {statistics.median(walls):8.2f} {statistics.median(cpus):15.2f}")


if __name__ == "__main__":
    main()
