"""Which sentences the extractive answer quotes, when the right passage is among the sources.

No database: for a sample of CMRC 2018 dev (Chinese) and SQuAD 2.0 dev (English) questions, the
gold paragraph and three distractors (SQuAD: paragraphs of the same article; CMRC, one paragraph
per article: other articles') are given to the evidence scorer as retrieved chunks, chosen and
ordered as retrieval would (fused ranks of word overlap and of the bundled model's cosine, which
is also each chunk's ``dense_score``): the gold paragraph is not always first. The extractive
answerer then chooses what to quote. Per scorer variant (``VARIANTS``), side by side:

* ``answer``: the quoted text contains a gold answer (NFKC, casefold, whitespace removed);
* ``top``: the best sentence alone contains it; ``src``: the best sentence is the gold chunk's;
* ``auc`` (SQuAD 2.0 only): how well the best sentence's score (``evidence_score``) separates
  the answerable questions from the unanswerable ones over the same paragraphs, ``best`` its
  mean on answerable ones, ``<.30`` / ``<.45`` the share of answerable ones under the refusal
  and weak-evidence cuts, ``un<.45`` that of the unanswerable ones under the weak cut;
* with ``--cost``, ``emb/q`` texts embedded per answer and ``ms/q`` the time of a cold answer.

Tune only on the dev sets; the CMRC trial set is held out (``--sets cmrc-trial``). Vectors are
kept on disk (benchmarks/.cache/) between runs; the report goes to
benchmarks/results/sentence_choice.json.

    python benchmarks/sentence_choice.py                   # CMRC dev + SQuAD dev, 300 each
    python benchmarks/sentence_choice.py --sets cmrc-trial --cost
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from kotaemon.core.schema import RetrievedChunk
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.llms.evidence import EvidenceScorer
from kotaemon.llms.extractive import ExtractiveAnswerer

ROOT = Path(__file__).resolve().parent
EVALDATA = ROOT.parent.parent / "shared" / "evaldata"
SETS = {
    "cmrc-dev": EVALDATA / "cmrc2018" / "cmrc2018_dev.json",
    "squad-dev": EVALDATA / "squad2-dev-subset" / "dev-v2.0.json",
    "cmrc-trial": EVALDATA / "cmrc2018" / "cmrc2018_trial.json",
}
#: Scorer settings compared: "baseline" embeds each sentence alone, as the scorer did before
#: this harness; "headed" (the default) embeds it under its chunk's heading or document title.
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {"headed": False},
    "headed": {"headed": True},
    "headed+rank0.05": {"rank_penalty": 0.05},
}
_LATIN_WORD = re.compile(r"[a-z0-9]+")


def normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def grams(text: str) -> set[str]:
    """Latin words and Chinese character bigrams: the overlap ranking's terms."""
    text = unicodedata.normalize("NFKC", text).casefold()
    words = set(_LATIN_WORD.findall(text))
    han = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return words | {han[i : i + 2] for i in range(len(han) - 1)}


@dataclass
class Case:
    question: str
    answers: list[str]
    chunks: list[RetrievedChunk]
    gold: int  # the gold chunk's marker (1-based)
    answerable: bool = True


async def load_cases(
    name: str, sample: int, distractors: int, seed: int, embedder: Embedder
) -> list[Case]:
    """About ``sample`` answerable questions (and as many unanswerable ones, if the set has
    them) of randomly drawn paragraphs, with distractors from the same drawn paragraphs (few
    distinct sentences to embed: the harness runs in minutes)."""
    data = json.loads(SETS[name].read_text(encoding="utf-8"))["data"]
    everything = [(a["title"], p) for a in data for p in a["paragraphs"]]
    rng = random.Random(seed)
    rng.shuffle(everything)
    paragraphs: list[tuple[str, dict[str, Any]]] = []
    answerable = 0
    for title, p in everything:
        if answerable >= sample:
            break
        paragraphs.append((title, p))
        answerable += sum(not qa.get("is_impossible") for qa in p["qas"])
    pool_grams = [grams(p["context"]) for _, p in paragraphs]
    vectors = await embedder.embed_documents([p["context"] for _, p in paragraphs])
    df = Counter(g for gs in pool_grams for g in gs)
    chosen = [
        (i, qa)
        for i, (_, p) in enumerate(paragraphs)
        for qa in p["qas"]
        if qa.get("answers") or qa.get("is_impossible")
    ]
    impossible = [q for q in chosen if q[1].get("is_impossible")]
    chosen = [q for q in chosen if not q[1].get("is_impossible")][:sample]
    chosen += impossible[:sample]
    cases = []
    queries = [await embedder.embed_query(qa["question"]) for _, qa in chosen]
    for (index, qa), query in zip(chosen, queries, strict=True):
        title = paragraphs[index][0]
        same_article = [j for j, (t, _) in enumerate(paragraphs) if t == title and j != index]
        pool = same_article if len(same_article) >= distractors else range(len(paragraphs))
        q = grams(qa["question"])

        def overlap(j: int, q: set[str] = q) -> float:
            return sum(math.log(1 + len(paragraphs) / df[g]) for g in q & pool_grams[j])

        # The distractors: the nearest by meaning and by words (fused ranks, as retrieval
        # does), ordered by the same fused rank: the gold paragraph is not always first.
        dense = {j: float(vectors[j] @ query) for j in pool}
        dense[index] = float(vectors[index] @ query)
        candidates = [index, *(j for j in pool if j != index)]
        by_words = sorted(candidates, key=lambda j: -overlap(j))
        by_meaning = sorted(candidates, key=lambda j: -dense[j])
        fused = {
            j: 1 / (60 + by_words.index(j)) + 1 / (60 + by_meaning.index(j)) for j in candidates
        }
        others = sorted((j for j in candidates if j != index), key=lambda j: -fused[j])
        picked = sorted([index, *others[:distractors]], key=lambda j: -fused[j])
        chunks = [
            RetrievedChunk(
                chunk_id=f"p{j}",
                document_id=f"d{j}",
                collection="eval",
                document_title=paragraphs[j][0],
                source=f"{paragraphs[j][0]}.txt",
                text=paragraphs[j][1]["context"],
                score=fused[j],
                dense_score=dense[j],
            )
            for rank, j in enumerate(picked, start=1)
        ]
        cases.append(
            Case(
                qa["question"],
                [a["text"] for a in qa.get("answers", [])],
                chunks,
                picked.index(index) + 1,
                not qa.get("is_impossible", False),
            )
        )
    return cases


class CountingEmbedder(BundledE5Embedder):
    """The bundled model, counting the documents it is asked to embed; with ``cache``, the
    vectors are also kept on disk between runs (tuning reruns embed only new texts)."""

    def __init__(self, cache: Path | None = None) -> None:
        super().__init__()
        self.documents = 0
        self.cache = cache
        self.saved: dict[str, np.ndarray] = {}
        if cache is not None and cache.exists():
            with np.load(cache) as data:
                self.saved = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents += len(texts)
        if self.cache is None:  # timing a cold answer: nothing kept
            return await super().embed_documents(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.saved]
        if missing:
            self.saved.update(zip(missing, await super().embed_documents(missing), strict=True))
        return np.vstack([self.saved[t] for t in texts])

    def save(self) -> None:
        if self.cache is not None:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            texts = list(self.saved)
            np.savez(
                self.cache, texts=np.array(texts), vectors=np.vstack(list(self.saved.values()))
            )


@dataclass
class Tally:
    answer: int = 0
    top: int = 0
    src: int = 0
    n: int = 0
    chars: int = 0
    scores: list[tuple[float, bool]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


def auc(scores: list[tuple[float, bool]]) -> float | None:
    pos = [s for s, a in scores if a]
    neg = [s for s, a in scores if not a]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


async def run_set(
    cases: list[Case], variants: dict[str, dict[str, Any]], embedder: CountingEmbedder
) -> dict[str, Tally]:
    shared: OrderedDict[str, np.ndarray] = OrderedDict()
    tallies = {}
    for name, settings in variants.items():
        scorer = EvidenceScorer(embedder, cached_sentences=10**7, **settings)
        scorer._vectors = shared  # the same sentences' vectors across variants
        answerer = ExtractiveAnswerer(embedder, scorer=scorer)
        tally = Tally()
        for case in cases:
            evidence = await scorer.score(case.question, case.chunks)
            tally.scores.append((evidence.best or 0.0, case.answerable))
            if not case.answerable:
                continue
            chosen = answerer.choose(evidence)
            quoted = normal(" ".join(s.text for s in chosen))
            golds = [normal(a) for a in case.answers]
            top = normal(chosen[0].text) if chosen else ""
            tally.n += 1
            tally.chars += sum(len(s.text) for s in chosen)
            tally.answer += any(g in quoted for g in golds)
            tally.top += any(g in top for g in golds)
            tally.src += bool(chosen) and chosen[0].marker == case.gold
            if not any(g in quoted for g in golds) and len(tally.failures) < 40:
                tally.failures.append(
                    {
                        "question": case.question,
                        "answers": case.answers[:1],
                        "gold": case.gold,
                        "quoted": [f"[{s.marker}:{s.position} {s.score}] {s.text}" for s in chosen],
                    }
                )
        tallies[name] = tally
    return tallies


async def cost(
    cases: list[Case], variants: dict[str, dict[str, Any]], embedder: CountingEmbedder
) -> dict[str, tuple[float, float]]:
    """Per variant: texts embedded per answer and ms per answer, with a cold cache."""
    out = {}
    answerable = [c for c in cases if c.answerable][:10]
    for name, settings in variants.items():
        scorer = EvidenceScorer(embedder, cached_sentences=10**7, **settings)
        before, start = embedder.documents, time.perf_counter()
        for case in answerable:
            scorer._vectors.clear()
            await scorer.score(case.question, case.chunks)
        elapsed = time.perf_counter() - start
        out[name] = (
            (embedder.documents - before) / len(answerable),
            1000 * elapsed / len(answerable),
        )
    return out


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["cmrc-dev", "squad-dev"], choices=SETS)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cost", action="store_true", help="time each variant, cold")
    parser.add_argument("--cold", action="store_true", help="no vectors kept between runs")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "sentence_choice.json")
    args = parser.parse_args(argv)
    variants = {v: VARIANTS[v] for v in args.variants}
    cache = None if args.cold else ROOT / ".cache" / "sentence_choice_vectors.npz"
    embedder = CountingEmbedder(cache)
    await embedder.open()
    report: dict[str, Any] = {"command": " ".join(sys.argv), "variants": variants, "sets": {}}
    for set_name in args.sets:
        cases = await load_cases(set_name, args.sample, args.distractors, args.seed, embedder)
        ranks = Counter(c.gold for c in cases if c.answerable)
        tallies = await run_set(cases, variants, embedder)
        embedder.save()
        costs = await cost(cases, variants, CountingEmbedder()) if args.cost else {}
        print(f"\n{set_name}: {tallies[args.variants[0]].n} answerable, gold rank {dict(ranks)}")
        print(
            f"{'variant':<16}{'answer':>8}{'top':>8}{'src':>8}{'chars':>7}{'auc':>7}"
            f"{'best':>7}{'<.30':>6}{'<.45':>6}{'un<.45':>7}{'emb/q':>7}{'ms/q':>7}"
        )
        rows = {}
        for name, t in tallies.items():
            a = auc(t.scores)
            best = np.mean([s for s, ok in t.scores if ok])
            emb, ms = costs.get(name, (float("nan"), float("nan")))
            rows[name] = {
                "answer": t.answer / t.n,
                "top": t.top / t.n,
                "source": t.src / t.n,
                "chars": t.chars / t.n,
                "auc": a,
                "mean_best_answerable": float(best),
                "mean_best_unanswerable": float(
                    np.mean([s for s, ok in t.scores if not ok]) if a is not None else "nan"
                ),
                "embedded_per_answer": emb,
                "ms_per_answer": ms,
                "failures": t.failures,
            }
            yes = [sc for sc, ok in t.scores if ok]
            no = [sc for sc, ok in t.scores if not ok]
            under = {cut: float(np.mean([sc < cut for sc in yes])) for cut in (0.30, 0.45)}
            no_under = float(np.mean([sc < 0.45 for sc in no])) if no else float("nan")
            rows[name].update(
                answerable_under_030=under[0.30],
                answerable_under_045=under[0.45],
                unanswerable_under_045=no_under,
            )
            auc_text = f"{a:.3f}" if a is not None else "-"
            print(
                f"{name:<16}{t.answer / t.n:>8.3f}{t.top / t.n:>8.3f}{t.src / t.n:>8.3f}"
                f"{t.chars / t.n:>7.0f}{auc_text:>7}{best:>7.3f}{under[0.30]:>6.3f}"
                f"{under[0.45]:>6.3f}{no_under:>7.3f}{emb:>7.1f}{ms:>7.0f}"
            )
        report["sets"][set_name] = {"answerable": tallies[args.variants[0]].n, "variants": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
