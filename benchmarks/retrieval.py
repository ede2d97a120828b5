"""Retrieval quality: nDCG@10 and recall@10 for dense, keyword and hybrid retrieval.

Runs the real pipeline (ingestion, Postgres + pgvector, the configured embedding model) over
BEIR-format sets in ../shared/evaldata and prints a table; results go to
benchmarks/results/retrieval.json. The embedded database lives in benchmarks/.cache, and
embeddings are cached there by model and content hash, so a rerun only pays for the queries.

    python benchmarks/retrieval.py                         # every set, reporting splits
    python benchmarks/retrieval.py --dataset scifact --split train --rrf-k 10

Tune on SciFact train; report SciFact test (the other sets have one split).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytrec_eval
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kotaemon.core.schema import Collection
from kotaemon.engine import Engine
from kotaemon.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
CACHE = Path(__file__).parent / ".cache"
RESULTS = Path(__file__).parent / "results" / "retrieval.json"
console = Console(stderr=True)


@dataclass(frozen=True)
class Dataset:
    name: str
    folder: Path
    split: str


DATASETS = {
    "scifact": lambda split: Dataset("scifact", EVALDATA / "beir-scifact", split),
    "xquad-en": lambda split: Dataset("xquad-en", EVALDATA / "xquad-retrieval" / "en", "test"),
    "xquad-zh": lambda split: Dataset("xquad-zh", EVALDATA / "xquad-retrieval" / "zh", "test"),
    "cmrc2018": lambda split: Dataset("cmrc2018", EVALDATA / "cmrc2018-retrieval", "test"),
}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, score = line.split("\t")
        qrels.setdefault(qid, {})[did] = int(score)
    return qrels


async def ingest_corpus(engine: Engine, dataset: Dataset, *, force: bool) -> Collection:
    """Each corpus document becomes a Markdown document titled by its title.

    Unchanged documents are skipped unless ``force``; re-chunked text hits the embedding cache.
    """
    collection = await engine.ensure_collection(f"bench-{dataset.name}")
    docs = read_jsonl(dataset.folder / "corpus.jsonl")
    pipeline = engine.ingest
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task(f"ingest {dataset.name}", total=len(docs))
        for doc in docs:
            title = doc.get("title") or ""
            body = f"# {title}\n\n{doc['text']}" if title else doc["text"]
            await pipeline.ingest_bytes(body.encode(), f"{doc['_id']}.md", collection, force=force)
            progress.advance(task)
    console.print(f"ingested {len(docs)} documents in {time.perf_counter() - started:.0f} s")
    return collection


async def run_queries(
    engine: Engine, collection: Collection, dataset: Dataset, mode: str, qrels: dict
) -> dict[str, dict[str, float]]:
    """Document rankings: chunks over-fetched, then each document ranked by its best chunk."""
    queries = {q["_id"]: q["text"] for q in read_jsonl(dataset.folder / "queries.jsonl")}
    retriever = engine.retriever
    run: dict[str, dict[str, float]] = {}
    for qid in qrels:
        result = await retriever.arun(
            queries[qid], collections=[collection.name], top_k=30, mode=mode
        )
        ranking: dict[str, float] = {}
        for rank, chunk in enumerate(result.chunks):
            doc_id = Path(chunk.source).stem
            ranking.setdefault(doc_id, float(len(result.chunks) - rank))
        run[qid] = dict(list(ranking.items())[:10])
    return run


def evaluate(qrels: dict, run: dict) -> dict[str, float]:
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10"})
    scores = evaluator.evaluate(run)
    n = len(scores)
    return {
        "ndcg@10": sum(s["ndcg_cut_10"] for s in scores.values()) / n,
        "recall@10": sum(s["recall_10"] for s in scores.values()) / n,
    }


async def main(args: argparse.Namespace) -> None:
    CACHE.mkdir(exist_ok=True)
    overrides = {"data_dir": CACHE, "rrf_k": args.rrf_k, "overfetch": args.overfetch}
    settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
    rows = []
    async with Engine(settings) as engine:
        for name in args.dataset:
            dataset = DATASETS[name](args.split)
            qrels = read_qrels(dataset.folder / "qrels" / f"{dataset.split}.tsv")
            if args.limit:
                qrels = dict(list(qrels.items())[: args.limit])
            collection = await ingest_corpus(engine, dataset, force=args.reingest)
            for mode in args.modes:
                started = time.perf_counter()
                run = await run_queries(engine, collection, dataset, mode, qrels)
                elapsed = time.perf_counter() - started
                metrics = evaluate(qrels, run)
                rows.append(
                    {
                        "dataset": name,
                        "split": dataset.split,
                        "mode": mode,
                        "queries": len(qrels),
                        **metrics,
                        "ms_per_query": 1000 * elapsed / len(qrels),
                        "embedding_model": engine.embedder.model,
                        "rrf_k": args.rrf_k,
                    }
                )
                console.print(rows[-1])
    table = Table("dataset", "split", "mode", "queries", "nDCG@10", "recall@10", "ms/query")
    for r in rows:
        table.add_row(
            r["dataset"],
            r["split"],
            r["mode"],
            str(r["queries"]),
            f"{r['ndcg@10']:.3f}",
            f"{r['recall@10']:.3f}",
            f"{r['ms_per_query']:.1f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2), encoding="utf-8")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--split", default="test", choices=["test", "train"], help="SciFact split")
    parser.add_argument("--modes", nargs="+", default=["dense", "keyword", "hybrid"])
    parser.add_argument("--rrf-k", type=int, default=Settings.model_fields["rrf_k"].default)
    parser.add_argument("--overfetch", type=int, default=Settings.model_fields["overfetch"].default)
    parser.add_argument("--reingest", action="store_true", help="re-chunk unchanged documents")
    parser.add_argument(
        "--limit", type=int, default=0, help="only the first N queries (smoke runs)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
