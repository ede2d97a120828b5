"""A timed stage of a request: one span, one histogram sample, one entry in a timings dict."""

from __future__ import annotations

from time import perf_counter
from types import TracebackType
from typing import Any

from opentelemetry.trace import Span

from kotaemon.observability.metrics import RETRIEVAL_DURATION
from kotaemon.observability.tracing import tracer

RETRIEVAL_STAGES = frozenset({"embed", "dense", "keyword", "fuse"})


class stage:
    """Time a stage of an answer as a span, and as ``timings[name]`` in milliseconds.

    Retrieval stages (embed, dense, keyword, fuse) also feed
    ``kotaemon_retrieval_duration_seconds{stage}``. Use it in coroutines, not across a
    generator's ``yield`` (the span is the current one while the block runs).

    Example::

        timings: dict[str, float] = {}
        with stage("dense", timings, span="dense search", **{"db.system.name": "postgresql"}):
            rows = await store.dense_search(...)
    """

    def __init__(
        self,
        name: str,
        timings: dict[str, float] | None = None,
        *,
        span: str | None = None,
        **attributes: Any,
    ) -> None:
        self.name = name
        self.timings = timings
        self._span_cm = tracer().start_as_current_span(
            span or name, attributes={"kotaemon.stage": name, **attributes}
        )
        self._start = 0.0

    def __enter__(self) -> Span:
        self._start = perf_counter()
        return self._span_cm.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        elapsed = perf_counter() - self._start
        self._span_cm.__exit__(exc_type, exc, tb)
        if self.name in RETRIEVAL_STAGES:
            RETRIEVAL_DURATION.labels(self.name).observe(elapsed)
        if self.timings is not None:
            self.timings[self.name] = self.timings.get(self.name, 0.0) + elapsed * 1000
