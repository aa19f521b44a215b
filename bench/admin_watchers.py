#!/usr/bin/env python3
"""What watching costs a run: A->F over a generated corpus through `serve`, alone and with N
`ingestctl watch` clients following it, alternating, median of REPEAT each.

usage: admin_watchers.py BIN_DIR [--docs 5000] [--watchers 50] [--repeat 3]
Prints the wall time of every run, the medians and their ratio (the goal: under 5 % slower).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

from fleetlib import kill_all, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    coordinator = os.path.join(args.bin_dir, "ingest-coordinator")
    ctl = os.path.join(args.bin_dir, "ingestctl")
    procs = []
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), os.path.join(work, "corpus"),
                        str(args.docs)], check=True)
        with open(os.path.join(work, "bench.yaml"), "w") as f:
            f.write("env: bench\nartifact_root: ./artifacts\n"
                    "fleet: { bind: \"tcp://127.0.0.1:*\", wait_for_workers_s: 30, heartbeat_ms: 500 }\n"
                    "schedule: { cron: \"0 2 1 1 *\" }\n"
                    "sources:\n  - { name: corpus, kind: files, root: ./corpus }\n")
        err = os.path.join(work, "serve.err")
        try:
            serve = subprocess.Popen([coordinator, "serve", "--config", os.path.join(work, "bench.yaml"),
                                      "--admin-listen", "127.0.0.1:0", "--local-workers", "2",
                                      "--local-worker-slots", "1"],
                                     stdout=subprocess.DEVNULL, stderr=open(err, "w"))
            procs.append(serve)
            line, _ = wait_for(err, "admin: listening on ", 30)
            if line is None:
                sys.exit("serve did not start: " + open(err).read())
            server = re.search(r"listening on (\S+)", line).group(1)
            wait_for(err, "joined", 30)
            ctl_base = [ctl, "--server", server]
            times = {"alone": [], "watched": []}
            for round_ in range(args.repeat):
                for mode in ("alone", "watched"):
                    run_id = subprocess.run(ctl_base + ["run", "--full-refresh"], check=True,
                                            capture_output=True, text=True).stdout.strip()
                    watchers = []
                    if mode == "watched":
                        for _ in range(args.watchers):
                            watchers.append(subprocess.Popen(ctl_base + ["--json", "watch", run_id],
                                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                        procs.extend(watchers)
                    # The run's own duration, as it recorded it: the watchers' start-up is not counted.
                    subprocess.run(ctl_base + ["watch", run_id], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                    for w in watchers:
                        w.wait(timeout=60)
                    status = subprocess.run(ctl_base + ["--json", "status", run_id], check=True,
                                            capture_output=True, text=True).stdout
                    duration = float(re.search(r'"duration_s":([0-9.]+)', status).group(1))
                    times[mode].append(duration)
                    print(f"round {round_ + 1} {mode:8s} run {run_id}: {duration:.2f} s"
                          + (f" ({args.watchers} watchers)" if watchers else ""), flush=True)
            alone = statistics.median(times["alone"])
            watched = statistics.median(times["watched"])
            print(f"A->F over {args.docs} documents, 2 single-slot workers: median {alone:.2f} s alone, "
                  f"{watched:.2f} s with {args.watchers} watchers: {100 * (watched / alone - 1):+.1f} %")
        finally:
            serve_alive = [p for p in procs if p.poll() is None]
            for p in serve_alive[1:]:
                p.kill()
            if procs and procs[0].poll() is None:
                procs[0].terminate()
                procs[0].wait(timeout=60)
            kill_all(procs)


if __name__ == "__main__":
    main()
