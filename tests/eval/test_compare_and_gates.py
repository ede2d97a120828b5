"""Comparison with a baseline and the CI gates."""

from __future__ import annotations

from kotaemon.eval.compare import compare, grade
from kotaemon.eval.gates import Gates

from .helpers import result


def test_grade_counts_each_check() -> None:
    assert grade(result(0)) == 1
    assert grade(result(0, expected_sources=["d"], expected_rank=5)) == 2
    assert grade(result(0, expected_sources=["d"], expected_rank=6)) == 1
    assert grade(result(0, expected_answers=["x"], f1=0.5)) == 2
    assert grade(result(0, expected_answers=["x"], f1=0.9, judge_correct=False)) == 1
    assert grade(result(0, covered=False)) == 0


def test_compare_improved_regressed_unchanged() -> None:
    before = [result(0), result(1, covered=False), result(2), result(3)]
    after = [result(0, covered=False), result(1), result(2), result(4)]
    comparison = compare(after, before, label="base.json")
    assert [c.id for c in comparison.regressed] == ["q0"]
    assert [c.id for c in comparison.improved] == ["q1"]
    assert comparison.unchanged == 1 and comparison.matched == 3
    assert (comparison.only_in_baseline, comparison.only_in_run) == (1, 1)
    assert comparison.coverage_before == comparison.coverage_after == 2 / 3


def test_gates() -> None:
    overall = {"coverage": 0.7, "hit_at_5": None, "f1": 0.5}
    assert Gates().failures(overall, None) == []
    assert Gates(min_coverage=0.7).failures(overall, None) == []
    [low] = Gates(min_coverage=0.8).failures(overall, None)
    assert low == "coverage 0.700 is below --min-coverage 0.8"
    [unmeasured] = Gates(min_hit_at_5=0.5).failures(overall, None)
    assert "hit_at_5 was not measured" in unmeasured
    [needs] = Gates(max_regressions=0).failures(overall, None)
    assert "needs --baseline" in needs
    comparison = compare([result(0, covered=False)], [result(0)], label="b")
    assert Gates(max_regressions=1).failures(overall, comparison) == []
    [regressed] = Gates(max_regressions=0).failures(overall, comparison)
    assert regressed.startswith("1 questions regressed")
