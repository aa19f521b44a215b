#!/usr/bin/env bash
# Installs dependencies, builds, lints (scripts/lint.sh: clang-format on
# every file, clang-tidy on the changed tree), and runs every test suite with
# ctest: the Release build first, then the same suite built with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and with
# ThreadSanitizer (build-tsan/), then every libFuzzer target for
# INGEST_FUZZ_SECONDS each (scripts/fuzz.sh, 15 by default, 0 skips).
# INGEST_SANITIZERS=0 skips the sanitizer builds and the fuzzing;
# INGEST_LINT=0 skips the lint.
# Usage: ./scripts/test.sh [ctest args...], e.g. ./scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# ccache keys on paths relative to the checkout, so fresh clones (CI) hit the cache.
export CCACHE_BASEDIR="$PWD"
./scripts/build.sh
if [[ "${INGEST_LINT:-1}" != "0" ]]; then
  ./scripts/lint.sh
fi
jobs=$(nproc 2>/dev/null || echo 2)
# Each test has its own timeout (tests/CMakeLists.txt); --timeout bounds any stragglers.
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 "$@"

if [[ "${INGEST_SANITIZERS:-1}" == "0" ]]; then
  exit 0
fi
# -O1 without debug info: a third of the build time of RelWithDebInfo, and
# the reports still name functions. Instrumented code runs several times
# slower, so the tests' waits are scaled (INGEST_TEST_TIME_SCALE).
sanitized() {
  local dir=$1 sanitize=$2 scale=$3
  shift 3
  echo "== tests under -fsanitize=$sanitize ($dir)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1" -DINGEST_SANITIZE="$sanitize" \
    -DINGEST_BUILD_BENCH=OFF -DINGEST_TEST_TIMEOUT=1800 >/dev/null
  cmake --build "$dir" -j "$jobs"
  INGEST_TEST_TIME_SCALE=$scale ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 1800 "$@"
}
# Leak checking stays off: glib, poppler and protobuf keep process-lifetime
# allocations that LeakSanitizer reports at exit.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
sanitized build-asan address,undefined 3 "$@"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
sanitized build-tsan thread 8 "$@"

# The fuzz targets, briefly: seeds and what a short run finds (the long runs
# are scripts/fuzz.sh with a bigger budget).
fuzz_seconds=${INGEST_FUZZ_SECONDS:-15}
if [[ "$fuzz_seconds" != "0" ]]; then
  ./scripts/fuzz.sh "$fuzz_seconds"
fi
