#!/usr/bin/env python3
"""Alternating runs of two or more builds over the same corpus: before/after figures on a
machine whose speed changes from hour to hour.

usage: bench/alternate.py LABEL=BIN_DIR LABEL=BIN_DIR... [--mode full|none|one] [--rounds 8]
                          [--files 4000] [--peers DIR]

Each build gets its own copy of the corpus (the peer's 4,000 x 8 KB generator, or ours), its own
artifact root and state store, and one full refresh to start from. Then, round by round, each
build runs once, in the order of the round (reversed every other round, so that neither build
always follows the other): `full` a --full-refresh, `none` a rerun with nothing changed, `one` a
rerun after 1 % of its corpus changed (the same files in every copy). Printed per build: medians
of the wall time, the coordinator's own CPU (its log line), its local workers' CPU, bytes
written, the scan (from the run's first log line to its last source's) and the tasks executed,
then each round's wall time. The figures of a pair of builds are only comparable within one
script run. Nothing is asserted.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

from throughput import REPO, config, generate, median, run, touch_one_percent

STAMP = re.compile(r"T\d\d:(\d\d):([0-9.]+)Z")


def scan_seconds(log_path):
    """From the run's first log line to the last source's line, or NaN."""
    first = last = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stamp = STAMP.search(line)
            if not stamp:
                continue
            seconds = int(stamp.group(1)) * 60 + float(stamp.group(2))
            if first is None:
                first = seconds
            if " info source " in line:
                last = seconds
    if first is None or last is None:
        return float("nan")
    return (last - first) % 3600


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", metavar="LABEL=BIN_DIR")
    parser.add_argument("--mode", choices=["full", "none", "one"], default="full")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--peers", default=os.path.join(REPO, "..", "shared", "peers"))
    args = parser.parse_args()
    builds = []
    for spec in args.builds:
        label, sep, bin_dir = spec.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_]+", label):
            sys.exit(f"{spec}: expected LABEL=BIN_DIR, LABEL of letters, digits and _")
        if not os.path.exists(os.path.join(bin_dir, "ingest-coordinator")):
            sys.exit(f"{spec}: no ingest-coordinator in {bin_dir}")
        builds.append((label, os.path.abspath(bin_dir)))
    work = tempfile.mkdtemp(prefix="ingest-alternate-")
    try:
        master = os.path.join(work, "corpus")
        generate(os.path.abspath(args.peers), master, args.files, 8)
        configs = {}
        for label, bin_dir in builds:
            shutil.copytree(master, os.path.join(work, "corpus-" + label))
            configs[label] = config(work, label)
            run(bin_dir, configs[label], "--full-refresh")
        flags = ["--full-refresh"] if args.mode == "full" else ["--manual"]
        results = {label: [] for label, _ in builds}
        for r in range(args.rounds):
            for label, bin_dir in builds if r % 2 == 0 else builds[::-1]:
                if args.mode == "one":
                    touch_one_percent(os.path.join(work, "corpus-" + label), r + 1)
                figures = run(bin_dir, configs[label], *flags)
                figures["scan"] = scan_seconds(configs[label] + ".log")
                results[label].append(figures)
            print(f"round {r + 1}: " + ", ".join(f"{label} {results[label][-1]['wall']:.3f} s" for label, _ in builds),
                  flush=True)
        print(f"{args.mode}, {args.rounds} rounds, {args.files} x 8 KB, medians:")
        for label, _ in builds:
            rs = results[label]
            print(f"{label}: wall {median([x['wall'] for x in rs]):.3f} s, coordinator CPU "
                  f"{median([x['coordinator_cpu'] for x in rs]):.3f} s, workers' CPU "
                  f"{median([x['total_cpu'] - x['coordinator_cpu'] for x in rs]):.3f} s, written "
                  f"{median([x['written'] for x in rs]) / 1e6:.0f} MB, scan "
                  f"{1000 * median([x['scan'] for x in rs]):.0f} ms, tasks executed "
                  f"{median([x['tasks']['executed'] for x in rs]):.0f}; walls "
                  + " ".join(f"{x['wall']:.2f}" for x in rs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
