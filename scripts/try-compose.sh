#!/usr/bin/env bash
# The compose deployment tried for real, as a new user would (README, "Deploy"):
# installs Debian's docker.io and docker-compose, starts dockerd if none runs
# (and stops only the one it started), makes debian:bookworm(-slim) locally
# with debootstrap when absent (there is no registry here), builds the image,
# runs `docker-compose up --scale worker=3`, triggers a run over the example
# corpus and then one over a larger generated corpus with ingestctl, scales
# the workers to 5 and then to 1 while that run is in pass C, and checks:
# exit 0, artifacts byte-identical to a run without containers, the stopped
# workers drained, every worker seen by `ingestctl workers`, /metrics scraped
# from the host. Prints the times of the image build, compose up and the run.
# Usage: scripts/try-compose.sh [--docs 8000]
set -euo pipefail
cd "$(dirname "$0")/.."
docs=8000
while (($#)); do
  case $1 in
    --docs) docs=$2; shift 2 ;;
    *) echo "usage: $0 [--docs N]" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
./scripts/build.sh >/dev/null
bin=$PWD/build/bin
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  echo "== installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The client that speaks to Debian's daemon; legacy builder (no buildx here).
docker=/usr/bin/docker
[[ -x $docker ]] || docker=$(command -v docker)
export DOCKER_BUILDKIT=0

work=$(mktemp -d)
project=ingestfleet-try-$$
dockerd_pid=""
compose() { docker-compose -p "$project" "$@"; }
cleanup() {
  set +e
  [[ -f $work/env ]] && (set -a; . "$work/env"; compose down -v --remove-orphans >/dev/null 2>&1)
  for pid in $(cat "$work/log-pids" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  if [[ -n $dockerd_pid ]]; then kill "$dockerd_pid"; wait "$dockerd_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! $docker info >/dev/null 2>&1; then
  echo "== starting dockerd"
  dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do $docker info >/dev/null 2>&1 && break; sleep 1; done
  $docker info >/dev/null 2>&1 || { cat "$work/dockerd.log"; echo "dockerd did not start" >&2; exit 1; }
fi

for image in debian:bookworm debian:bookworm-slim; do
  if ! $docker image inspect "$image" >/dev/null 2>&1; then
    if [[ ! -d $work/rootfs ]]; then
      echo "== making $image with debootstrap (no registry here)"
      debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
      rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    fi
    tar -C "$work/rootfs" -c . | $docker import -c 'CMD ["bash"]' - "$image" >/dev/null
  fi
done

seconds_since() { echo "$(date +%s.%N) - $1" | bc -l; }
echo "== building the image"
start=$(date +%s.%N)
$docker build -q -f deploy/docker/Dockerfile -t ingestfleet:try . >"$work/build.log"
build_s=$(seconds_since "$start")
size=$($docker image inspect ingestfleet:try --format '{{.Size}}')

# The project's own secrets, sources and ports.
mkdir -p "$work/secrets" "$work/sources"
openssl rand -hex 24 >"$work/secrets/admin-token"
openssl rand -hex 24 >"$work/secrets/webhook-secret"
printf 'unused' >"$work/secrets/smtp-password"
cp -r examples/corpus/. "$work/sources/"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$work/env" <<ENV
INGESTFLEET_IMAGE=ingestfleet:try
INGESTFLEET_SOURCES=$work/sources
INGESTFLEET_ADMIN_PORT=$(free_port)
INGESTFLEET_METRICS_PORT=$(free_port)
INGEST_ENV=compose
ENV
set -a; . "$work/env"; set +a
# Compose reads the secrets from deploy/compose/secrets: this run's go there
# unless the operator has their own.
for s in admin-token webhook-secret smtp-password; do
  [[ -e deploy/compose/secrets/$s ]] || { cp "$work/secrets/$s" "deploy/compose/secrets/$s"; echo "$s" >>"$work/own-secrets"; }
done
trap 'for s in $(cat "$work/own-secrets" 2>/dev/null); do rm -f "deploy/compose/secrets/$s"; done; cleanup' EXIT
token=deploy/compose/secrets/admin-token
ctl() { "$bin/ingestctl" --server "127.0.0.1:$INGESTFLEET_ADMIN_PORT" --token-file "$token" "$@"; }

echo "== docker-compose up --scale worker=3"
start=$(date +%s.%N)
compose up -d --scale worker=3 >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
for _ in $(seq 1 120); do
  ctl health >/dev/null 2>&1 && [[ $(ctl --json workers | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("workers",[])))') == 3 ]] && break
  sleep 1
done
up_s=$(seconds_since "$start")
ctl workers

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

echo "== run 1: the example corpus"
ctl run --wait >"$work/run1.json" 2>"$work/run1.err" || fail "run 1 exited $? ($(tail -3 "$work/run1.err"))"

echo "== run 2: $docs generated documents; workers scaled to 5 and to 1 in pass C"
python3 bench/make_corpus.py "$work/sources/generated" "$docs" >/dev/null
# Every worker container's log, followed to its end (removed ones included).
follow_logs() {
  for id in $(compose ps -q worker); do
    [[ -e $work/logs/$id ]] && continue
    mkdir -p "$work/logs"
    $docker logs -f "$id" >"$work/logs/$id" 2>&1 &
    echo $! >>"$work/log-pids"
  done
}
follow_logs
start=$(date +%s.%N)
run_id=$(ctl run --full-refresh 2>/dev/null)
seen=$work/seen-workers
: >"$seen"
watch_workers() { ctl --json workers | python3 -c 'import json,sys; [print(w["worker_id"]) for w in json.load(sys.stdin).get("workers",[])]' >>"$seen" 2>/dev/null || true; }
pass_of() { ctl --json status "$run_id" | python3 -c '
import json,sys
r=json.load(sys.stdin)
running=[p["pass"] for p in r.get("passes",[]) if p.get("status")=="RUNNING"]
print(running[0] if running else r.get("state",""))'; }
for _ in $(seq 1 600); do [[ $(pass_of) == C ]] && break; watch_workers; sleep 0.5; done
[[ $(pass_of) == C ]] || fail "run 2 never was in pass C"
compose up -d --no-recreate --scale worker=5 >>"$work/up.log" 2>&1
follow_logs
for _ in $(seq 1 60); do watch_workers; (($(sort -u "$seen" | wc -l) >= 5)) && break; sleep 0.5; done
at_five=$(pass_of)
compose up -d --no-recreate --scale worker=1 >>"$work/up.log" 2>&1
at_one=$(pass_of)
for _ in $(seq 1 1200); do
  state=$(ctl --json status "$run_id" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))')
  [[ $state == RUN_STATE_QUEUED || $state == RUN_STATE_RUNNING ]] || break
  watch_workers
  sleep 0.5
done
run_s=$(seconds_since "$start")
ctl --json status "$run_id" >"$work/run2.json"
exit_code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("exit_code",-1))' "$work/run2.json")
[[ $exit_code == 0 ]] || fail "run 2 ended with exit code $exit_code"
[[ $at_five == C ]] || fail "pass C had ended ($at_five) when the fifth worker joined: try more --docs"
workers_seen=$(sort -u "$seen" | wc -l)
((workers_seen >= 5)) || fail "ingestctl workers saw $workers_seen distinct workers, not 5"
# The four workers scaled away drained: SIGTERM, unstarted tasks handed back, exit 0.
drained=$(grep -l "draining (" "$work"/logs/* 2>/dev/null | wc -l)
stopped=$(grep -l "stopped after" "$work"/logs/* 2>/dev/null | wc -l)
((drained >= 4 && stopped >= 4)) || fail "$drained workers drained and $stopped stopped cleanly, not 4"
metrics=$(curl -s "http://127.0.0.1:$INGESTFLEET_METRICS_PORT/metrics")
grep -q '^ingestfleet_runs_total{status="completed"} 2' <<<"$metrics" || fail "/metrics from the host: $(grep runs_total <<<"$metrics")"

echo "== the same corpus without containers"
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job_dir"])' "$work/run2.json")
$docker cp "$(compose ps -q coordinator):$job" "$work/compose-job" >/dev/null
mkdir -p "$work/local"
# What deploy/compose/ingest.yaml says about the output: the env and the source's name.
cat >"$work/local.yaml" <<YAML
env: compose
artifact_root: $work/local/artifacts
state_db: $work/local/state/ingest.db
report_dir: $work/local/reports
fleet: { bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 60 }
sources:
  - { name: corpus, kind: files, root: $work/sources }
YAML
"$bin/ingest-coordinator" run --config "$work/local.yaml" --full-refresh --local-workers 2 \
  >"$work/local.json" 2>"$work/local.err" || fail "the run without containers: $(tail -3 "$work/local.err")"
local_job=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["job_dir"])' "$work/local.json")
for f in passA_toc.json passB_splits.json passC_chunks.json passD_enriched.json passE_graph.json passF_cleanup.json; do
  cmp -s "$work/compose-job/$f" "$local_job/$f" || fail "$f differs from the run without containers"
done

cat <<REPORT
== figures
image build        $(printf '%.0f' "$build_s") s   (image $((size / 1000000)) MB)
compose up         $(printf '%.1f' "$up_s") s   (to a healthy coordinator and 3 ready workers)
run 2              $(printf '%.1f' "$run_s") s   ($docs documents, exit $exit_code; 5 workers in pass $at_five, back to 1 in pass $at_one)
workers seen       $workers_seen
workers drained    $drained
REPORT
if ((failures)); then
  echo "try-compose: $failures checks failed"
  exit 1
fi
echo "try-compose: all checks passed"
