"""Helpers shared by the scripts that drive the real binaries (fleet_recovery.py, fleet_chaos.py, serve_soak.py)."""
import hashlib
import os
import socket
import sys
import time

ARTIFACTS = ["passA_toc.json", "passB_splits.json", "passC_chunks.json", "passD_enriched.json",
             "passE_graph.json", "passF_cleanup.json"]


def fail(message):
    """Ends the script with the broken promise."""
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digests(job_dir):
    """sha256 of each of a job's six artifacts, by file name."""
    return {name: hashlib.sha256(open(os.path.join(job_dir, name), "rb").read()).hexdigest() for name in ARTIFACTS}


def wait_for(path, marker, timeout_s=120, poll_s=0.002):
    """Polls a log file until a line holds `marker`.

    Returns (line, monotonic time it was seen), or (None, None) after `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if marker in line:
                        return line, time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(poll_s)
    return None, None


def kill_all(procs):
    """SIGKILLs and reaps every process still running: nothing outlives a script, even one that failed."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
