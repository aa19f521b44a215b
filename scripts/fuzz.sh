#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for SECONDS each (default 60) and
# prints, per target, the executions, their rate and the coverage gained.
# Builds build-fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# and coverage instrumentation. Seeds: fuzz_seeds (our own formats, from real
# task results), the example corpus and configs. The corpus each target
# grows is kept in build-fuzz/corpus/<target>/ for the next run.
# A crash, a hang (one input over 10 s) or an input that needs over 2 GB
# stops that target: its input is saved under build-fuzz/crashes/ and the script
# exits 1 after the others ran, with the command that reproduces it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
./scripts/setup.sh
export CCACHE_BASEDIR="$PWD"
jobs=$(nproc 2>/dev/null || echo 2)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" \
  -DINGEST_SANITIZE=address,undefined -DINGEST_FUZZ=ON -DINGEST_BUILD_TESTS=OFF -DINGEST_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_targets

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_config fuzz_manifest fuzz_journal fuzz_envelope fuzz_broker fuzz_markdown fuzz_html fuzz_text
    fuzz_chunker fuzz_pdf_answer)
fi

seeds=build-fuzz/seeds
rm -rf "$seeds"
build-fuzz/fuzz/fuzz_seeds "$seeds"
copy_seeds() {
  local target=$1
  shift
  mkdir -p "$seeds/$target"
  for f in "$@"; do cp "$f" "$seeds/$target/$(echo "$f" | tr / _)"; done
}
copy_seeds fuzz_config examples/demo.yaml $(find deploy -name 'ingest*.yaml' | sort)
copy_seeds fuzz_markdown $(find examples/corpus -name '*.md' | sort)
copy_seeds fuzz_html $(find examples/corpus -name '*.html' | sort)
copy_seeds fuzz_text $(find examples/corpus -name '*.txt' | sort)
# The chunker's first two bytes are chunk_chars - 64 and overlap_chars.
mkdir -p "$seeds/fuzz_chunker"
for f in $(find examples/corpus -name '*.md' -o -name '*.txt' | sort); do
  { printf '\x40\x20'; cat "$f"; } >"$seeds/fuzz_chunker/$(echo "$f" | tr / _)"
done

export ASAN_OPTIONS="abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p build-fuzz/crashes
failed=()
printf '%-16s %12s %9s %15s %8s\n' target executions exec/s "coverage" corpus
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target
  log=build-fuzz/$target.log
  mkdir -p "$corpus" "$seeds/$target"
  status=0
  build-fuzz/fuzz/"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/"$target"- "$corpus" "$seeds/$target" \
    >"$log" 2>&1 || status=$?
  inited=$(grep -o 'INITED cov: [0-9]*' "$log" | head -1 | awk '{print $3}')
  final=$(grep -oE '(DONE|pulse|NEW|REDUCE) +cov: [0-9]*' "$log" | tail -1 | awk '{print $NF}')
  execs=$(awk '/^stat::number_of_executed_units:/ {print $2; exit}' "$log")
  rate=$(awk '/^stat::average_exec_per_sec:/ {print $2; exit}' "$log")
  printf '%-16s %12s %9s %15s %8s\n' "$target" "${execs:-?}" "${rate:-?}" \
    "${inited:-?} -> ${final:-?}" "$(find "$corpus" -type f | wc -l)"
  if ((status != 0)); then
    failed+=("$target")
    echo "  $target failed (exit $status); the end of $log:" >&2
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20 | sed 's/^/    /' >&2
    echo "  reproduce: build-fuzz/fuzz/$target build-fuzz/crashes/$target-*" >&2
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: ${#failed[@]} target(s) found a failure: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each: no crash, leak or hang, and no input needed over 2 GB"
