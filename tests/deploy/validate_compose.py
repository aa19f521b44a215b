#!/usr/bin/env python3
"""Checks docker-compose.yml: `docker-compose config -q` accepts it, and the
resolved file has what `docker compose up --scale worker=N` and the operators
rely on. The coordinator's config in deploy/compose/ passes
`ingest-coordinator check`.

Usage: validate_compose.py REPO_ROOT INGEST_COORDINATOR
Exit 0 all good, 1 a check failed, 77 skipped (docker-compose is missing)."""

import os
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

root, coordinator = sys.argv[1], sys.argv[2]
compose = shutil.which("docker-compose")
if compose is None:
    print("SKIP: docker-compose is not installed (scripts/setup.sh installs Debian's docker-compose)")
    sys.exit(77)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def volume(v):
    """A volume in the long syntax; docker-compose 1.29 prints the short one."""
    if isinstance(v, dict):
        return v
    parts = v.split(":")
    source, target = parts[0], parts[1]
    return {"type": "bind" if source.startswith(("/", ".")) else "volume", "source": source, "target": target,
            "read_only": len(parts) > 2 and "ro" in parts[2].split(",")}


def seconds(text):
    units = {"s": 1, "m": 60, "h": 3600}
    return int(text[:-1]) * units[text[-1]] if text and text[-1] in units else int(text)


env = dict(os.environ, COMPOSE_PROJECT_NAME="ingestfleet-check")
quiet = subprocess.run([compose, "config", "-q"], cwd=root, env=env, capture_output=True, text=True)
check(quiet.returncode == 0, f"docker-compose config -q: {quiet.stderr.strip()}")
resolved = subprocess.run([compose, "config"], cwd=root, env=env, capture_output=True, text=True)
spec = yaml.safe_load(resolved.stdout) if resolved.returncode == 0 else {}
services = spec.get("services", {})
coordinator_service = services.get("coordinator", {})
worker = services.get("worker", {})

check("serve" in coordinator_service.get("command", []), "the coordinator runs serve")
for port in coordinator_service.get("ports", []):
    host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
    check(host_ip == "127.0.0.1", f"coordinator port {port} is published on loopback only")
check(len(coordinator_service.get("ports", [])) >= 1, "the admin port is published")
health = " ".join(coordinator_service.get("healthcheck", {}).get("test", []))
check("ingestctl" in health and "health" in health, "the coordinator's healthcheck asks the gRPC health service")
check("ports" not in worker and "container_name" not in worker, "workers have no host ports and no container_name")
check(worker.get("depends_on", {}).get("coordinator", {}).get("condition") == "service_healthy",
      "workers wait for a healthy coordinator")
check(seconds(worker.get("stop_grace_period", "10s")) >= 60, "workers get time to drain")
check("probe" in " ".join(worker.get("healthcheck", {}).get("test", [])), "workers are checked by ingest-worker probe")
for name, service in (("coordinator", coordinator_service), ("worker", worker)):
    sources = [v for v in map(volume, service.get("volumes", [])) if v.get("target") == "/sources"]
    check(sources and all(v.get("read_only") for v in sources), f"{name}: sources mounted read-only")
    check(service.get("read_only") is True, f"{name}: read-only root filesystem")
named = {v.get("source") for v in map(volume, coordinator_service.get("volumes", [])) if v.get("type") == "volume"}
check({"artifacts", "state"} <= named, "artifacts and state in named volumes")
mounted = {s.get("source") if isinstance(s, dict) else s for s in coordinator_service.get("secrets", [])}
check({"admin-token", "webhook-secret", "smtp-password"} <= mounted, "the secrets are mounted under /run/secrets")
check(coordinator_service.get("environment", {}).get("WEBHOOK_SECRET_FILE") == "/run/secrets/webhook-secret",
      "the webhook secret is reached by the *_FILE convention")

# The coordinator's config loads as the container would see it.
with tempfile.TemporaryDirectory() as tmp:
    token = os.path.join(tmp, "webhook-secret")
    with open(token, "w") as f:
        f.write("s3cret\n")
    checked = subprocess.run([coordinator, "check", "--syntax-only", "--config", os.path.join(root, "deploy/compose/ingest.yaml")],
                             env=dict(os.environ, WEBHOOK_SECRET_FILE=token), capture_output=True, text=True)
    check(checked.returncode == 0, f"ingest-coordinator check deploy/compose/ingest.yaml: {checked.stderr.strip()}")

for f in failures:
    print(f"FAIL {f}")
if failures:
    sys.exit(1)
print("docker-compose.yml: valid, scalable workers, loopback-only admin port, secrets under /run/secrets")
