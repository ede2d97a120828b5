"""Aggregates by tag, the kinds of "not covered" and the separation AUCs, by hand."""

from __future__ import annotations

import pytest

from kotaemon.eval.summary import (
    aggregate,
    answerable_separation,
    by_language_pair,
    by_tag,
    uncovered_kind,
)

from .helpers import result


def test_aggregate_by_hand() -> None:
    results = [
        result(0, tags=["a"], expected_sources=["d"], expected_rank=1, ndcg_at_10=1.0,
               expected_answers=["x"], exact_match=1.0, f1=1.0, contains=1.0),
        result(1, tags=["a", "b"], expected_sources=["d"], expected_rank=4, ndcg_at_10=0.5,
               expected_answers=["x"], exact_match=0.0, f1=0.5, contains=1.0),
        result(2, tags=["b"], covered=False, has_relevant_context=False,
               expected_sources=["d"], expected_rank=None, ndcg_at_10=0.0),
        result(3, covered=False),  # no expectations: counts for coverage only
    ]  # fmt: skip
    overall = aggregate(results)
    assert overall["questions"] == 4 and overall["coverage"] == 0.5
    assert overall["hit_at_1"] == pytest.approx(1 / 3)
    assert overall["hit_at_5"] == pytest.approx(2 / 3) == overall["hit_at_10"]
    assert overall["mrr"] == pytest.approx((1 + 1 / 4 + 0) / 3)
    assert overall["ndcg_at_10"] == pytest.approx(0.5)
    assert overall["exact_match"] == 0.5 and overall["f1"] == 0.75 and overall["contains"] == 1
    assert overall["judge_accuracy"] is None  # no judge ran
    tags = by_tag(results)
    assert set(tags) == {"a", "b"}
    assert tags["a"]["coverage"] == 1.0 and tags["b"]["coverage"] == 0.5
    assert tags["b"]["hit_at_5"] == 0.5 and tags["b"]["f1"] == 0.5


def test_nothing_expected_means_not_measured() -> None:
    overall = aggregate([result(0)])
    assert overall["hit_at_5"] is None and overall["mrr"] is None and overall["f1"] is None


def test_kinds_of_not_covered() -> None:
    assert uncovered_kind(result(0)) is None
    assert uncovered_kind(result(0, covered=False, has_relevant_context=False)) == "missing_topic"
    assert uncovered_kind(result(0, covered=False, refused=True)) == "missing_answer"
    assert uncovered_kind(result(0, covered=False, outcome="error")) == "error"


def test_separation_aucs_by_hand() -> None:
    answerable = [
        result(0, answerable=True, top_dense_score=0.9, evidence_score=0.8),
        result(1, answerable=True, top_dense_score=0.7, evidence_score=0.6),
    ]
    unanswerable = [
        result(2, answerable=False, top_dense_score=0.8, evidence_score=0.3),
        result(3, answerable=False, top_dense_score=0.6, evidence_score=0.6),
    ]
    found = answerable_separation(answerable + unanswerable)
    assert found is not None and (found["positives"], found["negatives"]) == (2, 2)
    # cosine: 0.9 > 0.8, 0.6; 0.7 > 0.6 only -> 3 of 4 pairs
    assert found["top_dense_score_auc"] == pytest.approx(0.75)
    # evidence: 0.8 > both; 0.6 > 0.3, ties 0.6 -> 3.5 of 4
    assert found["evidence_score_auc"] == pytest.approx(0.875)


def test_evidence_not_measured_stays_none() -> None:
    found = answerable_separation(
        [result(0, answerable=True, top_dense_score=0.9), result(1, answerable=False)]
    )
    assert found is not None and found["evidence_score_auc"] is None
    assert found["top_dense_score_auc"] is None  # the second has no score either
    assert answerable_separation([result(0, answerable=True)]) is None


def test_language_pairs_by_hand() -> None:
    results = [
        result(0, language_pair="zh-en", threshold=0.777, top_dense_score=0.80, answerable=True),
        result(1, language_pair="zh-en", threshold=0.777, top_dense_score=0.70, answerable=False,
               covered=False, has_relevant_context=False),
        result(2, language_pair="zh-en", threshold=0.777, top_dense_score=0.78, answerable=False),
        result(3, language_pair="en-en", threshold=0.832, top_dense_score=0.90),
        result(4),  # measured by no pipeline that sets a pair: left out
    ]  # fmt: skip
    pairs = by_language_pair(results)
    assert list(pairs) == ["en-en", "zh-en"]
    zh_en = pairs["zh-en"]
    assert zh_en["questions"] == 3 and zh_en["coverage"] == pytest.approx(2 / 3)
    assert zh_en["thresholds"] == [0.777] and zh_en["median_top_dense_score"] == 0.78
    # 0.80 above both unanswerable scores: AUC 1
    assert zh_en["answerable_separation"]["top_dense_score_auc"] == 1.0
    assert pairs["en-en"]["answerable_separation"] is None  # no unanswerable question there
