#!/usr/bin/env python3
"""Recovery time from a worker SIGKILL to its tasks being requeued to the rest of the fleet.

usage: fleet_recovery.py BIN_DIR [--docs N] [--repeat R] [--heartbeat-ms MS]
Runs A->F over a generated corpus with two real workers ("victim" with 1 slot, "survivor" with 4);
when pass C starts, the victim is SIGKILLed. The figure is the time from the kill to the
coordinator's "worker victim is dead ... requeueing" line (requeued tasks are dispatched in the
same loop iteration to the survivor's free slots), and the run must still end with exit 0.
Prints the median over R runs.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from fleetlib import kill_all, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def one_run(bin_dir, work, heartbeat_ms, tag):
    err = os.path.join(work, f"coordinator-{tag}.err")
    procs = []
    try:
        coordinator = subprocess.Popen(
            [os.path.join(bin_dir, "ingest-coordinator"), "run", "--config", os.path.join(work, "fleet.yaml"),
             "--full-refresh"],
            stdout=subprocess.DEVNULL, stderr=open(err, "w"))
        procs.append(coordinator)
        line, _ = wait_for(err, "fleet: listening on ", 20)
        if line is None:
            sys.exit("coordinator did not start: " + open(err).read())
        endpoint = line.split("fleet: listening on ", 1)[1].strip()
        worker = [os.path.join(bin_dir, "ingest-worker"), "--connect", endpoint, "--heartbeat-ms", str(heartbeat_ms)]
        victim = subprocess.Popen(worker + ["--id", "victim", "--slots", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        survivor = subprocess.Popen(worker + ["--id", "survivor", "--slots", "4"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs += [victim, survivor]
        if wait_for(err, "pass C started", 60)[0] is None:
            sys.exit("pass C did not start: " + open(err).read())
        time.sleep(0.05)
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        line, seen_at = wait_for(err, "worker victim is dead", 60)
        if line is None:
            sys.exit("the coordinator never declared the victim dead: " + open(err).read())
        code = coordinator.wait(timeout=300)
        if code != 0:
            sys.exit(f"run ended with exit {code}: " + open(err).read())
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
        return (seen_at - killed_at) * 1000, line.split("requeueing", 1)[1].strip()
    finally:
        kill_all(procs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), os.path.join(work, "corpus"),
                        str(args.docs)], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(work, "fleet.yaml"), "w") as f:
            f.write(f"""env: recovery
artifact_root: ./artifacts
fleet: {{ bind: "tcp://127.0.0.1:*", heartbeat_ms: {args.heartbeat_ms}, liveness: 3, min_workers: 2 }}
sources:
  - {{ name: corpus, kind: files, root: ./corpus }}
""")
        times = []
        for i in range(args.repeat):
            ms, requeued = one_run(args.bin_dir, work, args.heartbeat_ms, i)
            times.append(ms)
            print(f"  run {i + 1}: victim declared dead and its tasks requeued {ms:.0f} ms after SIGKILL ({requeued})")
        print(f"heartbeat_ms={args.heartbeat_ms} liveness=3: median recovery {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f}, {args.repeat} runs)")


if __name__ == "__main__":
    main()
