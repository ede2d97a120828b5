"""Calibrate "nothing relevant found" per language pair, and measure the answer-level evidence.

Relevance (passage level). For answerable questions of SQuAD 2.0 dev (en), XQuAD (parallel en
and zh) and CMRC 2018 dev (zh), the best cosine between the question and a corpus is measured
twice: with the question's own article in the corpus (relevant context exists) and with it
removed (nothing relevant exists). Questions are grouped by language pair as the pipeline groups
them (``kotaemon.core.language.language_pair``): ``en-en``, ``zh-zh``, ``zh-en`` (XQuAD's Chinese
question against the English paragraphs), ``en-zh`` (the reverse) and ``mixed`` (questions that
switch scripts, "AFC 锦标赛的最终比分是多少？"). Per pair: the AUC of the two, and the cut that
best separates them (Youden's J) with its TPR and FPR.

Evidence (answer level). For SQuAD 2.0's answerable and unanswerable questions, the sentences of
the six best paragraphs (dense search) are scored by the pipeline's ``EvidenceScorer``; the AUC of
the best score, answerable against unanswerable, beside the AUC of the best cosine alone. The
same score on answerable questions of each pair gives the share a refusal cut would refuse.

The measuring functions (``separation``, ``auc``, ``best_threshold``) take plain score lists, so
batch testing (``kotaemon eval``) can report the same figures from its own runs.

    python benchmarks/calibrate_relevance.py [--questions 300] [--evidence-questions 200]

Results: results/relevance.json (the figures) and a Markdown table on stdout with --markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import numpy as np
from rich.console import Console
from rich.table import Table

from kotaemon.core.language import LANGUAGE_PAIRS, detect_language, is_mixed
from kotaemon.core.schema import RetrievedChunk
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.llms.evidence import EvidenceScorer

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
CACHE = Path(__file__).parent / ".cache"
RESULTS = Path(__file__).parent / "results" / "relevance.json"
SQUAD = EVALDATA / "squad2-dev-subset" / "dev-v2.0.json"
XQUAD_EN = EVALDATA / "xquad" / "xquad.en.json"
XQUAD_ZH = EVALDATA / "xquad" / "xquad.zh.json"
CMRC_DEV = EVALDATA / "cmrc2018" / "cmrc2018_dev.json"  # the trial set is held out
#: Share of answerable questions the stored threshold must keep: where Youden's cut keeps fewer,
#: the stored one is lowered to keep this many (refusing an answerable question costs more than
#: quoting weak passages, which the weak-evidence notice flags).
MIN_TPR = 0.9


@dataclass(frozen=True)
class Question:
    article: str
    text: str
    answerable: bool
    source: str


@dataclass
class Corpus:
    language: str
    articles: np.ndarray  # article of each paragraph
    texts: list[str]
    vectors: np.ndarray


def squad_like(path: Path, source: str) -> tuple[list[tuple[str, str]], list[Question]]:
    """Paragraphs as (article, text) and the questions of a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            paragraphs.append((article["title"], paragraph["context"]))
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False) and bool(qa["answers"])
                questions.append(Question(article["title"], qa["question"], answerable, source))
    return paragraphs, questions


async def embed_cached(embedder: Embedder, texts: list[str], kind: str) -> np.ndarray:
    """Vectors of ``texts``, cached on disk by model, kind and content."""
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


async def corpus(embedder: Embedder, language: str, parts: Sequence[list[tuple[str, str]]]):
    seen: dict[str, str] = {}
    for paragraphs in parts:
        for article, text in paragraphs:
            seen.setdefault(text, article)  # SQuAD 2.0 and XQuAD share paragraphs
    texts = list(seen)
    vectors = await embed_cached(embedder, texts, "passage")
    return Corpus(language, np.array([seen[t] for t in texts]), texts, vectors)


def pair_of(question: str, corpus_language: str) -> str:
    """The pipeline's pair for a question over passages of ``corpus_language``."""
    return "mixed" if is_mixed(question) else f"{detect_language(question)}-{corpus_language}"


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    pos, neg = np.asarray(positive), np.asarray(negative)
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + ties / 2)


def best_threshold(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float, float]:
    """The cut maximising TPR − FPR (Youden's J), with its TPR and FPR."""
    cuts = np.unique(np.concatenate([positive, negative]))
    tpr = np.array([(positive >= c).mean() for c in cuts])
    fpr = np.array([(negative >= c).mean() for c in cuts])
    i = int(np.argmax(tpr - fpr))
    return float(cuts[i]), float(tpr[i]), float(fpr[i])


def separation(positive: Sequence[float], negative: Sequence[float]) -> dict[str, float]:
    """AUC and the Youden cut of two score lists (what a calibration report shows per pair)."""
    pos, neg = np.asarray(positive), np.asarray(negative)
    cut, tpr, fpr = best_threshold(pos, neg)
    floor = float(np.quantile(pos, 1 - MIN_TPR))  # the cut that keeps MIN_TPR of the answerable
    chosen = min(cut, floor)
    return {
        "auc": auc(pos, neg), "threshold": cut, "tpr": tpr, "fpr": fpr, "n": len(pos),
        "chosen": chosen, "chosen_tpr": float((pos >= chosen).mean()),
        "chosen_fpr": float((neg >= chosen).mean()),
    }  # fmt: skip


async def relevance_samples(
    embedder: Embedder, questions: list[Question], target: Corpus
) -> list[tuple[str, float, float]]:
    """(pair, best cosine with the own article, best cosine without it) per question."""
    vectors = await embed_cached(embedder, [q.text for q in questions], "query")
    sims = vectors @ target.vectors.T
    own = np.array([target.articles == q.article for q in questions])
    positive = sims.max(axis=1)
    negative = np.where(own, -1, sims).max(axis=1)
    return [
        (pair_of(q.text, target.language), float(p), float(n))
        for q, p, n in zip(questions, positive, negative, strict=True)
    ]


class MemoEmbedder(Embedder):
    """The bundled model with every passage vector kept (sentences repeat across questions)."""

    def __init__(self, inner: BundledE5Embedder) -> None:
        self.inner = inner
        self.model = inner.model
        self.max_tokens = inner.max_tokens
        self.similarity_range = inner.similarity_range
        self.memo: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            vectors = await self.inner.embed_documents(missing)
            self.memo.update(zip(missing, vectors, strict=True))
        return np.vstack([self.memo[t] for t in texts])

    async def embed_query(self, text: str) -> np.ndarray:
        return await self.inner.embed_query(text)


async def evidence_scores(
    memo: MemoEmbedder, questions: list[Question], target: Corpus, *, own: bool = True
) -> list[tuple[str, float, float]]:
    """(pair, best cosine, best sentence score) per question, over the six best paragraphs
    (with or without the question's own article)."""
    scorer = EvidenceScorer(memo)
    vectors = await embed_cached(memo.inner, [q.text for q in questions], "query")
    out = []
    for question, vector in zip(questions, vectors, strict=True):
        sims = target.vectors @ vector
        if not own:
            sims = np.where(target.articles == question.article, -1, sims)
        top = np.argsort(-sims)[:6]
        chunks = [_chunk(target.texts[i], float(sims[i]), n) for n, i in enumerate(top)]
        evidence = await scorer.score(question.text, chunks)
        best = evidence.best if evidence.best is not None else 0.0
        out.append((pair_of(question.text, target.language), float(sims[top[0]]), best))
    return out


def _chunk(text: str, score: float, n: int) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"c{n}", document_id="d", document_title="t", collection="c", source="s",
        text=text,
        score=score, dense_score=score,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    embedder = BundledE5Embedder()
    rng = random.Random(13)
    squad_p, squad_q = squad_like(SQUAD, "squad2-dev")
    xen_p, xen_q = squad_like(XQUAD_EN, "xquad-en")
    xzh_p, xzh_q = squad_like(XQUAD_ZH, "xquad-zh")
    cmrc_p, cmrc_q = squad_like(CMRC_DEV, "cmrc2018-dev")
    english = await corpus(embedder, "en", [squad_p, xen_p])
    chinese = await corpus(embedder, "zh", [xzh_p, cmrc_p])

    def sample(questions: list[Question], n: int) -> list[Question]:
        """``n`` answerable questions, and every mixed one (they are few)."""
        answerable = [q for q in questions if q.answerable and not is_mixed(q.text)]
        mixed = [q for q in questions if q.answerable and is_mixed(q.text)]
        return rng.sample(answerable, min(n, len(answerable))) + mixed

    n = args.questions
    runs = [
        (sample(squad_q, n), english),
        (sample(xen_q, n), english),
        (sample(xzh_q, n), english),  # zh-en (and mixed)
        (sample(xen_q, n), chinese),  # en-zh
        (sample(xzh_q, n), chinese),
        (sample(cmrc_q, n), chinese),
    ]
    by_pair: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for questions, target in runs:
        for pair, positive, negative in await relevance_samples(embedder, questions, target):
            by_pair[pair].append((positive, negative))
    relevance = {
        pair: separation([p for p, _ in by_pair[pair]], [q for _, q in by_pair[pair]])
        for pair in LANGUAGE_PAIRS
        if by_pair[pair]
    }
    report: dict = {"model": embedder.model, "relevance": relevance}
    print_relevance(report)  # before the slower evidence part
    if args.evidence_questions:
        report["evidence"] = await evidence_report(
            embedder, rng, args, squad_q, english, chinese, xzh_q, cmrc_q
        )
        Console().print_json(json.dumps(report["evidence"]))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))


async def evidence_report(
    embedder: BundledE5Embedder,
    rng: random.Random,
    args: argparse.Namespace,
    squad_q: list[Question],
    english: Corpus,
    chinese: Corpus,
    xzh_q: list[Question],
    cmrc_q: list[Question],
) -> dict:
    memo = MemoEmbedder(embedder)
    m = args.evidence_questions
    answerable = rng.sample([q for q in squad_q if q.answerable], m)
    unanswerable = rng.sample([q for q in squad_q if not q.answerable], m)
    yes = await evidence_scores(memo, answerable, english)
    no = await evidence_scores(memo, unanswerable, english)
    zh_en = await evidence_scores(memo, rng.sample(xzh_q, m), english)
    zh_zh = await evidence_scores(memo, rng.sample(cmrc_q, m), chinese)
    removed = await evidence_scores(memo, answerable, english, own=False)
    cuts = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]

    def refused(rows: list[tuple[str, float, float]], cut: float) -> float:
        return float(np.mean([e < cut for _, _, e in rows]))

    return {
        "squad2_answerable_vs_unanswerable": {
            "n": [len(yes), len(no)],
            "auc_evidence": auc([e for *_, e in yes], [e for *_, e in no]),
            "auc_best_cosine": auc([c for _, c, _ in yes], [c for _, c, _ in no]),
        },
        "squad2_own_article_vs_removed": {
            "auc_evidence": auc([e for *_, e in yes], [e for *_, e in removed]),
            "auc_best_cosine": auc([c for _, c, _ in yes], [c for _, c, _ in removed]),
        },
        "refused_at": {
            f"{cut:.2f}": {
                "squad2 answerable (en-en)": refused(yes, cut),
                "squad2 unanswerable (en-en)": refused(no, cut),
                "squad2 own article removed": refused(removed, cut),
                "xquad zh question, en paragraphs": refused(zh_en, cut),
                "cmrc2018 dev (zh-zh)": refused(zh_zh, cut),
            }
            for cut in cuts
        },
        "median_best_evidence": {
            "squad2 answerable": float(np.median([e for *_, e in yes])),
            "squad2 unanswerable": float(np.median([e for *_, e in no])),
            "xquad zh-en": float(np.median([e for *_, e in zh_en])),
            "cmrc2018 dev": float(np.median([e for *_, e in zh_zh])),
        },
    }


def print_relevance(report: dict) -> None:
    table = Table(
        "pair", "questions", "AUC", "Youden cut", "TPR", "FPR", "stored", "TPR", "FPR"
    )  # fmt: skip
    for pair, s in report["relevance"].items():
        table.add_row(
            pair, str(s["n"]), f"{s['auc']:.3f}", f"{s['threshold']:.3f}",
            f"{s['tpr']:.3f}", f"{s['fpr']:.3f}", f"{s['chosen']:.3f}",
            f"{s['chosen_tpr']:.3f}", f"{s['chosen_fpr']:.3f}",
        )  # fmt: skip
    Console().print(table)


def markdown(report: dict) -> str:
    lines = [
        "| pair | questions | AUC | Youden cut | TPR | FPR | stored | TPR | FPR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pair, s in report["relevance"].items():
        lines.append(
            f"| {pair} | {s['n']} | {s['auc']:.3f} | {s['threshold']:.3f} | "
            f"{s['tpr']:.3f} | {s['fpr']:.3f} | **{s['chosen']:.3f}** | "
            f"{s['chosen_tpr']:.3f} | {s['chosen_fpr']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=300, help="answerable questions per run")
    parser.add_argument(
        "--evidence-questions",
        type=int,
        default=150,
        help="questions per evidence set (0: none)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    anyio.run(main, parser.parse_args())
