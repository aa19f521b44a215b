#!/usr/bin/env bash
# Acceptance run over documents nobody on the team wrote: Debian's PDF manuals
# (R manuals, gnuplot, the Debian Reference in English and French, all with
# outlines; the 3,000-page R reference exercises pass B's split), its HTML
# manuals, Markdown and plain-text files from /usr/share, once clean and once
# with bad files added. Prints per-format figures and the checks it made.
# Usage: scripts/try-real-docs.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
  r-doc-pdf gnuplot-doc debian-reference-en debian-reference-fr >/dev/null
./scripts/build.sh
work=${1:-$(mktemp -d)}
corpus="$work/corpus"
rm -rf "$corpus" && mkdir -p "$corpus"/{pdf,html,markdown,text}
cp /usr/share/R/doc/manual/{R-intro,R-admin,R-exts,R-lang,R-data,R-FAQ,refman}.pdf "$corpus/pdf/"
cp /usr/share/doc/gnuplot/gnuplot.pdf /usr/share/debian-reference/debian-reference.{en,fr}.pdf "$corpus/pdf/"
cp /usr/share/debian-reference/*.{en,fr}.html "$corpus/html/"
mapfile -t markdown < <(find /usr/share/doc -name '*.md' -size +2k 2>/dev/null | sort)
for f in "${markdown[@]:0:40}"; do
  cp "$f" "$corpus/markdown/$(echo "${f#/usr/share/doc/}" | tr '/' '_')"
done
cp /usr/share/common-licenses/{GPL-3,Apache-2.0,GFDL-1.3,Artistic,MPL-2.0} "$corpus/text/"
cat > "$work/real.yaml" <<YAML
env: real
artifact_root: ./artifacts
fleet: { bind: "tcp://127.0.0.1:*", min_workers: 1, wait_for_workers_s: 30, task_timeout_s: 900 }
sources:
  - { name: real, kind: files, root: ./corpus }
passes:
  B: { split_threshold_mb: 20, split_pages: 200 }
YAML

run() {
  local label=$1
  local start end rc=0
  start=$(date +%s.%N)
  build/bin/ingest-coordinator run --config "$work/real.yaml" --full-refresh --local-workers 2 --local-worker-slots 1 \
    >"$work/$label.json" 2>"$work/$label.log" || rc=$?
  end=$(date +%s.%N)
  printf '%s: exit %d in %.1f s\n' "$label" "$rc" "$(echo "$end - $start" | bc -l)"
  tail -n 1 "$work/$label.json"
  return 0
}

echo "== clean corpus: $(find "$corpus" -type f | wc -l) documents, $(du -sm "$corpus" | cut -f1) MB"
run clean
job=$(sed -n 's/.*"job_dir":"\([^"]*\)".*/\1/p' "$work/clean.json")
python3 - "$job" <<'PY'
import json, sys, collections
job = sys.argv[1]
def records(name):
    with open(f"{job}/{name}") as f:
        for line in f:
            line = line.rstrip("\n")
            if line in ("[", "]"): continue
            yield json.loads(line.rstrip(","))
toc = {r["source_id"]: r for r in records("passA_toc.json")}
splits = collections.Counter(r["source_id"] for r in records("passB_splits.json"))
pages = collections.defaultdict(set); chunks = collections.Counter()
for c in records("passC_chunks.json"):
    pages[c["source_id"]].add(c["page"]); chunks[c["source_id"]] += 1
by_format = collections.defaultdict(lambda: [0, 0, 0, 0])
problems = []
for sid, t in toc.items():
    f = by_format[t["format"]]; f[0] += 1; f[1] += len(t["sections"]); f[2] += chunks[sid]; f[3] += t["pages"]
    if chunks[sid] == 0: problems.append(f"{t['path']}: no chunks")
    if t["format"] == "pdf":
        if not t["sections"]: problems.append(f"{t['path']}: PDF without sections")
        missing = set(range(1, t["pages"] + 1)) - pages[sid]
        blank = len(missing)
        if blank > t["pages"] * 0.05: problems.append(f"{t['path']}: {blank} of {t['pages']} pages without a chunk")
        print(f"  {t['path']}: {t['pages']} pages, {len(t['sections'])} outline sections, {splits[sid]} parts, "
              f"{chunks[sid]} chunks, pages without a chunk (blank pages): {blank}")
for fmt, (docs, sections, n, p) in sorted(by_format.items()):
    print(f"  {fmt}: {docs} documents, {sections} sections, {n} chunks, {p} pages")
print("  problems:", problems or "none")
PY

echo "== the same corpus with bad files added"
head -c 20000 /usr/share/R/doc/manual/R-intro.pdf > "$corpus/pdf/truncated.pdf"
printf '%%PDF-1.4\n%s\n%%%%EOF\n' "$(head -c 3000 /dev/urandom | base64 -w0)" > "$corpus/pdf/garbage.pdf"
head -c 4096 /bin/ls > "$corpus/text/binary.txt"
: > "$corpus/text/empty.md"
ln -sf /etc/hostname "$corpus/text/escape.txt"
run bad
sed -n 's/.*document \(.*\) failed in pass \(.\): \(.*\)/  failed: \1 (pass \2): \3/p' "$work/bad.log" | cut -c1-160
grep -c "joined" "$work/bad.log" | sed 's/^/  worker joins: /'
echo "work directory: $work"
