#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test suite with ctest.
# Usage: ./scripts/test.sh [ctest args...], e.g. ./scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
# Each test has its own timeout (tests/CMakeLists.txt); --timeout bounds any stragglers.
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 "$@"
