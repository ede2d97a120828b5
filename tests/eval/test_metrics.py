"""Each measure against values computed by hand."""

from __future__ import annotations

import math

import pytest

from kotaemon.eval import metrics


def test_normalization_follows_squad() -> None:
    assert metrics.normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert metrics.normalize_answer("an apple, a pear") == "apple pear"
    assert metrics.normalize_answer("“北京”。") == "北京"


def test_exact_match_takes_the_best_expected_answer() -> None:
    assert metrics.exact_match("the Eiffel tower.", ["Louvre", "Eiffel Tower"]) == 1.0
    assert metrics.exact_match("Eiffel", ["Eiffel Tower"]) == 0.0


def test_token_f1_in_english() -> None:
    # prediction: {eiffel, tower, paris} vs gold {eiffel, tower}: P = 2/3, R = 1 -> F1 = 0.8
    assert metrics.token_f1("Eiffel Tower, Paris", ["the Eiffel Tower"]) == pytest.approx(0.8)
    assert metrics.token_f1("Louvre", ["Eiffel Tower"]) == 0.0


def test_token_f1_counts_each_chinese_character() -> None:
    # 宽限期三天 (5 chars) vs 三天 (2 chars): common 2 -> P = 2/5, R = 1 -> F1 = 4/7
    assert metrics.answer_tokens("宽限期三天") == ["宽", "限", "期", "三", "天"]
    assert metrics.token_f1("宽限期三天", ["三天"]) == pytest.approx(4 / 7)
    # mixed text: Latin words stay whole, CJK characters split
    assert metrics.answer_tokens("iPhone 15的价格") == ["iphone", "15", "的", "价", "格"]


def test_containment() -> None:
    sentence = "The payment due date is 20 days after the statement date."
    assert metrics.contains_answer(sentence, ["20 days"]) == 1.0
    assert metrics.contains_answer(sentence, ["30 days"]) == 0.0
    assert metrics.contains_answer("宽限期为3天。", ["3天"]) == 1.0


def test_ranks_hits_and_reciprocal_rank() -> None:
    ranking = ["d7", "d2", "d9"]
    rank = metrics.first_relevant_rank(ranking, {"d9", "d4"})
    assert rank == 3
    assert (metrics.hit_at(rank, 1), metrics.hit_at(rank, 3)) == (0.0, 1.0)
    assert metrics.reciprocal_rank(rank) == pytest.approx(1 / 3)
    assert metrics.first_relevant_rank(ranking, {"x"}) is None
    assert metrics.reciprocal_rank(None) == 0.0 and metrics.hit_at(None, 10) == 0.0


def test_ndcg_with_graded_relevance() -> None:
    relevance = {"a": 2, "b": 1}
    # ranking c, a, b: DCG = 2/log2(3) + 1/log2(4); ideal a, b: 2/log2(2) + 1/log2(3)
    expected = (2 / math.log2(3) + 1 / 2) / (2 + 1 / math.log2(3))
    assert metrics.ndcg_at(["c", "a", "b"], relevance) == pytest.approx(expected)
    assert metrics.ndcg_at(["a", "b"], relevance) == pytest.approx(1.0)
    assert metrics.ndcg_at(["c", "a"], relevance, k=1) == 0.0
    assert metrics.ndcg_at(["a"], {}) == 0.0


def test_roc_auc_by_hand() -> None:
    # pairs (pos > neg): 0.9 beats all 3; 0.6 beats 0.5 and 0.2, ties 0.6 (half) -> 2.5
    # total 5.5 of 2 * 3 = 6 pairs
    assert metrics.roc_auc([0.9, 0.6], [0.6, 0.5, 0.2]) == pytest.approx(5.5 / 6)
    assert metrics.roc_auc([1.0], [0.0]) == 1.0
    assert metrics.roc_auc([0.0], [1.0]) == 0.0
    assert metrics.roc_auc([0.5, 0.5], [0.5]) == 0.5
    assert metrics.roc_auc([], [0.3]) is None


def test_mean_and_percentile() -> None:
    assert metrics.mean([]) is None and metrics.mean([1.0, 2.0]) == 1.5
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 0.5) == 20.0
    assert metrics.percentile(values, 0.95) == 40.0
    assert metrics.percentile([], 0.5) is None
