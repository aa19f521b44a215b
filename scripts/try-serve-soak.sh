#!/usr/bin/env bash
# Soak of the serve daemon (bench/serve_soak.py): scheduled runs every minute
# with random document changes between them and workers SIGKILLed mid-run;
# every run must equal a full refresh of the same inputs, and the daemon's
# file descriptors and resident memory must stay flat (both printed).
# 50 runs by default, about 50 minutes; CI runs two (ctest ServeSoak.*).
# Usage: scripts/try-serve-soak.sh [--runs N] [--docs N] [--seed N] [--workdir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
exec python3 bench/serve_soak.py build/bin "$@"
