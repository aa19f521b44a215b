#!/usr/bin/env bash
# Incremental runs over a generated corpus: a full run, a no-change rerun and
# a rerun after 1% of the documents changed (median wall time of REPEAT runs
# each, and their ratios), then checks that the 1% rerun's artifacts equal a
# --full-refresh run's byte for byte.
# Usage: bench/incremental.sh BIN_DIR [DOCS=5000] [REPEAT=3]
set -euo pipefail
bin=$1
docs=${2:-5000}
repeat=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_corpus.py" "$work/corpus" "$docs"
cat > "$work/inc.yaml" <<YAML
env: incremental
artifact_root: ./artifacts
state_db: ./state/ingest.db
fleet: { bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 30, heartbeat_ms: 500 }
sources:
  - { name: corpus, kind: files, root: ./corpus }
YAML

run() {  # prints the wall seconds; the summary goes to $work/summary.json
  local start end
  start=$(date +%s.%N)
  "$bin/ingest-coordinator" run --config "$work/inc.yaml" --local-workers 2 --local-worker-slots 1 "$@" \
    >"$work/summary.json" 2>"$work/run.log" || { tail -20 "$work/run.log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; s=json.load(open('$work/summary.json')); print($1)"; }

full=(); none=(); some=()
for i in $(seq 1 "$repeat"); do
  full+=("$(run --full-refresh)")
  none+=("$(run --manual)")
  unchanged=$(field "s['documents']['unchanged']")
  executed=$(field "s['tasks']['executed']")
  # Touch 1% of the documents with new content (a different set each round).
  python3 - "$work/corpus" "$docs" "$i" <<'PY'
import os, sys
root, docs, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
step = max(1, len(files) // max(1, docs // 100))
for path in files[round_ % step::step][: max(1, docs // 100)]:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\nRevision {round_}: one more sentence about the Night Shift.\n")
PY
  some+=("$(run --manual)")
  changed=$(field "s['documents']['changed']")
  processed=$(field "s['documents']['processed']")
  echo "round $i: full ${full[-1]} s; no-change ${none[-1]} s (unchanged $unchanged, tasks executed $executed); 1% changed ${some[-1]} s (changed $changed, processed $processed)"
done
incremental_job=$(field "s['job_dir']")
run --full-refresh >/dev/null
refresh_job=$(field "s['job_dir']")
for f in passA_toc passB_splits passC_chunks passD_enriched passE_graph passF_cleanup; do
  cmp -s "$incremental_job/$f.json" "$refresh_job/$f.json" || { echo "FAILED: $f.json differs from a full refresh"; exit 1; }
done
f=$(printf '%s\n' "${full[@]}" | median); n=$(printf '%s\n' "${none[@]}" | median); s=$(printf '%s\n' "${some[@]}" | median)
printf '%d documents, medians of %d: full %.2f s, no-change rerun %.2f s (%.1f%% of full), 1%% changed %.2f s (%.1f%% of full); the 1%% rerun equals a full refresh byte for byte\n' \
  "$docs" "$repeat" "$f" "$n" "$(echo "100 * $n / $f" | bc -l)" "$s" "$(echo "100 * $s / $f" | bc -l)"
