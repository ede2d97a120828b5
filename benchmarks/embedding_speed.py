"""Speed of the configured embedding model: one query at a time, concurrent queries (shared
batches), and passages of chunk size. Prints a table; results go to results/embedding_speed.json.

    python benchmarks/embedding_speed.py [--queries 200] [--passages 64]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import anyio
from rich.console import Console
from rich.table import Table

from kotaemon.engine import build_embedder
from kotaemon.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "evaldata" / "beir-scifact" / "corpus.jsonl"
QUERIES = ROOT.parent / "shared" / "evaldata" / "cmrc2018-retrieval" / "queries.jsonl"
RESULTS = Path(__file__).parent / "results" / "embedding_speed.json"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def timed(job) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    await job()
    return time.perf_counter() - wall, cpu_seconds() - cpu


async def main(args: argparse.Namespace) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    await embedder.open()
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line)["text"] for line in QUERIES.read_text().splitlines()][
        : args.queries
    ]
    abstracts = [json.loads(line)["text"] for line in lines[: args.passages]]
    passages = [
        p[: len(p) * settings.chunk_size // max(embedder.count_tokens(p), 1)] for p in abstracts
    ]
    await embedder.embed_query("warm up")

    async def sequential() -> None:
        for q in queries:
            await embedder.embed_query(q)

    async def concurrent() -> None:
        async with anyio.create_task_group() as tg:
            for q in queries:
                tg.start_soon(embedder.embed_query, q)

    async def documents() -> None:
        await embedder.embed_documents(passages)

    rows = []
    for name, job, count in (
        ("query, one at a time", sequential, len(queries)),
        ("query, all concurrent", concurrent, len(queries)),
        (f"passage, ~{settings.chunk_size} tokens", documents, len(passages)),
    ):
        wall, cpu = await timed(job)
        rows.append(
            {
                "case": name,
                "items": count,
                "per_second": count / wall,
                "wall_ms_each": 1000 * wall / count,
                "cpu_ms_each": 1000 * cpu / count,
            }
        )
    table = Table(
        "case (" + embedder.model + ")", "items", "items/s", "wall ms each", "CPU ms each"
    )
    for r in rows:
        table.add_row(
            r["case"],
            str(r["items"]),
            f"{r['per_second']:.1f}",
            f"{r['wall_ms_each']:.1f}",
            f"{r['cpu_ms_each']:.1f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"model": embedder.model, "rows": rows}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--passages", type=int, default=64)
    anyio.run(main, parser.parse_args())
