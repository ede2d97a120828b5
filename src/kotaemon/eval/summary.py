"""A run's aggregates: coverage, ranking and answer quality (overall and by tag), the two kinds
of "not covered", how well the coverage signals separate them, and the uncovered topics.

"Not covered" is told apart as the knowledge base sees it:

* ``missing_topic``: no retrieved passage reached the relevance threshold (add documents);
* ``missing_answer``: relevant passages were found but the answer is a refusal or its
  answer-level evidence is below the run's ``min_evidence`` (the documents miss the fact).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from kotaemon.core.language import detect_language
from kotaemon.embeddings.base import Embedder
from kotaemon.eval import metrics
from kotaemon.eval.clusters import SIMILARITY, QuestionCluster, cluster_questions
from kotaemon.eval.results import QuestionResult

#: The hit@k reported.
HIT_KS = (1, 5, 10)


def uncovered_kind(result: QuestionResult) -> str | None:
    """``missing_topic``, ``missing_answer``, ``error`` or None (covered)."""
    if result.covered:
        return None
    if result.outcome == "error":
        return "error"
    return "missing_answer" if result.has_relevant_context else "missing_topic"


def aggregate(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Coverage, hit@k, MRR, nDCG@10 and answer scores of ``results`` (None: not measured,
    e.g. hit@k when no question names an expected source)."""
    ranked = [r for r in results if r.expected_sources]
    answered = [r for r in results if r.expected_answers]
    judged = [r for r in answered if r.judge_correct is not None]
    values: dict[str, Any] = {
        "questions": len(results),
        "coverage": metrics.mean(float(r.covered) for r in results),
        "mrr": metrics.mean(metrics.reciprocal_rank(r.expected_rank) for r in ranked),
        "ndcg_at_10": metrics.mean(r.ndcg_at_10 or 0.0 for r in ranked),
        "exact_match": metrics.mean(r.exact_match or 0.0 for r in answered),
        "f1": metrics.mean(r.f1 or 0.0 for r in answered),
        "contains": metrics.mean(r.contains or 0.0 for r in answered),
        "judge_accuracy": metrics.mean(float(bool(r.judge_correct)) for r in judged),
    }
    for k in HIT_KS:
        values[f"hit_at_{k}"] = metrics.mean(metrics.hit_at(r.expected_rank, k) for r in ranked)
    return values


def by_tag(results: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    tags = sorted({t for r in results for t in r.tags})
    return {tag: aggregate([r for r in results if tag in r.tags]) for tag in tags}


def separation(
    positives: Sequence[QuestionResult], negatives: Sequence[QuestionResult]
) -> dict[str, Any]:
    """ROC AUC of each coverage signal between two groups (None: signal not measured)."""

    def auc(signal: Callable[[QuestionResult], float | None]) -> float | None:
        pos = [s for r in positives if (s := signal(r)) is not None]
        neg = [s for r in negatives if (s := signal(r)) is not None]
        return metrics.roc_auc(pos, neg)

    return {
        "positives": len(positives),
        "negatives": len(negatives),
        "top_dense_score_auc": auc(lambda r: r.top_dense_score),
        "evidence_score_auc": auc(lambda r: r.evidence_score),
    }


def answerable_separation(results: Sequence[QuestionResult]) -> dict[str, Any] | None:
    """Answerable vs unanswerable questions (SQuAD 2.0), if the set has both."""
    answerable = [r for r in results if r.answerable is True and r.outcome != "error"]
    unanswerable = [r for r in results if r.answerable is False and r.outcome != "error"]
    if not answerable or not unanswerable:
        return None
    return separation(answerable, unanswerable)


def by_language_pair(results: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    """Per language pair (question, passages): how many questions, their coverage, the
    threshold that applied, the median best cosine and -- when the set has both kinds -- how
    well each signal separates answerable from unanswerable questions. A threshold calibrated
    for one pair says little about another: this is where a miscalibrated one shows."""
    pairs = sorted({r.language_pair for r in results if r.language_pair is not None})
    table: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        these = [r for r in results if r.language_pair == pair]
        scores = [r.top_dense_score for r in these if r.top_dense_score is not None]
        table[pair] = {
            "questions": len(these),
            "coverage": metrics.mean(float(r.covered) for r in these),
            "thresholds": sorted({r.threshold for r in these if r.threshold is not None}),
            "median_top_dense_score": metrics.percentile(scores, 0.5),
            "answerable_separation": answerable_separation(these),
        }
    return table


def latency(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    values = [r.latency_ms for r in results]
    return {
        "mean_ms": metrics.mean(values),
        "p50_ms": metrics.percentile(values, 0.5),
        "p95_ms": metrics.percentile(values, 0.95),
    }


async def uncovered_topics(
    results: Sequence[QuestionResult], embedder: Embedder
) -> list[dict[str, Any]]:
    """The uncovered questions (errors aside) grouped by topic, each language apart, largest
    group first."""
    missing = [r for r in results if uncovered_kind(r) in ("missing_topic", "missing_answer")]
    groups: list[QuestionCluster] = []
    for language, threshold in SIMILARITY.items():  # one vector scale per language
        these = [r for r in missing if detect_language(r.question) == language]
        if not these:
            continue
        vectors = np.vstack([await embedder.embed_query(r.question) for r in these])
        ids, texts = [r.id for r in these], [r.question for r in these]
        groups += cluster_questions(ids, texts, vectors, threshold=threshold)
    groups.sort(key=lambda g: -g.size)
    return [g.model_dump() for g in groups]


async def summarize(
    results: Sequence[QuestionResult], embedder: Embedder, *, judge: str | None = None
) -> dict[str, Any]:
    """Everything the report shows besides the per-question table."""
    kinds = [uncovered_kind(r) for r in results]
    return {
        "overall": aggregate(results),
        "by_tag": by_tag(results),
        "uncovered": {
            kind: kinds.count(kind) for kind in ("missing_topic", "missing_answer", "error")
        },
        "answerable_separation": answerable_separation(results),
        "by_language_pair": by_language_pair(results),
        "latency": latency(results),
        "tokens": {
            "prompt": sum(r.prompt_tokens for r in results),
            "completion": sum(r.completion_tokens for r in results),
        },
        "thresholds": sorted({r.threshold for r in results if r.threshold is not None}),
        "topics": await uncovered_topics(results, embedder),
        "judge_prompt": judge,
    }
