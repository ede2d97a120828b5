"""CI gates: thresholds a run must meet, checked against its aggregates.

``kotaemon eval run`` exits with :data:`GATE_FAILED` when any gate fails, so a pipeline step
fails on a knowledge base that got worse.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kotaemon.eval.compare import Comparison

#: Exit status of a run whose gates failed (1 is a kotaemon error, 2 a usage error).
GATE_FAILED = 3


class Gates(BaseModel):
    """The thresholds; None leaves a gate off."""

    min_coverage: float | None = None
    min_hit_at_5: float | None = None
    min_f1: float | None = None
    max_regressions: int | None = None

    def failures(self, overall: dict[str, Any], comparison: Comparison | None) -> list[str]:
        """One line per failed gate (empty: all passed). A gate whose metric was not measured
        fails, so that a misconfigured CI step cannot pass silently."""
        failed: list[str] = []
        for name, metric in (
            ("min_coverage", "coverage"),
            ("min_hit_at_5", "hit_at_5"),
            ("min_f1", "f1"),
        ):
            floor = getattr(self, name)
            if floor is None:
                continue
            value = overall.get(metric)
            if value is None:
                failed.append(f"{metric} was not measured (the questions lack what it needs)")
            elif value < floor:
                failed.append(f"{metric} {value:.3f} is below --{name.replace('_', '-')} {floor}")
        if self.max_regressions is not None:
            if comparison is None:
                failed.append("--max-regressions needs --baseline (a run id or a JSON report)")
            elif len(comparison.regressed) > self.max_regressions:
                failed.append(
                    f"{len(comparison.regressed)} questions regressed, more than "
                    f"--max-regressions {self.max_regressions}"
                )
        return failed
