#!/usr/bin/env bash
# Installs dependencies, builds (Release), starts a coordinator and two workers
# on loopback, runs passes A..F over examples/corpus/ with examples/demo.yaml,
# prints the run summary and the job directory, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh

logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

build/bin/ingest-coordinator run --config examples/demo.yaml --manual >"$logs/summary.json" 2>"$logs/coordinator.log" &
coordinator=$!
pids+=("$coordinator")

endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/.*fleet: listening on \(tcp:[^ ]*\).*/\1/p' "$logs/coordinator.log" | head -1)
  [[ -n "$endpoint" ]] && break
  kill -0 "$coordinator" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$endpoint" ]]; then
  echo "demo: the coordinator did not start:" >&2
  cat "$logs/coordinator.log" >&2
  exit 1
fi
echo "demo: coordinator listening on $endpoint; starting two workers" >&2
for i in 1 2; do
  build/bin/ingest-worker --connect "$endpoint" --id "demo-worker-$i" --slots 2 2>"$logs/worker$i.log" &
  pids+=("$!")
done

status=0
wait "$coordinator" || status=$?
cat "$logs/coordinator.log" >&2
echo
echo "run summary:"
tail -n 1 "$logs/summary.json"
job_dir=$(sed -n 's/.*"job_dir":"\([^"]*\)".*/\1/p' "$logs/summary.json")
echo "job directory: $job_dir"
[[ -n "$job_dir" ]] && ls -l "$job_dir"
exit "$status"
