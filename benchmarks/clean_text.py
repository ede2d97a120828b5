"""What the loaders keep and drop before chunking: for each document given, the blocks and
characters kept (by kind) and the characters dropped as site boilerplate, running page headers
and footers, table-of-contents and index pages. Prints a table; results go to
results/clean_text.json. A ``.gz`` file is read decompressed, under its inner name.

    python benchmarks/clean_text.py FILE... [--out results/clean_text.json]

The figures in the report came from manuals that Debian packages install (none is committed):

    apt-get install debian-policy debian-reference-en gnuplot-doc groff manpages
    zcat /usr/share/man/man1/bash.1.gz | groff -man -Tpdf > /tmp/bash.1.pdf   # and -Thtml, -Tutf8
    python benchmarks/clean_text.py \\
        /usr/share/doc/debian-policy/policy.pdf.gz \\
        /usr/share/doc/debian-policy/policy.txt.gz \\
        /usr/share/doc/debian-policy/policy.html/ch-files.html \\
        /usr/share/doc/debian-policy/fhs/fhs-3.0.pdf.gz \\
        /usr/share/debian-reference/ch03.en.html \\
        /usr/share/doc/gnuplot/gnuplot.pdf \\
        /tmp/bash.1.pdf /tmp/bash.1.html /tmp/bash.1.txt
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kotaemon.core.errors import IngestError
from kotaemon.embeddings.base import estimate_tokens
from kotaemon.ingest.loaders import LoadedFile, load_bytes
from kotaemon.ingest.splitter import Splitter

RESULTS = Path(__file__).parent / "results" / "clean_text.json"
REASONS = ("boilerplate", "header", "footer", "toc", "index")


def measure(path: Path) -> dict:
    data = path.read_bytes()
    name = path.name
    if name.endswith(".gz"):
        data, name = gzip.decompress(data), name.removesuffix(".gz")
    loaded = load_bytes(data, name, max_bytes=200 * 2**20)
    return summary(name, loaded)


def summary(name: str, loaded: LoadedFile) -> dict:
    kinds = Counter(b.kind for b in loaded.blocks)
    dropped_chars = Counter[str]()
    dropped_records = Counter[str]()
    for item in loaded.dropped:
        dropped_chars[item.reason] += len(item.text)
        dropped_records[item.reason] += 1
    kept = sum(len(b.text) for b in loaded.blocks)
    drafts = Splitter(estimate_tokens, chunk_size=320, chunk_overlap=32).split(loaded.blocks)
    return {
        "file": name,
        "media_type": loaded.media_type,
        "title": loaded.title,
        "blocks": len(loaded.blocks),
        "blocks_by_kind": dict(kinds),
        "kept_chars": kept,
        "dropped_chars": {r: dropped_chars[r] for r in REASONS},
        "dropped_records": {r: dropped_records[r] for r in REASONS},
        "dropped_share": round(
            sum(dropped_chars.values()) / max(1, kept + sum(dropped_chars.values())), 4
        ),
        "chunks": len(drafts),
        "chunks_with_heading": sum(1 for d in drafts if d.heading),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for path in args.files:
        try:
            rows.append(measure(path))
        except (IngestError, OSError) as exc:
            rows.append({"file": path.name, "error": str(exc)})
    table = Table(title="Text kept and dropped before chunking (characters; blocks in brackets)")
    for column in ("file", "kept", *REASONS, "dropped", "chunks (with heading)"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for row in rows:
        if "error" in row:
            table.add_row(row["file"], row["error"], *[""] * (len(REASONS) + 2))
            continue
        dropped = [
            f"{row['dropped_chars'][r]:,} ({row['dropped_records'][r]})"
            if row["dropped_chars"][r]
            else "–"
            for r in REASONS
        ]
        table.add_row(
            row["file"],
            f"{row['kept_chars']:,} ({row['blocks']})",
            *dropped,
            f"{row['dropped_share']:.1%}",
            f"{row['chunks']} ({row['chunks_with_heading']})",
        )
    Console().print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
