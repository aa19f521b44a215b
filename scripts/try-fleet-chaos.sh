#!/usr/bin/env bash
# Acceptance of the fleet's reliability over a generated corpus: workers
# SIGKILLed, SIGTERMed and replaced mid-run; the coordinator SIGKILLed mid-pass
# and resumed. Both must match a clean run byte for byte (bench/fleet_chaos.py).
# Usage: scripts/try-fleet-chaos.sh [--docs N] [--workdir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
exec python3 bench/fleet_chaos.py build/bin "$@"
