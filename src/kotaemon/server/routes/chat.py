"""``POST /v1/chat``: an answer with citations, as one JSON document or as a stream of events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from fastapi import APIRouter
from starlette.responses import Response

from kotaemon.core.errors import KotaemonError
from kotaemon.core.schema import Answer, DoneEvent, ErrorEvent, Event
from kotaemon.server.deps import CurrentPrincipal, EngineDep, SettingsDep
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import ChatRequest
from kotaemon.server.sse import EventStreamResponse

router = APIRouter(tags=["chat"])

_STREAM_EXAMPLE = (
    'event: sources\ndata: {"type":"sources","sources":[...]}\n\n'
    ": ping\n\n"
    'event: delta\ndata: {"type":"delta","text":"The grace period is 3 days [1]."}\n\n'
    'event: done\ndata: {"type":"done","answer":{...}}\n\n'
)

_ANSWER_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "The answer (`stream: false`), or with `stream: true` a "
        "`text/event-stream`: `sources`, then `delta` pieces, then exactly one `done` (with "
        "the answer) or `error` (`code`, `message`); `: ping` comments keep it alive. "
        "A request that fails before the stream starts gets a JSON error instead.",
        "content": {
            "text/event-stream": {"schema": {"type": "string"}, "example": _STREAM_EXAMPLE}
        },
    },
    **error_responses(400, 403, 404, 409, 422, 429, 502, *COMMON_ERRORS),
}


@router.post(
    "/chat",
    response_model=Answer,
    summary="Answer a question from the knowledge base, with citations",
    responses=_ANSWER_RESPONSES,
)
async def chat(
    body: ChatRequest, engine: EngineDep, principal: CurrentPrincipal, settings: SettingsDep
) -> Answer | Response:
    events = engine.rag.astream(
        body.question,
        principal=principal,
        collections=body.collections,
        metadata_filter=body.filter,
    )
    if body.stream:
        return await _stream(events, settings.sse_heartbeat_seconds)
    async with aclosing(events):
        async for event in events:
            if isinstance(event, DoneEvent):
                return event.answer
            if isinstance(event, ErrorEvent):
                raise KotaemonError(event.message, code=event.code)
    raise KotaemonError("the answer ended without a result", code="internal_error")


async def _stream(events: AsyncGenerator[Event, None], heartbeat: float) -> Response:
    """An event stream; an error before the first event (unknown collection…) is a JSON error."""
    try:
        first = await anext(events)
        if isinstance(first, ErrorEvent):
            raise KotaemonError(first.message, code=first.code)
    except BaseException:
        await events.aclose()
        raise
    return EventStreamResponse(_prepend(first, events), heartbeat=heartbeat)


async def _prepend(first: Event, rest: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    async with aclosing(rest):  # closing this generator closes ``rest`` at once
        yield first
        async for event in rest:
            yield event
