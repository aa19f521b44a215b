#!/usr/bin/env bash
# Lint, as scripts/test.sh runs it: clang-format (.clang-format) must leave every tracked C++ file
# unchanged, and the clang-tidy checks of .clang-tidy must give no warning on the changed tree: the
# .cc files that differ from the base, and the .cc next to each changed header. `--all` checks
# every file instead (about 7 minutes of clang-tidy on 2 cores).
# The base is $INGEST_LINT_BASE, else the merge base with origin/main when HEAD is ahead of it,
# else HEAD~1: a clean clone of main checks its newest commit. Without history, everything.
# Needs build/compile_commands.json, which scripts/build.sh writes.
# Usage: scripts/lint.sh [--all]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

mapfile -t sources < <(git ls-files '*.cc' '*.h' | grep -E '^(common|coordinator|worker|ctl|bench|tests)/')
unformatted=()
for f in "${sources[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]} > 0)); then
  echo "lint: not clang-formatted (run: clang-format -i FILE): ${unformatted[*]}" >&2
  exit 1
fi

if [[ ! -f build/compile_commands.json ]]; then
  echo "lint: build/compile_commands.json is missing; run scripts/build.sh first" >&2
  exit 1
fi
base=""
if [[ "${1:-}" != "--all" ]]; then
  base=${INGEST_LINT_BASE:-}
  if [[ -z "$base" ]] && upstream=$(git merge-base HEAD origin/main 2>/dev/null) &&
     [[ "$upstream" != "$(git rev-parse HEAD)" ]]; then
    base=$upstream
  fi
  [[ -n "$base" ]] || base=$(git rev-parse -q --verify HEAD~1 2>/dev/null || true)
fi
if [[ -n "$base" ]]; then
  mapfile -t changed < <({ git diff --name-only --diff-filter=ACMR "$base" --; git ls-files --others --exclude-standard; } |
                         grep -E '^(common|coordinator|worker|ctl|bench|tests)/.*\.(cc|h)$' | sort -u)
  echo "lint: clang-tidy on the files changed since $(git rev-parse --short "$base")"
else
  changed=("${sources[@]}")
  echo "lint: clang-tidy on every file"
fi
units=()
for f in "${changed[@]}"; do
  [[ "$f" == *.h ]] && f=${f%.h}.cc
  [[ -f "$f" ]] && grep -q "\"file\": \"$PWD/$f\"" build/compile_commands.json && units+=("$f")
done
mapfile -t units < <(printf '%s\n' "${units[@]}" | sort -u | sed '/^$/d')
if ((${#units[@]} == 0)); then
  echo "lint: no C++ file changed"
  exit 0
fi
echo "lint: clang-tidy on ${#units[@]} files"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! printf '%s\n' "${units[@]}" |
     xargs -P "$jobs" -n 1 clang-tidy -p build --quiet --warnings-as-errors='*' >"$log" 2>&1; then
  grep -E 'warning:|error:' -A3 "$log" >&2 || cat "$log" >&2
  echo "lint: clang-tidy found problems (see above)" >&2
  exit 1
fi
echo "lint: clean"
