"""Calibrate the "nothing relevant found" threshold on the top dense similarity.

For each answerable question of SQuAD 2.0 (en) and CMRC 2018 dev (zh), the best cosine between
the question and the paragraphs is measured twice: with the question's own article in the corpus
(relevant context exists) and with that article removed (nothing relevant exists). The threshold
that best separates the two (Youden's J) is printed per language, with the share of SQuAD 2.0's
unanswerable questions it would flag. One cut per language: this model scores Chinese pairs
higher than English ones, so a shared cut fails one of the two. Results: results/relevance.json.

    python benchmarks/calibrate_relevance.py [--questions 400]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

import anyio
import numpy as np
from rich.console import Console
from rich.table import Table

from kotaemon.embeddings.bundled import BundledE5Embedder

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
CACHE = Path(__file__).parent / ".cache"
RESULTS = Path(__file__).parent / "results" / "relevance.json"


def squad_like(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str, bool]]]:
    """Paragraphs as (article, text) and questions as (article, question, answerable)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            paragraphs.append((article["title"], paragraph["context"]))
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False) and bool(qa["answers"])
                questions.append((article["title"], qa["question"], answerable))
    return paragraphs, questions


async def embed_cached(embedder: BundledE5Embedder, texts: list[str], kind: str) -> np.ndarray:
    key = hashlib.sha256(("\x00".join([embedder.model, kind, *texts])).encode()).hexdigest()[:24]
    path = CACHE / f"relevance-{key}.npy"
    if path.exists():
        return np.load(path)
    if kind == "passage":
        vectors = await embedder.embed_documents(texts)
    else:
        vectors = np.vstack([await embedder.embed_query(t) for t in texts])
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def best_threshold(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float, float]:
    """The cut maximising TPR − FPR, with its TPR and FPR."""
    cuts = np.unique(np.concatenate([positive, negative]))
    tpr = np.array([(positive >= c).mean() for c in cuts])
    fpr = np.array([(negative >= c).mean() for c in cuts])
    i = int(np.argmax(tpr - fpr))
    return float(cuts[i]), float(tpr[i]), float(fpr[i])


async def measure(embedder, name: str, path: Path, n: int, rng: random.Random) -> dict:
    paragraphs, questions = squad_like(path)
    answerable = [q for q in questions if q[2]]
    unanswerable = [q for q in questions if not q[2]]
    sample = rng.sample(answerable, min(n, len(answerable)))
    p_vecs = await embed_cached(embedder, [t for _, t in paragraphs], "passage")
    q_vecs = await embed_cached(embedder, [q for _, q, _ in sample], "query")
    articles = np.array([a for a, _ in paragraphs])
    sims = q_vecs @ p_vecs.T
    own = np.array([articles == a for a, _, _ in sample])
    positive = sims.max(axis=1)
    negative = np.where(own, -1, sims).max(axis=1)
    result = {"set": name, "questions": len(sample), "positive": positive, "negative": negative}
    if unanswerable:
        u = rng.sample(unanswerable, min(n, len(unanswerable)))
        u_vecs = await embed_cached(embedder, [q for _, q, _ in u], "query")
        result["unanswerable"] = (u_vecs @ p_vecs.T).max(axis=1)
    return result


async def main(args: argparse.Namespace) -> None:
    embedder = BundledE5Embedder()
    rng = random.Random(13)
    sets = [
        await measure(
            embedder,
            "squad2-dev (en)",
            EVALDATA / "squad2-dev-subset" / "dev-v2.0.json",
            args.questions,
            rng,
        ),
        await measure(
            embedder,
            "cmrc2018-dev (zh)",
            EVALDATA / "cmrc2018" / "cmrc2018_dev.json",
            args.questions,
            rng,
        ),
    ]
    table = Table(
        "set",
        "questions",
        "threshold (best cut)",
        "kept with context (TPR)",
        "kept without context (FPR)",
        "SQuAD unanswerable flagged",
    )
    rows = []
    for s in sets:
        cut, tpr, fpr = best_threshold(s["positive"], s["negative"])
        flagged = float((s["unanswerable"] < cut).mean()) if "unanswerable" in s else None
        rows.append(
            {
                "set": s["set"],
                "questions": s["questions"],
                "threshold": cut,
                "tpr": tpr,
                "fpr": fpr,
                "unanswerable_flagged": flagged,
            }
        )
        table.add_row(
            s["set"],
            str(s["questions"]),
            f"{cut:.3f}",
            f"{tpr:.3f}",
            f"{fpr:.3f}",
            "–" if flagged is None else f"{flagged:.3f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"model": embedder.model, "sets": rows}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=400, help="answerable questions per set")
    anyio.run(main, parser.parse_args())
