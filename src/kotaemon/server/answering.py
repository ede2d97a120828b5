"""One answer as the service gives it: history in, events out, the answer recorded.

Both chat APIs (``/v1/chat`` and the OpenAI-compatible ``/v1/chat/completions``) answer through
:func:`answer_events`, so they search, cite and record alike.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kotaemon.core.errors import InvalidInputError, KotaemonError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import (
    Answer,
    Conversation,
    ConversationTurn,
    DoneEvent,
    ErrorEvent,
    Event,
    Source,
    SourcesEvent,
)
from kotaemon.engine import Engine
from kotaemon.llms.base import ChatMessage
from kotaemon.pipelines.answer_cache import replay_events
from kotaemon.server.audit import audit
from kotaemon.server.sse import EventStreamResponse, encode_event

#: Turns of a stored conversation given to the model (older ones also fall to the token budget).
HISTORY_TURNS = 20


def history_of(turns: Sequence[ConversationTurn]) -> list[ChatMessage]:
    """A conversation's turns as chat messages, oldest first."""
    messages: list[ChatMessage] = []
    for turn in turns:
        messages.append(ChatMessage(role="user", content=turn.question))
        messages.append(ChatMessage(role="assistant", content=turn.answer))
    return messages


async def answer_events(
    request: Request,
    engine: Engine,
    principal: Principal,
    question: str,
    *,
    history: Sequence[ChatMessage] = (),
    collections: list[str] | None = None,
    metadata_filter: dict[str, Any] | None = None,
    conversation: Conversation | None = None,
    start_conversation: bool = False,
    idempotency_key: str | None = None,
) -> AsyncGenerator[Event, None]:
    """The answer's events. Before ``done`` goes out the answer is recorded, as a turn of
    ``conversation`` (or of a new one, with ``start_conversation``), so that a client may rate
    it or follow up at once; the audit log gets who asked what, with which sources and tools.

    With an ``idempotency_key`` the client has used before, the answer recorded then is given
    again (and nothing new is recorded): a client that never heard back may ask again safely.
    """
    answers = engine.store.answers
    if idempotency_key is not None:
        earlier = await answers.by_idempotency_key(principal, idempotency_key)
        if earlier is not None:
            if earlier.answer.question != question:
                raise InvalidInputError(
                    "this Idempotency-Key was used for another question; use a new key for "
                    "each question",
                    code="idempotency_key_reused",
                )
            for event in replay_events(earlier):
                yield event
            return
    events = engine.rag.astream(
        question,
        principal=principal,
        collections=collections,
        metadata_filter=metadata_filter,
        history=history,
    )
    sources: list[Source] = []
    async with aclosing(events):
        async for event in events:
            if isinstance(event, SourcesEvent):
                sources = event.sources
            if isinstance(event, DoneEvent):
                try:
                    recorded = await _record(
                        engine, principal, event, conversation, start_conversation,
                        collections, idempotency_key, sources,
                    )  # fmt: skip
                    if not recorded and idempotency_key is not None:  # asked twice at once:
                        first = await answers.by_idempotency_key(principal, idempotency_key)
                        if first is not None:  # the first answer recorded is the answer
                            yield DoneEvent(answer=first.answer)
                            return
                    await _audit(request, principal, event.answer, collections)
                except KotaemonError as exc:
                    exc.message = f"the answer was not saved: {exc.message}"
                    yield ErrorEvent.of(exc)
                    return
            yield event


async def _record(
    engine: Engine,
    principal: Principal,
    done: DoneEvent,
    conversation: Conversation | None,
    start: bool,
    collections: list[str] | None,
    idempotency_key: str | None,
    sources: list[Source],
) -> bool:
    """Record the answer; False when another request recorded one under the same key."""
    answer = done.answer
    if conversation is None and start:
        conversation = await engine.store.answers.start_conversation(
            principal, answer.question, collections
        )
    answer.conversation_id = conversation.id if conversation else None
    return await engine.store.answers.record(
        principal,
        answer,
        conversation_id=answer.conversation_id,
        idempotency_key=idempotency_key,
        sources=sources,
    )


async def _audit(
    request: Request, principal: Principal, answer: Answer, collections: list[str] | None
) -> None:
    sources = [
        {"marker": c.marker, "kind": c.kind, "document": c.document, "chunk_id": c.chunk_id,
         "tool": c.tool}
        for c in answer.citations
    ]  # fmt: skip
    details = {
        "question": answer.question,
        "collections": collections,
        "outcome": answer.outcome,
        "model": answer.model,
        "sources": sources,
        "tools": [call.model_dump(mode="json") for call in answer.call_log],
    }
    await audit(request, principal, "answer", answer_id=answer.answer_id, details=details)


async def stream_response(
    events: AsyncGenerator[Event, None],
    *,
    heartbeat: float,
    encode: Callable[[Event], bytes] = encode_event,
) -> Response:
    """An event stream; an error before the first event (unknown collection…) is a JSON error."""
    try:
        first = await anext(events)
        if isinstance(first, ErrorEvent):
            raise first.error()
    except BaseException:
        await events.aclose()
        raise
    return EventStreamResponse(_prepend(first, events), heartbeat=heartbeat, encode=encode)


async def final_answer(events: AsyncGenerator[Event, None]) -> Answer:
    """The answer at the end of the events. :raises KotaemonError: for an ``error`` event."""
    async with aclosing(events):
        async for event in events:
            if isinstance(event, DoneEvent):
                return event.answer
            if isinstance(event, ErrorEvent):
                raise event.error()
    raise KotaemonError("the answer ended without a result")


async def _prepend(first: Event, rest: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    async with aclosing(rest):  # closing this generator closes ``rest`` at once
        yield first
        async for event in rest:
            yield event
