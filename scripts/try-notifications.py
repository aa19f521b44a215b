#!/usr/bin/env python3
"""Acceptance of notifications as a new user would try it (issue 6).

Copies examples/corpus, adds two broken PDFs, and runs the demo job with Slack,
webhook, e-mail, health check and AI endpoint pointed at local servers: a small
HTTP receiver (this script, stdlib http.server) and Debian's aiosmtpd. Prints
what each server received, checks the webhook signature with Python's hmac,
and looks for secrets in every file the run wrote. Then runs again with every
server down. Exits non-zero when an expectation fails.

Usage: scripts/try-notifications.py BIN_DIR [--workdir DIR]
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = pathlib.Path(__file__).resolve().parent.parent
SECRETS = {
    "SLACK_WEBHOOK_URL": "/slack/T0SECRET/B0SECRET/xoxSECRETtoken",
    "NOTIFICATION_WEBHOOK": "/hook/SECRETpath",
    "HEALTHCHECK_URL": "/hc/SECRET-uuid-1234",
}
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"try-notifications-key").decode()
API_KEY = "sk-try-SECRET-0001"
SMTP_PASSWORD = "smtp-pass-SECRET"
ADDRESSES = ["ops@example.org", "data-team@example.org", "ingest@example.org"]
failures = []


def expect(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            path, _, query = self.path.partition("?")
            self.server.requests.append((path, dict(self.headers), body, urllib.parse.parse_qs(query)))
        answer = b"ok"
        if self.path.endswith("/chat/completions"):
            answer = json.dumps({"choices": [{"message": {"role": "assistant", "content":
                "Both failures are `.pdf` files that are not PDFs: re-export them from the source system."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def write_config(work, http_port, smtp_port):
    base = f"http://127.0.0.1:{http_port}"
    env = dict(os.environ)
    env.update({name: base + path for name, path in SECRETS.items()})
    env.update({"WEBHOOK_SECRET": WEBHOOK_SECRET, "OPENAI_API_KEY": API_KEY, "SMTP_USER": "ingest-smtp-SECRET",
                "SMTP_PASSWORD": SMTP_PASSWORD, "AI_BASE_URL": base + "/v1"})
    demo = (REPO / "examples/demo.yaml").read_text()
    (work / "ingest.yaml").write_text(demo + f"""
notifications:
  on: [failed, partial]
  slack: {{ webhook_url: "${{SLACK_WEBHOOK_URL}}" }}
  webhook: {{ url: "${{NOTIFICATION_WEBHOOK}}", secret: "${{WEBHOOK_SECRET}}" }}
  email:
    smtp_url: "smtp://127.0.0.1:{smtp_port}"
    starttls: "off"
    username: "${{SMTP_USER}}"
    password: "${{SMTP_PASSWORD}}"
    from: ingest@example.org
    to: [ops@example.org, data-team@example.org]
  healthcheck_url: "${{HEALTHCHECK_URL}}"
  attempts: 2
  backoff_initial_ms: 200
  timeout_s: 5
ai_report: {{ base_url: "${{AI_BASE_URL}}", model: gpt-4o-mini, timeout_s: 10 }}
""")
    return env


def run(bin_dir, work, env):
    started = time.monotonic()
    p = subprocess.run([str(bin_dir / "ingest-coordinator"), "run", "--config", str(work / "ingest.yaml"), "--manual",
                        "--local-workers", "2"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    (work / f"coordinator-{int(started)}.err").write_text(p.stderr)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    return p.returncode, summary, p.stderr, time.monotonic() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", type=pathlib.Path)
    ap.add_argument("--workdir", type=pathlib.Path)
    args = ap.parse_args()
    args.bin_dir = args.bin_dir.resolve()
    work = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="ingest-try-notify-"))
    shutil.rmtree(work / "corpus", ignore_errors=True)
    shutil.copytree(REPO / "examples/corpus", work / "corpus")
    (work / "corpus/handbook/broken-scan.pdf").write_bytes(b"%PDF-1.4\n" + b"\x7f" * 3000 + b"\n%%EOF\n")
    (work / "corpus/handbook/broken-export.pdf").write_bytes(b"%PDF-1.7\nnot really a PDF\n%%EOF\n")
    print(f"work dir: {work}")

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    smtp_port = free_port()
    maildir = work / "smtp-received"
    smtpd = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
                              "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", smtp_port)) == 0:
                    break
            time.sleep(0.05)
        env = write_config(work, receiver.server_address[1], smtp_port)
        code, summary, stderr, seconds = run(args.bin_dir, work, env)
        print(f"\nrun with every server up: exit {code}, {seconds:.1f} s, run {summary['run_id']}")
        expect(code == 3, "exit code 3 (partial)")
        by_path = lambda p: [r for r in receiver.requests if r[0] == p]
        slack = by_path(SECRETS["SLACK_WEBHOOK_URL"])
        expect(len(slack) == 1 and summary["run_id"].encode() in slack[0][2], "one Slack post carrying the run id")
        hook = by_path(SECRETS["NOTIFICATION_WEBHOOK"])
        expect(len(hook) == 1, "one webhook delivery")
        if hook:
            headers, body = hook[0][1], hook[0][2]
            key = base64.b64decode(WEBHOOK_SECRET[len("whsec_"):])
            expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            expect(headers.get("X-Ingestfleet-Signature") == expected, "X-Ingestfleet-Signature verifies (Python hmac)")
            signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
            v1 = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            expect(headers.get("webhook-signature") == v1, "Standard Webhooks webhook-signature verifies")
            event = json.loads(body)
            expect(event["type"] == "ingestfleet.run.partial" and event["data"]["run_id"] == summary["run_id"],
                   "webhook body is a Standard Webhooks event with the run summary as data")
        hc = SECRETS["HEALTHCHECK_URL"]
        start, end = by_path(hc + "/start"), by_path(hc + "/3")
        expect(len(start) == 1 and len(end) == 1, "health pings /start and /3 (the exit code)")
        if start and end:
            expect(start[0][3].get("rid") and start[0][3].get("rid") == end[0][3].get("rid"), "one rid pairs them")
            expect(summary["run_id"].encode() in end[0][2] and len(end[0][2]) <= 100000,
                   "the final ping carries the run's log lines")
        mails = list((maildir / "new").glob("*")) if (maildir / "new").exists() else []
        expect(len(mails) == 1, "one e-mail")
        if mails:
            mail = mails[0].read_text()
            head = mail.split("\n\n", 1)[0]
            print("    " + "\n    ".join(l for l in head.splitlines() if l.split(":")[0] in
                                         ("Date", "Message-ID", "From", "To", "Subject", "Content-Type")))
            for h in ("Date:", "Message-ID:", "From: ingest@example.org", "To: ops@example.org, data-team@example.org",
                      f"Subject: [ingestfleet] demo partial: run {summary['run_id']}"):
                expect(h in head, f"mail header {h}")
        reports = sorted((work / "docs/bugs").glob("RUN-*.md"))
        expect(len(reports) == 1, "one RUN-*.md report")
        if reports:
            text = reports[-1].read_text()
            expect("broken-scan.pdf" in text and "broken-export.pdf" in text, f"{reports[-1].name} lists both files")
            expect("## AI Consolidated Report" in text and "re-export them" in text, "report has the AI section")
        leaks = []
        for path in work.rglob("*"):
            if not path.is_file() or path.name == "ingest.yaml" or maildir in path.parents:
                continue
            data = path.read_bytes()
            for secret in list(SECRETS.values()) + [WEBHOOK_SECRET, API_KEY, SMTP_PASSWORD] + ADDRESSES:
                if secret.encode() in data:
                    leaks.append(f"{secret} in {path}")
        expect(not leaks, "no secret or e-mail address in any file the run wrote" + ("".join("\n      " + l for l in leaks)))

        receiver.shutdown()
        receiver.server_close()
        smtpd.kill()
        smtpd.wait()
        code, summary, stderr, seconds = run(args.bin_dir, work, env)
        print(f"\nrun with every server down: exit {code}, {seconds:.1f} s")
        expect(code == 3, "exit code still 3")
        for channel in ("slack", "webhook", "email", "healthcheck fail"):
            expect(f"notification {channel}: not delivered" in stderr, f"{channel} failure logged")
    finally:
        if smtpd.poll() is None:
            smtpd.kill()
            smtpd.wait()
    print("\n" + ("all expectations met" if not failures else f"{len(failures)} expectations failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
