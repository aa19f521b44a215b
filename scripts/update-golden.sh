#!/usr/bin/env bash
# Regenerates tests/golden/examples/ from a demo run over examples/corpus/.
# Review the diff (git diff tests/golden) before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
INGEST_ARTIFACT_ROOT="$out" INGEST_STATE_DB="$out/state.db" build/bin/ingest-coordinator run --config examples/demo.yaml \
  --local-workers 2 --local-worker-slots 1 >/dev/null
job=$(ls -d "$out"/ingest/demo/job_*)
mkdir -p tests/golden/examples
cp "$job"/pass*.json tests/golden/examples/
git status --short tests/golden
