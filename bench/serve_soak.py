#!/usr/bin/env python3
"""Soak of the `serve` daemon, with the real binaries on loopback.

usage: serve_soak.py BIN_DIR [--runs N] [--docs N] [--workers N] [--seed N] [--workdir DIR]
(a temporary work dir, removed when every check passed, unless --workdir)

`ingest-coordinator serve` fires every minute (`schedule.cron: "* * * * *"`) over a generated
corpus, fed by external workers. Between two firings the script changes documents at random
(modified, added, deleted, renamed, touched without a change); during a run it SIGKILLs a random
worker at the start of a random pass and restarts it under the same id a moment later. After each
run it checks that
  - the run completed (exit code 0) and `verify` passes on its job directory;
  - its artifacts are byte-identical to a `run --full-refresh` of the same inputs made beside it
    (its own artifact root and state store);
and prints the daemon's open file descriptors and resident memory. At the end it prints both
series and fails when either grows after the warm-up (fds by more than 2, RSS by more than
--rss-growth-mb between the median of runs 6-10 and the median of the last five).
A run takes a minute: 50 runs take about 50 minutes. Exits non-zero on the first broken promise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from fleetlib import digests, fail, kill_all

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402  (the corpus generator's document makers)

MAKERS = {".md": make_corpus.markdown, ".txt": make_corpus.text, ".html": make_corpus.html}


def daemon_usage(pid):
    """(open file descriptors, resident set in MB) of a live process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, rss_kb / 1024


def write_config(path, artifact_root, state_db, admin_port=None):
    admin = f"admin: {{ listen: 127.0.0.1:{admin_port} }}\n" if admin_port else ""
    with open(path, "w") as f:
        f.write(f"""env: soak
artifact_root: {artifact_root}
state_db: {state_db}
schedule: {{ cron: "* * * * *", timezone: UTC }}
fleet: {{ heartbeat_ms: 500, liveness: 4, min_workers: 1, wait_for_workers_s: 60 }}
{admin}sources:
  - {{ name: corpus, kind: files, root: ./corpus, check_frequency: "* * * * *" }}
""")


class Corpus:
    """The generated documents and the random changes made to them between runs."""

    def __init__(self, root, rng):
        self.root, self.rng = root, rng
        self.names = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)
        self.dirs = sorted({os.path.dirname(n) for n in self.names})
        self.next_id = len(self.names)

    def _write(self, name):
        maker = MAKERS[os.path.splitext(name)[1]]
        with open(os.path.join(self.root, name), "w") as f:
            f.write(maker(self.rng, self.rng.randrange(1_000_000)))

    def change(self):
        """Applies a random batch of changes; returns what it did, e.g. {'modified': 31, ...}."""
        rng, done = self.rng, {}
        share = rng.choice([0.01, 0.05, 0.1, 0.3])  # now and then a big night
        for name in rng.sample(self.names, max(1, int(len(self.names) * share))):
            self._write(name)
            done["modified"] = done.get("modified", 0) + 1
        for _ in range(rng.randint(0, 5)):
            name = os.path.join(rng.choice(self.dirs), f"new-{self.next_id:06d}{rng.choice(list(MAKERS))}")
            self.next_id += 1
            self._write(name)
            self.names.append(name)
            done["added"] = done.get("added", 0) + 1
        for name in rng.sample(self.names, min(len(self.names) - 1, rng.randint(0, 4))):
            os.remove(os.path.join(self.root, name))
            self.names.remove(name)
            done["deleted"] = done.get("deleted", 0) + 1
        if rng.random() < 0.5:
            old = rng.choice(self.names)
            new = os.path.join(os.path.dirname(old), f"renamed-{self.next_id:06d}{os.path.splitext(old)[1]}")
            self.next_id += 1
            os.rename(os.path.join(self.root, old), os.path.join(self.root, new))
            self.names[self.names.index(old)] = new
            done["renamed"] = 1
        for name in rng.sample(self.names, min(len(self.names), rng.randint(0, 10))):
            os.utime(os.path.join(self.root, name))  # a new mtime, the same bytes
            done["touched"] = done.get("touched", 0) + 1
        return done


class LogTail:
    """The daemon's stderr, read incrementally."""

    def __init__(self, path):
        self.path, self.offset, self.pending = path, 0, ""

    def lines(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            data = f.read()
            self.offset = f.tell()
        text = self.pending + data
        complete, _, self.pending = text.rpartition("\n")
        return complete.splitlines() if complete else []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-probability", type=float, default=0.7)
    parser.add_argument("--rss-growth-mb", type=float, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bin_dir = os.path.abspath(args.bin_dir)
    work = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="ingest-soak-"))
    os.makedirs(work, exist_ok=True)
    print(f"work dir {work}; generating {args.docs} documents; {args.runs} scheduled runs, one a minute", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), os.path.join(work, "corpus"),
                    str(args.docs), "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
    corpus = Corpus(os.path.join(work, "corpus"), rng)
    # Port 0 and `*`: the daemon takes free ports itself and logs them. A port
    # picked here and bound there later can be taken in between by a test
    # running beside this one.
    write_config(os.path.join(work, "soak.yaml"), "./artifacts", "./state.db", "0")
    write_config(os.path.join(work, "reference.yaml"), "./reference", "./reference.db")

    procs = {}

    def start_worker(name):
        argv = [os.path.join(bin_dir, "ingest-worker"), "--connect", endpoint, "--id", name, "--slots", "1",
                "--heartbeat-ms", "500"]
        procs[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                       stderr=open(os.path.join(work, f"{name}.err"), "a"))

    def ctl(*argv):
        done = subprocess.run([os.path.join(bin_dir, "ingestctl"), "--server", admin, "--json", *argv],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            fail(f"ingestctl {' '.join(argv)} exited {done.returncode}: {done.stderr}")
        return json.loads(done.stdout.splitlines()[-1])

    serve_err = os.path.join(work, "serve.err")
    daemon = subprocess.Popen([os.path.join(bin_dir, "ingest-coordinator"), "serve", "--config",
                               os.path.join(work, "soak.yaml"), "--bind", "tcp://127.0.0.1:*"],
                              stdout=open(os.path.join(work, "serve.out"), "w"), stderr=open(serve_err, "w"))
    procs["serve"] = daemon
    admin = endpoint = None
    deadline = time.monotonic() + 30
    while admin is None or endpoint is None:
        if daemon.poll() is not None or time.monotonic() > deadline:
            fail("serve did not start listening: " + open(serve_err).read()[-3000:])
        time.sleep(0.05)
        for line in open(serve_err).read().splitlines():
            if "admin: listening on " in line:
                admin = line.split("admin: listening on ", 1)[1].split(" ")[0]
            elif "fleet: listening on " in line:
                endpoint = line.split("fleet: listening on ", 1)[1].split(" ")[0]
    workers = [f"w{i + 1}" for i in range(args.workers)]
    for name in workers:
        start_worker(name)
    log = LogTail(serve_err)
    usage, kills, joins = [], {}, {}
    state = {}

    def follow(line):
        """Reacts to one line of the daemon's log: a run's start and end, a pass to kill a worker in, joins."""
        if " started on job " in line:
            state["started"] = time.monotonic()
        elif " joined: " in line and (name := line.split(" worker ", 1)[-1].split(" ")[0]) in procs:
            joins[name] = joins.get(name, 0) + 1
        elif state.get("kill_pass") and f"pass {state['kill_pass']} started" in line and not state.get("victim"):
            # Only a worker that has joined: one killed before it ever did
            # would be counted as killed without having been there.
            joined = [w for w in workers if joins.get(w, 0) > kills.get(w, 0)]
            if not joined:
                return
            time.sleep(rng.uniform(0, 0.05))
            victim = state["victim"] = rng.choice(joined)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            state["restart_at"] = time.monotonic() + rng.uniform(0.2, 3)
            kills[victim] = kills.get(victim, 0) + 1
        elif "serve: scheduled run ended with exit code" in line:
            state["code"] = int(line.rsplit(" ", 1)[1])

    try:
        for run in range(1, args.runs + 1):
            state.clear()
            state["kill_pass"] = rng.choice("ACDE") if rng.random() < args.kill_probability else None
            deadline = time.monotonic() + 300
            while state.get("code") is None:
                if daemon.poll() is not None:
                    fail(f"serve exited {daemon.returncode}: " + open(serve_err).read()[-3000:])
                if time.monotonic() > deadline:
                    fail(f"run {run} did not end within 5 minutes: " + open(serve_err).read()[-3000:])
                for line in log.lines():
                    follow(line)
                if state.get("restart_at") is not None and time.monotonic() >= state["restart_at"]:
                    start_worker(state["victim"])
                    state["restart_at"] = None
                time.sleep(0.005)
            victim, code = state.get("victim"), state["code"]
            if state.get("restart_at") is not None:
                start_worker(victim)
            seconds = time.monotonic() - state["started"] if "started" in state else float("nan")
            listed = ctl("runs")
            latest = listed["runs"][0]
            job_dir = latest["job_dir"]
            if code != 0:
                fail(f"run {run} ({latest['run_id']}) exited {code}: " + open(serve_err).read()[-3000:])
            verify = subprocess.run([os.path.join(bin_dir, "ingest-coordinator"), "verify", "--job-dir", job_dir],
                                    capture_output=True, text=True, timeout=600)
            if verify.returncode != 0:
                fail(f"verify of run {run}'s job {job_dir}: {verify.stdout}{verify.stderr}")
            killed = ""
            if victim:
                killed = f", {victim} SIGKILLed in pass {state['kill_pass']}"
            elif state["kill_pass"]:
                killed = f", no pass {state['kill_pass']} to kill a worker in"
            reference = subprocess.run([os.path.join(bin_dir, "ingest-coordinator"), "run", "--config",
                                        os.path.join(work, "reference.yaml"), "--full-refresh", "--local-workers",
                                        "2", "--bind", "tcp://127.0.0.1:*"],
                                       capture_output=True, text=True, timeout=1200)
            if reference.returncode != 0:
                fail(f"reference run for run {run} exited {reference.returncode}: {reference.stderr[-3000:]}")
            expected = digests(json.loads(reference.stdout.splitlines()[-1])["job_dir"])
            if digests(job_dir) != expected:
                fail(f"run {run}'s artifacts ({job_dir}) differ from a full refresh of the same inputs")
            for line in log.lines():  # the restarted worker has had the reference run's time to come back
                follow(line)
            for name in workers:
                if joins.get(name, 0) != 1 + kills.get(name, 0):
                    fail(f"worker {name}: joined {joins.get(name, 0)} times after {kills.get(name, 0)} kills")
            fds, rss = daemon_usage(daemon.pid)
            usage.append((fds, rss))
            summary = latest.get("summary", {})
            tasks = summary.get("tasks", {})
            print(f"run {run:3d}: exit 0 in {seconds:5.1f} s, {tasks.get('executed', 0)} tasks executed, "
                  f"{tasks.get('reused', 0)} reused, {tasks.get('requeued', 0)} requeued{killed}; "
                  f"= full refresh; daemon {fds} fds, {rss:.1f} MB RSS", flush=True)
            changes = corpus.change()
            print(f"          changes for the next run: {changes}", flush=True)
        fds = [u[0] for u in usage]
        rss = [u[1] for u in usage]
        print(f"\n{args.runs} scheduled runs, each byte-identical to a full refresh and verified; "
              f"{sum(kills.values())} workers SIGKILLed mid-run, each back under its id before the next run")
        print("daemon fds per run: " + " ".join(map(str, fds)))
        print("daemon RSS MB per run: " + " ".join(f"{r:.0f}" for r in rss))
        if len(usage) >= 15:
            warm = slice(5, 10)
            fd_growth = max(fds[5:]) - min(fds[5:])
            rss_growth = statistics.median(rss[-5:]) - statistics.median(rss[warm])
            print(f"after the warm-up (runs 6..{args.runs}): fds range {min(fds[5:])}..{max(fds[5:])}; "
                  f"RSS median of runs 6-10 {statistics.median(rss[warm]):.1f} MB, of the last five "
                  f"{statistics.median(rss[-5:]):.1f} MB ({rss_growth:+.1f} MB)")
            if fd_growth > 2:
                fail(f"the daemon's file descriptors grew by {fd_growth}")
            if rss_growth > args.rss_growth_mb:
                fail(f"the daemon's resident memory grew by {rss_growth:.1f} MB (limit {args.rss_growth_mb} MB)")
        daemon.send_signal(signal.SIGTERM)
        if daemon.wait(timeout=120) != 0:
            fail(f"serve exited {daemon.returncode} on SIGTERM")
        print("all checks passed", flush=True)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        kill_all(procs.values())


if __name__ == "__main__":
    main()
