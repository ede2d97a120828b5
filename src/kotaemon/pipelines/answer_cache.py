"""Whole answers, cached (``KOTAEMON_ANSWER_CACHE``, off by default): the same question over the
same collection versions, for a caller who may read the same collections, with the same model
and prompt, gets the answer already given, streamed again at once.

Never cached: answers that used tools (live data) or a conversation's history, and answers that
found nothing (the knowledge base may be about to get the document).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from kotaemon.cache.cache import Cache
from kotaemon.core.schema import (
    Answer,
    Collection,
    DeltaEvent,
    DoneEvent,
    Event,
    Replay,
    Source,
    SourcesEvent,
)


class AnswerCache:
    """Looks answers up and keeps them, by everything an answer depends on.

    Example::

        answers = AnswerCache(Cache("answer", store, ttl=86400), settings={"model": "gpt-4o"})
        key = answers.key(question, targets, metadata_filter)
        if (hit := await answers.get(key)) is not None: ...

    :param settings: what else the answer depends on (model, prompt, retrieval and relevance
        settings), the same for every call of one pipeline.
    """

    def __init__(self, cache: Cache, *, settings: dict[str, Any]) -> None:
        self.cache = cache
        self.settings = settings

    def key(
        self,
        question: str,
        targets: list[Collection],
        metadata_filter: dict[str, Any] | None,
    ) -> str:
        versions = sorted((c.id, c.version) for c in targets)
        return self.cache.key(question, versions, metadata_filter, self.settings)

    async def get(self, key: str) -> Replay | None:
        hit = await self.cache.get(key)
        return Replay.model_validate_json(hit) if hit is not None else None

    async def put(self, key: str, answer: Answer, sources: list[Source]) -> None:
        if answer.outcome != "answered" or answer.call_log:
            return
        await self.cache.put(key, Replay(answer=answer, sources=sources).model_dump_json().encode())


def replay(cached: Replay, trace_id: str | None) -> Iterator[Event]:
    """The events of a cached answer: its sources, its whole text, then done (a new answer id)."""
    answer = cached.answer.model_copy(
        update={
            "answer_id": str(uuid.uuid4()),
            "trace_id": trace_id,
            "conversation_id": None,
            "cached": True,
        }
    )
    return replay_events(Replay(answer=answer, sources=cached.sources))


def replay_events(recorded: Replay) -> Iterator[Event]:
    """The events of an answer given already: its sources, its whole text, then done."""
    yield SourcesEvent(sources=recorded.sources)
    yield DeltaEvent(text=recorded.answer.text)
    yield DoneEvent(answer=recorded.answer)
