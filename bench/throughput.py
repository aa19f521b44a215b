#!/usr/bin/env python3
"""The throughput goals of the coordinator, measured in one script run.

usage: bench/throughput.py BIN_DIR [--repeat 3] [--baseline BIN_DIR] [--peers DIR]
                           [--rss-mb 100,1000]

Over the peer's corpus (4,000 x 8 KB, ../shared/peers/celery/gen_corpus.py; our
own generator when the peers are not there), two local single-slot workers:
  1. coordinator CPU per task of an A->F --full-refresh run (its own log line);
  2. A->F MB/s beside Celery + Redis chunking the same corpus (run alternately,
     so both see the same machine), and 5,000 such documents A->F;
  3. a no-change rerun and a 1%-changed rerun as a share of the full run;
  4. the coordinator's peak RSS over mixed corpora of each --rss-mb size;
  5. bytes written per job (rusage: everything the run caused to be written,
     the mirrors included) and bytes the job keeps, both per corpus byte;
  6. fleet headroom: records merged per coordinator CPU second divided by
     records produced per worker CPU second = workers one coordinator feeds.
Each figure is printed beside the one filed with the issue. With --baseline,
an older build runs the same full runs alternately, for before/after ratios.
Medians of --repeat runs. Nothing is asserted: the figures are for reading.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# As filed in the issue (this machine, before the work).
FILED = {
    "us_per_task": "317-477 us",
    "vs_celery": "0.59x",
    "wall_5000": "~25 s",
    "no_change": "18 %",
    "one_percent": "~74 %",
    "bytes_written": "6.4x (211 MB / 33 MB)",
}
CPU_LINE = re.compile(r"coordinator CPU ([0-9.]+) s, ([0-9]+) us per task(?:, peak RSS ([0-9]+) MB)?")


def config(work, env):
    path = os.path.join(work, env + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""env: {env}
artifact_root: ./artifacts
state_db: ./state/{env}.db
fleet: {{ bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 30, heartbeat_ms: 500 }}
sources:
  - {{ name: corpus, kind: files, root: ./corpus-{env} }}
""")
    return path


def run(bin_dir, config_path, *flags):
    """One coordinator run; returns its figures. rusage is the coordinator's
    and its local workers' (they are its children)."""
    argv = [os.path.join(bin_dir, "ingest-coordinator"), "run", "--config", config_path,
            "--local-workers", "2", "--local-worker-slots", "1", *flags]
    log_path = config_path + ".log"
    # The env's older jobs go first, as retention deletes them, the newest
    # kept for carry-forward: on this virtual machine a page cache that grows
    # into free memory costs a fault on the host for each page it takes,
    # which over a script run's gigabytes of jobs would be measured as the
    # coordinator's (see the README's paragraph on the page cache).
    env = os.path.splitext(os.path.basename(config_path))[0]
    jobs = os.path.join(os.path.dirname(config_path), "artifacts", "ingest", env)
    if os.path.isdir(jobs):
        for old in sorted(j for j in os.listdir(jobs) if j.startswith("job_"))[:-1]:
            shutil.rmtree(os.path.join(jobs, old))
    subprocess.run(["sync"], check=False)
    # Job ids have one-second resolution, and a run that would share the
    # previous job's second waits for the next one: runs start on a fresh
    # second (untimed), as nightly runs always do.
    time.sleep(1.02 - time.time() % 1.0)
    with open(log_path, "w", encoding="utf-8") as log:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, cwd=os.path.dirname(config_path))
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    log_text = open(log_path, encoding="utf-8", errors="replace").read()
    if proc.returncode != 0:
        sys.exit(f"run {' '.join(flags)} exited {proc.returncode}; {log_path}:\n{log_text[-2000:]}")
    summary = json.loads(out.decode().strip().splitlines()[-1])
    found = CPU_LINE.findall(log_text)
    cpu_s, us_task, rss = found[-1] if found else ("0", "0", "")
    records = 0
    with open(os.path.join(summary["job_dir"], "manifest.json"), encoding="utf-8") as f:
        for record in json.load(f).get("passes", {}).values():
            records += sum(int(a.get("records", 0)) for a in record.get("artifacts", []))
    return {
        "wall": wall,
        "coordinator_cpu": float(cpu_s),
        "us_per_task": float(us_task),
        "rss_mb": int(rss) if rss else None,
        "total_cpu": usage.ru_utime + usage.ru_stime,
        "written": usage.ru_oublock * 512,
        "kept": du(summary["job_dir"]),
        "tasks": summary["tasks"],
        "records": records,
        "job_dir": summary["job_dir"],
    }


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(d, name)).st_size
    return total


def celery_chunk(peers, corpus):
    run_sh = os.path.join(peers, "celery", "run.sh")
    done = subprocess.run([run_sh, "chunk", corpus], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1:] or ["exit %d" % done.returncode]
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def generate(peers, out, files, kb):
    gen = os.path.join(peers, "celery", "gen_corpus.py")
    if os.path.exists(gen):
        subprocess.run([sys.executable, gen, out, "--files", str(files), "--kb", str(kb)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), out, str(files)], check=True)


def mixed_corpus(out, megabytes):
    """Our mixed Markdown / text / HTML generator, grown to about `megabytes`."""
    sample = out + ".sample"
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), sample, "300"], check=True)
    per_doc = du(sample) / 300
    shutil.rmtree(sample)
    count = max(1, int(megabytes * 1e6 / per_doc))
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), out, str(count)], check=True)
    return count


def touch_one_percent(corpus, round_):
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs)
    count = max(1, len(files) // 100)
    step = max(1, len(files) // count)
    for path in files[round_ % step::step][:count]:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\nRevision {round_}: one more sentence about the Night Shift.\n")


def median(values):
    return statistics.median(values) if values else float("nan")


def mb(n):
    return n / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="bin dir of an older build, run alternately for before/after")
    parser.add_argument("--peers", default=os.path.join(REPO, "..", "shared", "peers"))
    parser.add_argument("--rss-mb", default="100,1000", help="mixed corpus sizes for the memory figure ('' skips)")
    args = parser.parse_args()
    peers = os.path.abspath(args.peers)
    args.bin_dir = os.path.abspath(args.bin_dir)
    args.baseline = args.baseline and os.path.abspath(args.baseline)
    has_celery = os.path.exists(os.path.join(peers, "celery", "run.sh"))
    work = tempfile.mkdtemp(prefix="ingest-throughput-")
    try:
        corpus = os.path.join(work, "corpus-bench")
        generate(peers, corpus, 4000, 8)
        size = du(corpus)
        ours_cfg = config(work, "bench")
        base_cfg = None
        if args.baseline:
            base_cfg = config(work, "base")
            os.symlink(corpus, os.path.join(work, "corpus-base"))
        print(f"corpus: 4000 x 8 KB, {mb(size):.1f} MB; two local workers, one slot each; {args.repeat} rounds",
              flush=True)

        full, base, celery, celery_error = [], [], [], None
        for i in range(args.repeat):
            full.append(run(args.bin_dir, ours_cfg, "--full-refresh"))
            line = (f"round {i + 1}: ingestfleet A->F {full[-1]['wall']:.2f} s, coordinator CPU "
                    f"{full[-1]['coordinator_cpu']:.2f} s ({full[-1]['us_per_task']:.0f} us/task)")
            if base_cfg:
                base.append(run(args.baseline, base_cfg, "--full-refresh"))
                line += (f"; baseline {base[-1]['wall']:.2f} s, CPU {base[-1]['coordinator_cpu']:.2f} s "
                         f"({base[-1]['us_per_task']:.0f} us/task)")
            if has_celery and celery_error is None:
                result, celery_error = celery_chunk(peers, corpus)
                if result:
                    celery.append(result)
                    line += f"; Celery chunking {result['wall_s']:.2f} s ({result['mb_per_s']:.2f} MB/s)"
            print(line, flush=True)

        none, some = [], []
        for i in range(args.repeat):
            none.append(run(args.bin_dir, ours_cfg, "--manual"))
            touch_one_percent(corpus, i + 1)
            some.append(run(args.bin_dir, ours_cfg, "--manual"))
            print(f"round {i + 1}: no-change rerun {none[-1]['wall']:.2f} s (tasks executed "
                  f"{none[-1]['tasks']['executed']}); 1% changed {some[-1]['wall']:.2f} s (tasks executed "
                  f"{some[-1]['tasks']['executed']})", flush=True)

        big = os.path.join(work, "corpus-five")
        generate(peers, big, 5000, 8)
        five = [run(args.bin_dir, config(work, "five"), "--full-refresh") for _ in range(args.repeat)]

        rss = []
        for megabytes in [int(x) for x in args.rss_mb.split(",") if x]:
            env = f"rss{megabytes}"
            docs = mixed_corpus(os.path.join(work, "corpus-" + env), megabytes)
            r = run(args.bin_dir, config(work, env), "--full-refresh")
            rss.append((megabytes, docs, r))
            print(f"mixed corpus {megabytes} MB ({docs} documents): A->F {r['wall']:.1f} s, coordinator peak RSS "
                  f"{r['rss_mb']} MB", flush=True)
            shutil.rmtree(os.path.join(work, "corpus-" + env))
            shutil.rmtree(os.path.join(work, "artifacts", "ingest", env), ignore_errors=True)

        wall = median([r["wall"] for r in full])
        cpu = median([r["coordinator_cpu"] for r in full])
        us = median([r["us_per_task"] for r in full])
        ours_mbs = mb(size) / wall
        print()
        print("== issue 14 goals: this run (median of %d) | filed | goal" % args.repeat)
        print(f"1. coordinator CPU per task: {us:.0f} us ({cpu:.2f} s over {full[0]['tasks']['total']} tasks) | "
              f"{FILED['us_per_task']} | <= 40 us")
        if celery:
            celery_mbs = median([c["mb_per_s"] for c in celery])
            print(f"2. A->F {ours_mbs:.2f} MB/s ({wall:.2f} s) vs Celery + Redis chunking {celery_mbs:.2f} MB/s: "
                  f"{ours_mbs / celery_mbs:.2f}x | {FILED['vs_celery']} | >= 5x")
        else:
            print(f"2. A->F {ours_mbs:.2f} MB/s ({wall:.2f} s); Celery not measured: "
                  f"{celery_error or 'no peers at ' + peers}")
        print(f"   5,000 x 8 KB A->F: {median([r['wall'] for r in five]):.2f} s | {FILED['wall_5000']} | < 4 s")
        n, s = median([r["wall"] for r in none]), median([r["wall"] for r in some])
        print(f"3. no-change rerun {n:.2f} s = {100 * n / wall:.1f} % of full | {FILED['no_change']} | <= 5 %")
        print(f"   1% changed rerun {s:.2f} s = {100 * s / wall:.1f} % of full | {FILED['one_percent']} | <= 15 %")
        for megabytes, docs, r in rss:
            print(f"4. coordinator peak RSS over {megabytes} MB mixed ({docs} documents): {r['rss_mb']} MB | "
                  f"not filed | < 256 MB at 1 GB")
        written, kept = median([r["written"] for r in full]), median([r["kept"] for r in full])
        print(f"5. bytes written per job {mb(written):.0f} MB = {written / size:.1f}x the corpus; kept after the job "
              f"{mb(kept):.0f} MB = {kept / size:.1f}x | {FILED['bytes_written']} | <= 4x")
        some_written = median([r["written"] for r in some])
        print(f"   bytes written by the 1% changed rerun {mb(some_written):.0f} MB = {some_written / size:.1f}x")
        merged = median([r["records"] / r["coordinator_cpu"] for r in full])
        produced = median([r["records"] / max(1e-9, r["total_cpu"] - r["coordinator_cpu"]) for r in full])
        print(f"6. headroom: {merged:,.0f} records merged per coordinator CPU second / {produced:,.0f} produced per "
              f"worker CPU second = {merged / produced:.1f} workers fed by one coordinator "
              f"(dispatch alone with 64 and 256 workers: fleet_bench)")
        if base:
            bwall = median([r["wall"] for r in base])
            bcpu = median([r["coordinator_cpu"] for r in base])
            print(f"before/after (baseline build, same rounds): wall {bwall:.2f} -> {wall:.2f} s "
                  f"({bwall / wall:.2f}x), coordinator CPU {bcpu:.2f} -> {cpu:.2f} s ({bcpu / cpu:.2f}x), "
                  f"bytes written {mb(median([r['written'] for r in base])):.0f} -> {mb(written):.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
