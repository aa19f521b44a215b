#!/usr/bin/env python3
"""Writes a deterministic synthetic corpus for end-to-end benchmarks.

usage: make_corpus.py DIR COUNT [--seed N]
A third each Markdown (headings, glossary), plain text (numbered sections, form feeds) and HTML;
sizes vary from ~2 KB to ~60 KB so that the tail of large documents matters.
"""
import os
import random
import sys

WORDS = ("coordinator merges results into artifacts while every worker reads its sources "
         "directly and the gate opens only after the manifest records each checksum "
         "Operators watch the Night Shift rota and the Document Archive grows every week").split()


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + "."


def paragraph(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def markdown(rng, n):
    out = [f"# Manual {n}\n"]
    for s in range(rng.randint(3, 12)):
        out.append(f"\n## Section {s}\n")
        for _ in range(rng.randint(1, 8)):
            out.append("\n" + paragraph(rng) + "\n")
    out.append("\n## Glossary\n\n- **Worker Fleet**: all workers.\n- **Gate**: the check before a pass.\n")
    return "".join(out)


def text(rng, n):
    out = [f"POLICY {n}\n"]
    for s in range(rng.randint(3, 12)):
        out.append(f"\n{s + 1}. Part {s}\n\n")
        out.append("\n\n".join(paragraph(rng) for _ in range(rng.randint(1, 8))) + "\n")
        if s % 3 == 2:
            out.append("\f")
    return "".join(out)


def html(rng, n):
    out = [f"<!doctype html><html><head><title>Page {n}</title><script>var x = 1;</script></head><body>\n"]
    for s in range(rng.randint(3, 12)):
        out.append(f"<h2>Topic {s}</h2>\n")
        out.extend(f"<p>{paragraph(rng)}</p>\n" for _ in range(rng.randint(1, 8)))
    out.append("</body></html>\n")
    return "".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--seed" else 7
    rng = random.Random(seed)
    for n in range(count):
        sub = os.path.join(root, f"dir{n % 20:02d}")
        os.makedirs(sub, exist_ok=True)
        kind = n % 3
        if kind == 0:
            path, body = os.path.join(sub, f"doc{n:05d}.md"), markdown(rng, n)
        elif kind == 1:
            path, body = os.path.join(sub, f"doc{n:05d}.txt"), text(rng, n)
        else:
            path, body = os.path.join(sub, f"doc{n:05d}.html"), html(rng, n)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)


if __name__ == "__main__":
    main()
