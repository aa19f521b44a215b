#!/usr/bin/env bash
# Prints the benchmark figures: the coordinator's throughput goals
# (bench/throughput.py: CPU per task, A->F beside Celery + Redis, reruns,
# memory, bytes per job, headroom), pass C chunking throughput and per-format
# extraction + chunking (Google Benchmark), the walk of a files source, a
# manifest save and an artifact's write, no-op task dispatch through the
# real broker with 1/2/8/32/64/256 workers and the coordinator's CPU per task,
# recovery time after a worker SIGKILL, and the end-to-end wall time of A→F
# over a generated Markdown/text/HTML corpus with 1 and 2 single-slot workers
# (median of REPEAT runs), the admin API's GetRun / ListRuns latency over
# 1,000 stored runs and the cost of 50 WatchRun streams to a run.
# scripts/try-real-docs.sh times A→F over real PDFs.
# Usage: scripts/bench.sh [DOCS=2000] [REPEAT=3]
set -euo pipefail
cd "$(dirname "$0")/.."
docs=${1:-2000}
repeat=${2:-3}
./scripts/setup.sh
./scripts/build.sh -DINGEST_BUILD_BENCH=ON
# The peer harness (../shared/peers/celery) needs Celery and Redis: packages
# of the benchmark alone, not of the build or the tests.
if [ -d ../shared/peers/celery ] && ! { /usr/bin/python3 -c 'import celery, redis' 2>/dev/null && command -v redis-server >/dev/null; }; then
  apt-get install -y -q python3-celery python3-redis redis-server parallel >/dev/null
fi

echo "== issue 14: the coordinator's throughput goals (beside the filed figures and Celery + Redis)"
python3 bench/throughput.py build/bin --repeat "$repeat"
echo

echo "== pass C chunking throughput"
build/bench/chunker_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo
echo "== pass C per format (extraction + chunking): MB/s, PDF pages/s"
build/bench/formats_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo
echo "== the coordinator's own pieces: a files source's walk, the state store's read and settle of its documents,"
echo "   a manifest save, an artifact written from rendered records"
build/bench/sources_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
build/bench/state_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
build/bench/manifest_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo
echo "== fleet: no-op task dispatch over TCP loopback (items_per_second = tasks/s), coordinator CPU per task"
build/bench/fleet_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo
echo "== fleet: recovery from a worker SIGKILL mid-pass"
python3 bench/fleet_recovery.py build/bin --repeat 5
echo
echo "== http sources: pages from a local server, first run vs 304 sweep vs 1% changed"
python3 bench/http_sources.py build/bin --pages 500
echo
echo "== admin API: GetRun / ListRuns latency over 1,000 stored runs (p50_ms / p99_ms counters)"
build/bench/admin_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo
echo "== admin API: a run's wall time alone vs with 50 WatchRun streams"
python3 bench/admin_watchers.py build/bin --docs "$docs" --watchers 50 --repeat "$repeat"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/make_corpus.py "$work/corpus" "$docs"
corpus_mb=$(du -sm "$work/corpus" | cut -f1)
cat > "$work/bench.yaml" <<YAML
env: bench
artifact_root: ./artifacts
fleet: { bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 30, heartbeat_ms: 500 }
sources:
  - { name: corpus, kind: files, root: ./corpus }
YAML

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "== end-to-end A→F over $docs documents (${corpus_mb} MB), median of $repeat runs"
declare -A result
for workers in 1 2; do
  times=()
  for _ in $(seq 1 "$repeat"); do
    start=$(date +%s.%N)
    build/bin/ingest-coordinator run --config "$work/bench.yaml" --full-refresh --local-workers "$workers" \
      --local-worker-slots 1 >"$work/summary.json" 2>"$work/run.log"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  result[$workers]=$(printf '%s\n' "${times[@]}" | median)
  chunks=$(sed -n 's/.*"chunks":\([0-9]*\).*/\1/p' "$work/summary.json")
  cpu=$(grep -o 'coordinator CPU [^"]*' "$work/run.log" | tail -1)
  printf 'workers=%d  median wall %.2f s  (runs: %s)  chunks=%s  last run: %s\n' "$workers" "${result[$workers]}" \
    "${times[*]}" "$chunks" "$cpu"
done
printf 'speedup 2 vs 1 worker: %.2fx\n' "$(echo "${result[1]} / ${result[2]}" | bc -l)"
