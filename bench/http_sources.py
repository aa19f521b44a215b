#!/usr/bin/env python3
"""End-to-end figures for http sources: N generated pages served by a local
HTTP server (stdlib, ETag + 304 support), fetched by 2 local workers.

Prints the wall time of the first run (every page downloaded and processed),
of a no-change rerun (every page answered 304, nothing processed) and of a
rerun with 1% of the pages changed, with the requests the server saw.

Usage: bench/http_sources.py BIN_DIR [--pages 500] [--workdir DIR]
"""
import argparse
import hashlib
import http.server
import json
import pathlib
import subprocess
import tempfile
import threading
import time


class Site(http.server.ThreadingHTTPServer):
    def __init__(self, pages):
        self.pages = pages  # path -> body
        self.counts = {"200": 0, "304": 0}
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            with self.server.lock:
                self.server.counts["304"] += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        with self.server.lock:
            self.server.counts["200"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def page(i, version=1):
    paras = "".join(f"<p>Section {j} of page {i} (v{version}) describes rule {i * 7 + j} of the handbook; "
                    f"travel, expenses and approvals are covered in clause {j}.</p>" for j in range(12))
    return f"<html><head><title>Page {i}</title></head><body><h1>Page {i}</h1>{paras}</body></html>".encode()


def run(bin_dir, work):
    start = time.monotonic()
    p = subprocess.run([str(bin_dir / "ingest-coordinator"), "run", "--config", str(work / "ingest.yaml"), "--manual",
                        "--local-workers", "2"], cwd=work, capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - start
    if p.returncode != 0:
        raise SystemExit(f"run failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return elapsed, json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", type=pathlib.Path)
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--workdir", type=pathlib.Path)
    args = ap.parse_args()
    bin_dir = args.bin_dir.resolve()
    work = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="ingest-bench-http-"))
    work.mkdir(parents=True, exist_ok=True)
    site = Site({f"/p/{i}": page(i) for i in range(args.pages)})
    threading.Thread(target=site.serve_forever, daemon=True).start()
    port = site.server_address[1]
    urls = "\n".join(f'      - "http://127.0.0.1:{port}/p/{i}"' for i in range(args.pages))
    (work / "ingest.yaml").write_text(f"""env: bench-http
artifact_root: ./artifacts
fleet: {{ bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 30 }}
sources:
  - name: site
    kind: http
    urls:
{urls}
""")
    rows = []
    for label, mutate in (("first run", None), ("no-change rerun", None),
                          ("1% changed", lambda: [site.pages.__setitem__(f"/p/{i}", page(i, 2))
                                                  for i in range(0, args.pages, 100)])):
        if mutate:
            mutate()
        before = dict(site.counts)
        seconds, summary = run(bin_dir, work)
        d = summary["documents"]
        rows.append((label, seconds, site.counts["200"] - before["200"], site.counts["304"] - before["304"],
                     d["processed"], d["changed"]))
    print(f"{args.pages} pages, 2 local workers (work dir {work})")
    print(f"{'run':<18}{'wall s':>8}{'200s':>7}{'304s':>7}{'processed':>11}{'changed':>9}")
    for label, seconds, ok, nm, processed, changed in rows:
        print(f"{label:<18}{seconds:>8.2f}{ok:>7}{nm:>7}{processed:>11}{changed:>9}")
    print(f"no-change rerun / first run: {rows[1][1] / rows[0][1]:.1%}; 1% changed / first run: {rows[2][1] / rows[0][1]:.1%}")


if __name__ == "__main__":
    main()
