"""Helpers shared by the fleet scripts that drive the real binaries (fleet_recovery.py, fleet_chaos.py)."""
import time


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
