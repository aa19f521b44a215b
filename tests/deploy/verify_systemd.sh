#!/usr/bin/env bash
# The systemd units of deploy/systemd through `systemd-analyze verify` (a
# warning fails too), with ExecStart pointing at this build's binaries (the
# units name /usr/local/bin, where `cmake --install` puts them), and their
# exposure score from `systemd-analyze security --offline`. Exit 77 (skip)
# without systemd-analyze.
# Usage: tests/deploy/verify_systemd.sh SOURCE_DIR BIN_DIR
set -euo pipefail
source_dir=$1
bin_dir=$2
if ! command -v systemd-analyze > /dev/null; then
  echo "systemd-analyze is not installed (Debian's systemd); skipping"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$source_dir"/deploy/systemd/*.service "$source_dir"/deploy/systemd/*.timer "$work"/
sed -i "s|/usr/local/bin/|$bin_dir/|g" "$work"/*.service
cd "$work"
units=(ingestfleet-serve.service ingestfleet-run.service ingestfleet-run.timer ingest-worker@1.service)
if ! systemd-analyze verify --man=no "${units[@]}" > verify.out 2>&1 || [[ -s verify.out ]]; then
  cat verify.out
  echo "FAILED: systemd-analyze verify"
  exit 1
fi
echo "systemd-analyze verify: ${units[*]}: clean"
for unit in ingestfleet-serve.service ingestfleet-run.service ingest-worker@1.service; do
  systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 | tail -1
done
