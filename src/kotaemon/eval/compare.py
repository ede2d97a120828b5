"""A run compared with a previous one, question by question: improved, regressed, unchanged.

A question's grade counts what went right: covered, the expected source in the top 5 (when the
set names sources), the answer correct (token F1 ≥ 0.5, or the judge's verdict, when the set
names answers). A higher grade is an improvement, a lower one a regression. Questions are
matched by id (a file without ids numbers its questions by line: keep ids stable to compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from kotaemon.eval.results import QuestionResult

#: Token F1 from which an answer counts as correct (when no judge is used).
CORRECT_F1 = 0.5


class QuestionChange(BaseModel):
    id: str
    question: str
    before: int
    after: int
    covered_before: bool
    covered_after: bool


class Comparison(BaseModel):
    """How the run changed against its baseline."""

    baseline: str
    matched: int
    improved: list[QuestionChange] = Field(default_factory=list)
    regressed: list[QuestionChange] = Field(default_factory=list)
    unchanged: int = 0
    only_in_baseline: int = 0
    only_in_run: int = 0
    coverage_before: float | None = None
    coverage_after: float | None = None


def grade(result: QuestionResult) -> int:
    """How many of the question's checks passed."""
    points = int(result.covered)
    if result.expected_sources:
        points += int(result.expected_rank is not None and result.expected_rank <= 5)
    if result.expected_answers:
        correct = (
            result.judge_correct
            if result.judge_correct is not None
            else (result.f1 or 0.0) >= CORRECT_F1
        )
        points += int(correct)
    return points


def compare(
    current: Sequence[QuestionResult], baseline: Sequence[QuestionResult], *, label: str
) -> Comparison:
    """The changes from ``baseline`` (labelled ``label`` in the report) to ``current``."""
    before = {_key(r): r for r in baseline}
    after = {_key(r): r for r in current}
    shared = [k for k in after if k in before]
    comparison = Comparison(
        baseline=label,
        matched=len(shared),
        only_in_baseline=len(before.keys() - after.keys()),
        only_in_run=len(after.keys() - before.keys()),
    )
    for key in shared:
        old, new = before[key], after[key]
        change = QuestionChange(
            id=new.id,
            question=new.question,
            before=grade(old),
            after=grade(new),
            covered_before=old.covered,
            covered_after=new.covered,
        )
        if change.after > change.before:
            comparison.improved.append(change)
        elif change.after < change.before:
            comparison.regressed.append(change)
        else:
            comparison.unchanged += 1
    if shared:
        comparison.coverage_before = sum(before[k].covered for k in shared) / len(shared)
        comparison.coverage_after = sum(after[k].covered for k in shared) / len(shared)
    return comparison


def _key(result: QuestionResult) -> Any:
    return result.id
