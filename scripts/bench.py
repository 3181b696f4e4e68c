#!/usr/bin/env python3
"""Benchmark isms-lint on a generated corpus and print the figures docs/performance.md reports.

    python3 scripts/bench.py [--files 10000] [--runs 3] [--bin target/release/isms-lint]

It generates a deterministic corpus (scripts/gen_corpus.py) under target/bench-corpus, then
measures, as whole processes (median of --runs): a parse-only scan (no rules), a full scan with
every built-in rule, both with --jobs 1 and with all cores, peak RSS (getrusage of the child),
files/s and MB/s, the full/parse-only ratio, throughput on a quarter-size corpus (linearity in
files), the rule-gate statistics and slowest rules of `--timings`, and a 3-file run as pre-commit
does it.
It is a benchmark, not a test: it asserts nothing and prints the targets next to the results."""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd):
    """Runs cmd; returns (wall seconds, peak RSS in MB of that child, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed with {p.returncode}:\n{p.stderr}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; runs are ordered small to large.
    return wall, max(peak, before) / 1024.0, p.stderr


def median_run(cmd, cwd, runs):
    results = [run(cmd, cwd) for _ in range(runs)]
    walls = [r[0] for r in results]
    return statistics.median(walls), max(r[1] for r in results), results[-1][2]


def corpus_size(path):
    files, size = 0, 0
    for d, _, names in os.walk(path):
        for n in names:
            files += 1
            size += os.path.getsize(os.path.join(d, n))
    return files, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/isms-lint"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "target/bench-corpus"))
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    if not os.path.isdir(args.corpus):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_corpus.py"), args.corpus, str(args.files)], check=True)
    files, size = corpus_size(args.corpus)
    mb = size / 1e6
    base = [args.bin, "scan", ".", "--no-config", "--format", "json", "--output", os.devnull, "--timings"]
    rows = []
    for label, extra in [
        ("parse only, all cores", ["--no-default-rules"]),
        ("parse only, --jobs 1", ["--no-default-rules", "--jobs", "1"]),
        ("full scan, all cores", []),
        ("full scan, --jobs 1", ["--jobs", "1"]),
    ]:
        wall, rss, err = median_run(base + extra, args.corpus, args.runs)
        timings = [l for l in err.splitlines() if l.startswith(("timings:", "rules:", "  "))]
        rows.append((label, wall, rss, timings))
    print(f"corpus: {files} files, {mb:.1f} MB ({args.corpus})")
    print(f"{'run':<24} {'wall s':>7} {'files/s':>9} {'MB/s':>7} {'peak RSS MB':>12}")
    for label, wall, rss, _ in rows:
        print(f"{label:<24} {wall:7.2f} {files / wall:9.0f} {mb / wall:7.1f} {rss:12.1f}")
    for label, _, _, timings in rows:
        print(f"  {label}: {timings[0] if timings else ''}")
    print("  full scan, all cores, " + "\n    ".join(rows[2][3][1:7]))
    parse_all, full_all = rows[0][1], rows[2][1]
    parse_1, full_1 = rows[1][1], rows[3][1]
    print(f"full / parse-only (all cores): {full_all / parse_all:.2f}x   (target <= 1.5x)")
    print(f"full / parse-only (--jobs 1):  {full_1 / parse_1:.2f}x")
    print(f"speed-up --jobs 1 -> all cores: {full_1 / full_all:.2f}x on {os.cpu_count()} cores")
    print(f"peak RSS, full scan: {max(rows[2][2], rows[3][2]):.1f} MB   (target < 200 MB)")
    # Scaling with the number of files: a quarter-size corpus from the same generator.
    quarter = args.corpus + "-quarter"
    if not os.path.isdir(quarter):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_corpus.py"), quarter, str(args.files // 4)], check=True)
    # Both hold the same three large files, so bytes/s is the fairer comparison.
    q_files, q_size = corpus_size(quarter)
    q_wall, _, _ = median_run(base, quarter, args.runs)
    q_rate, rate = q_size / 1e6 / q_wall, mb / full_all
    print(f"throughput vs corpus size (full scan, all cores): {q_files} files {q_rate:.2f} MB/s, "
          f"{files} files {rate:.2f} MB/s (ratio {rate / q_rate:.2f}; 1.0 is linear)")
    # Pre-commit: three staged files, as the hook passes them.
    three = []
    for d, _, names in sorted(os.walk(args.corpus)):
        for n in sorted(names):
            p = os.path.relpath(os.path.join(d, n), args.corpus)
            kinds = [p.endswith(".yaml") and p.startswith("k8s"), p.endswith("Dockerfile"), p.endswith(".tf")]
            if any(kinds) and not any(q.split("/")[0] == p.split("/")[0] for q in three):
                three.append(p)
        if len(three) == 3:
            break
    cmd = [args.bin, "scan", "--no-config", "--format", "text", "--color", "never"] + three
    walls = sorted(run(cmd, args.corpus)[0] for _ in range(max(args.runs, 10)))
    print(f"pre-commit run on 3 files ({', '.join(three)}): median {statistics.median(walls) * 1000:.0f} ms, "
          f"min {walls[0] * 1000:.0f} ms   (target < 100 ms)")


if __name__ == "__main__":
    main()
