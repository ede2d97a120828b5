"""Hand-made results for the unit tests of aggregates, comparisons, gates and reports."""

from __future__ import annotations

from typing import Any

from kotaemon.eval.results import QuestionResult


def result(position: int, **fields: Any) -> QuestionResult:
    """A result with neutral defaults: answered, covered, nothing expected."""
    values: dict[str, Any] = {
        "position": position,
        "id": f"q{position}",
        "question": f"question {position}",
        "outcome": "answered",
        "covered": True,
        "refused": False,
        "has_relevant_context": True,
        "latency_ms": 10.0 * (position + 1),
    }
    return QuestionResult(**(values | fields))
