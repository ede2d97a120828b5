"""Retrieval in a knowledge base of two languages: each language ranked apart, or one ranking.

XQuAD's paragraphs exist in English and in Chinese (professional translations, same order).
This builds one collection in which every paragraph appears once, in one language: the articles
alternate, Chinese for the even ones and English for the odd ones. Every question is then asked
in both languages, so half of the questions of each language must be answered from a paragraph
in the other one. Each is searched twice through the product's retriever (hybrid, top 6): with
``split_languages`` (the default: dense search ranks each language apart) and without it (one
dense ranking over both). Reported per language pair: hit@1 and hit@6 of the paragraph the
question was written for, and the ratio; and the dense stage's median milliseconds each way
(the retrievers have no result cache, so every search runs).

    python benchmarks/mixed_languages.py [--questions 400]

The embedded database lives in benchmarks/.cache/mixed_languages (embeddings are cached by
content hash); results go to benchmarks/results/mixed_languages.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.table import Table

from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.retrieval.retriever import VectorDBRetriever
from kotaemon.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
XQUAD = ROOT.parent / "shared" / "evaldata" / "xquad"
DATA_DIR = Path(__file__).parent / ".cache" / "mixed_languages"
RESULTS = Path(__file__).parent / "results" / "mixed_languages.json"
COLLECTION = "xquad-mixed"
TOP_K = 6
console = Console(stderr=True)


def paragraphs(language: str) -> list[tuple[int, str, list[tuple[str, str]]]]:
    """(article index, context, [(question id, question)]) in file order."""
    data = json.loads((XQUAD / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]
    return [
        (a, p["context"], [(q["id"], q["question"]) for q in p["qas"]])
        for a, article in enumerate(data)
        for p in article["paragraphs"]
    ]


def corpus() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    """The documents (name, language, text) and the questions (id, language, text, document
    name): paragraph i is in Chinese when its article is even, else in English."""
    en, zh = paragraphs("en"), paragraphs("zh")
    documents, questions = [], []
    for i, ((article, en_text, en_qs), (_, zh_text, zh_qs)) in enumerate(zip(en, zh, strict=True)):
        name = f"p{i:03d}.txt"
        language, text = ("zh", zh_text) if article % 2 == 0 else ("en", en_text)
        documents.append((name, language, text))
        questions += [(qid, "en", q, name) for qid, q in en_qs]
        questions += [(qid, "zh", q, name) for qid, q in zh_qs]
    return documents, questions


def settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, llm_base_url=None, agent_config=None)  # type: ignore[call-arg]


async def main(args: argparse.Namespace) -> None:
    documents, questions = corpus()
    language_of = {name: language for name, language, _ in documents}
    random.Random(13).shuffle(questions)
    questions = questions[: args.questions]
    async with Engine(settings(args.data_dir.resolve()), with_agent=False) as engine:
        collection = await engine.ensure_collection(COLLECTION)
        for name, _, text in documents:  # unchanged files are skipped by their content hash
            await engine.ingest.ingest_bytes(text.encode(), name, collection)
        base = engine.retriever
        retrievers = {
            split: VectorDBRetriever(
                base.catalog,
                base.index,
                base.embedder,
                principal=Principal.local(),
                config=base.config.with_changes(split_languages=split, top_k=TOP_K),
            )
            for split in (True, False)
        }
        hits: dict[tuple[str, bool], list[tuple[bool, bool]]] = defaultdict(list)
        dense_ms: dict[bool, list[float]] = defaultdict(list)
        for _, asked, text, expected in questions:
            pair = f"{asked}→{language_of[expected]}"
            for split, retriever in retrievers.items():  # side by side, question by question
                found = await retriever.arun(text, collections=[COLLECTION])
                names = [Path(c.source).name for c in found.chunks]
                hits[(pair, split)].append((names[:1] == [expected], expected in names))
                dense_ms[split].append(found.timings["dense"])
    rows = summarise(hits)
    print_table(rows, len(questions))
    cost = {
        "dense stage ms, median, one ranking": statistics.median(dense_ms[False]),
        "dense stage ms, median, split": statistics.median(dense_ms[True]),
    }
    cost["ratio"] = (
        cost["dense stage ms, median, split"] / cost["dense stage ms, median, one ranking"]
    )
    console.print(", ".join(f"{k}: {v:.2f}" for k, v in cost.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"questions": len(questions), "documents": len(documents), "top_k": TOP_K}
    report |= {"rows": rows, "cost": cost}
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"report: {RESULTS}")


def summarise(hits: dict[tuple[str, bool], list[tuple[bool, bool]]]) -> list[dict[str, Any]]:
    """Hit rates per language pair, then over all questions, for each way of ranking."""
    pairs = sorted({pair for pair, _ in hits})
    rows = []
    for group in [*pairs, "all"]:

        def rate(split: bool, at: int, group: str = group) -> float:
            found = [
                h for (p, s), hs in hits.items() if s == split and group in (p, "all") for h in hs
            ]
            return sum(h[at] for h in found) / max(len(found), 1)

        rows.append(
            {
                "pair": group,
                "questions": sum(
                    len(hs) for (p, s), hs in hits.items() if s and group in (p, "all")
                ),
                "hit@1 one ranking": rate(False, 0),
                "hit@1 split": rate(True, 0),
                f"hit@{TOP_K} one ranking": rate(False, 1),
                f"hit@{TOP_K} split": rate(True, 1),
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]], total: int) -> None:
    table = Table(title=f"XQuAD, half the paragraphs in each language ({total} questions)")
    for column in rows[0]:
        table.add_column(column)
    table.add_column(f"hit@{TOP_K} ratio")
    for row in rows:
        values = list(row.values())
        one, split = row[f"hit@{TOP_K} one ranking"], row[f"hit@{TOP_K} split"]
        ratio = f"{split / one:.2f}" if one else "–"
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in values], ratio)
    Console().print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=2380, help="a sample of the 2,380")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
