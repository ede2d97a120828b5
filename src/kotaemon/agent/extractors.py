"""Tool arguments the offline router fills from the question, by code (never by a model).

An intent names, per tool parameter, the extractor that fills it (``month: month`` in the
agent configuration). An extractor returns None when the question does not say; a tool whose
required parameters cannot all be filled is not called.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kotaemon.agent.dates import month_of

#: ``extractor(question, today) -> value or None``.
Extractor = Callable[[str, date], str | None]

EXTRACTORS: dict[str, Extractor] = {
    # The month the question is about, YYYY-MM ("上个月", "in November", "2026-11").
    "month": month_of,
}
