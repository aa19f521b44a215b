#!/usr/bin/env python3
"""Fleet acceptance under chaos, with the real binaries on loopback.

usage: fleet_chaos.py BIN_DIR [--docs N] [--workdir DIR]
1. A clean run with two local workers: the reference artifacts.
2. A run during which workers are SIGKILLed and SIGTERMed and fresh ones join (one event at the
   start of each of passes B..E). It must end exit 0 with byte-identical artifacts.
3. A run whose coordinator is SIGKILLed in the middle of pass C and resumed with
   `--resume --job-dir` on the same port; the same workers rejoin. It must end exit 0, report reused
   tasks and produce byte-identical artifacts.
Prints what it did and the figures; exits non-zero on the first broken promise.
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from fleetlib import digests, fail, free_port, kill_all, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def summary_of(out_path):
    lines = [l for l in open(out_path).read().splitlines() if l.strip()]
    return json.loads(lines[-1])


class Fleet:
    """Processes started by this script; every one is killed on exit."""

    def __init__(self, bin_dir, work):
        self.bin_dir, self.work, self.procs = bin_dir, work, {}

    def coordinator(self, tag, *args):
        out, err = (os.path.join(self.work, f"{tag}.{ext}") for ext in ("out", "err"))
        argv = [os.path.join(self.bin_dir, "ingest-coordinator"), "run", "--config",
                os.path.join(self.work, "chaos.yaml"), *args]
        self.procs[tag] = subprocess.Popen(argv, stdout=open(out, "w"), stderr=open(err, "w"))
        return self.procs[tag], out, err

    def worker(self, name, endpoint, slots=1):
        argv = [os.path.join(self.bin_dir, "ingest-worker"), "--connect", endpoint, "--id", name,
                "--slots", str(slots), "--heartbeat-ms", "500"]
        self.procs[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                            stderr=open(os.path.join(self.work, f"{name}.err"), "w"))
        return self.procs[name]

    def stop_all(self):
        kill_all(self.procs.values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="ingest-chaos-")
    os.makedirs(work, exist_ok=True)
    print(f"work dir {work}; generating {args.docs} documents")
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"),
                    os.path.join(work, "corpus"), str(args.docs)], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(work, "chaos.yaml"), "w") as f:
        f.write("""env: chaos
artifact_root: ./artifacts
fleet: { heartbeat_ms: 500, liveness: 4, min_workers: 2, wait_for_workers_s: 60 }
sources:
  - { name: corpus, kind: files, root: ./corpus }
""")
    fleet = Fleet(args.bin_dir, work)
    try:
        # 1. Reference.
        start = time.monotonic()
        coordinator, out, err = fleet.coordinator("clean", "--bind", "tcp://127.0.0.1:*", "--local-workers", "2",
                                                  "--local-worker-slots", "1")
        if coordinator.wait(timeout=1800) != 0:
            fail("clean run: " + open(err).read()[-3000:])
        clean = summary_of(out)
        expected = digests(clean["job_dir"])
        print(f"clean run: exit 0 in {time.monotonic() - start:.1f} s, {clean['chunks']} chunks, "
              f"{clean['tasks']['total']} tasks")

        # 2. Workers killed, drained and replaced while the run goes on.
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        start = time.monotonic()
        coordinator, out, err = fleet.coordinator("workers", "--bind", endpoint, "--full-refresh")
        for name in ("w1", "w2", "w3"):
            fleet.worker(name, endpoint)
        events = [("B", signal.SIGKILL, "w1", "w4"), ("C", signal.SIGTERM, "w2", "w5"),
                  ("D", signal.SIGKILL, "w3", "w6"), ("E", signal.SIGTERM, "w4", None)]
        for pass_letter, sig, victim, fresh in events:
            if wait_for(err, f"pass {pass_letter} started")[0] is None:
                fail(f"pass {pass_letter} never started: " + open(err).read()[-3000:])
            time.sleep(0.3)
            fleet.procs[victim].send_signal(sig)
            if fresh:
                fleet.worker(fresh, endpoint)
            print(f"  pass {pass_letter}: {signal.Signals(sig).name} {victim}" + (f", {fresh} joins" if fresh else ""))
        if coordinator.wait(timeout=1800) != 0:
            fail("run with worker chaos: " + open(err).read()[-3000:])
        for name in ("w2", "w4"):
            code = fleet.procs[name].wait(timeout=60)
            if code != 0:
                fail(f"drained worker {name} exited {code}")
        chaos = summary_of(out)
        if digests(chaos["job_dir"]) != expected:
            fail("artifacts of the run with worker chaos differ from the clean run")
        print(f"worker chaos: exit 0 in {time.monotonic() - start:.1f} s, artifacts byte-identical; "
              f"tasks {chaos['tasks']}; drained workers exited 0")
        for name in ("w5", "w6"):
            fleet.procs[name].send_signal(signal.SIGTERM)
            fleet.procs[name].wait(timeout=60)

        # 3. The coordinator killed mid-pass and resumed on the same port.
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        start = time.monotonic()
        earlier_jobs = set(glob.glob(os.path.join(work, "artifacts/ingest/chaos/*")))  # they keep their journals
        coordinator, out, err = fleet.coordinator("killed", "--bind", endpoint, "--full-refresh")
        for name in ("r1", "r2"):
            fleet.worker(name, endpoint)
        if wait_for(err, "pass C started")[0] is None:
            fail("pass C never started: " + open(err).read()[-3000:])
        journal = None
        deadline = time.monotonic() + 120
        while journal is None and time.monotonic() < deadline:
            for path in glob.glob(os.path.join(work, "artifacts/ingest/chaos/*/journal/passC.journal")):
                new_job = os.path.dirname(os.path.dirname(path)) not in earlier_jobs
                if new_job and os.path.getsize(path) > args.docs * 2048:  # some way into the pass
                    journal = path
            time.sleep(0.005)
        if journal is None:
            fail("the pass C journal did not grow")
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait()
        job_dir = os.path.dirname(os.path.dirname(journal))
        print(f"  coordinator SIGKILLed in pass C with a {os.path.getsize(journal) >> 10} KiB journal")
        resumed, out, err = fleet.coordinator("resumed", "--bind", endpoint, "--resume", "--full-refresh",
                                             "--job-dir", job_dir)
        if resumed.wait(timeout=1800) != 0:
            fail("resumed run: " + open(err).read()[-3000:])
        summary = summary_of(out)
        if summary["tasks"]["reused"] == 0:
            fail("the resumed run reused no task")
        if digests(job_dir) != expected:
            fail("artifacts of the resumed run differ from the clean run")
        rejoined = [n for n in ("r1", "r2") if f"worker {n} joined" in open(err).read()]
        print(f"coordinator killed and resumed: exit 0 in {time.monotonic() - start:.1f} s (both runs), artifacts "
              f"byte-identical; tasks {summary['tasks']}; workers rejoined: {', '.join(rejoined)}")
        for name in ("r1", "r2"):
            fleet.procs[name].send_signal(signal.SIGTERM)
            fleet.procs[name].wait(timeout=60)
        print("all checks passed")
    finally:
        fleet.stop_all()


if __name__ == "__main__":
    main()
