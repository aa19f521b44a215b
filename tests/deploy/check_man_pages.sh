#!/usr/bin/env bash
# The man pages the build made with help2man: each renders without a
# warning, names its version and starts its description with the examples
# of --help. Exit 77 (skip) without man.
# Usage: tests/deploy/check_man_pages.sh MAN_DIR
set -euo pipefail
man_dir=$1
if ! command -v man > /dev/null; then
  echo "man is not installed (Debian's man-db); skipping"
  exit 77
fi
warnings=$(mktemp)
trap 'rm -f "$warnings"' EXIT
for binary in ingest-coordinator ingest-worker ingestctl; do
  page="$man_dir/$binary.1"
  [[ -s "$page" ]] || { echo "FAILED: $page is missing"; exit 1; }
  text=$(MANWIDTH=100 man --warnings -l "$page" 2> "$warnings")
  if [[ -s "$warnings" ]]; then
    cat "$warnings"
    echo "FAILED: $page renders with warnings"
    exit 1
  fi
  grep -q "$binary 0\.[0-9]" <<< "$text" || { echo "FAILED: $page names no version"; exit 1; }
  grep -A1 "Example:" <<< "$text" | grep -q "$binary " || { echo "FAILED: $page has no example"; exit 1; }
  echo "$page: renders, $(wc -l <<< "$text") lines"
done
