"""``POST /v1/chat``: an answer with citations, as one JSON document or as a stream of events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kotaemon.core.schema import Answer
from kotaemon.server.answering import (
    HISTORY_TURNS,
    answer_events,
    final_answer,
    history_of,
    stream_response,
)
from kotaemon.server.deps import ChatPrincipal, EngineDep, IdempotencyKey, SettingsDep
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import ChatRequest
from kotaemon.server.sse import event_stream_schema

router = APIRouter(tags=["chat"])

_STREAM_EXAMPLE = (
    'event: sources\ndata: {"type":"sources","sources":[...]}\n\n'
    ": ping\n\n"
    'event: delta\ndata: {"type":"delta","text":"The grace period is 3 days [1]."}\n\n'
    'event: done\ndata: {"type":"done","answer":{...}}\n\n'
)

_ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer (`stream: false`), or with `stream: true` a "
        "`text/event-stream`: `sources`, then `delta` pieces, then exactly one `done` (with "
        "the answer) or `error` (`code`, `message`); `: ping` comments keep it alive. "
        "A request that fails before the stream starts gets a JSON error instead.",
        "content": {
            "text/event-stream": {
                "schema": event_stream_schema(
                    "The event as JSON, with its `type`.",
                    ["sources", "tool_start", "tool_end", "delta", "done", "error"],
                ),
                "example": _STREAM_EXAMPLE,
            }
        },
    },
    **error_responses(400, 403, 404, 409, 422, 429, 502, *COMMON_ERRORS),
}


@router.post(
    "/chat",
    response_model=Answer,
    summary="Answer a question from the knowledge base, with citations (a follow-up with "
    "`conversation_id`)",
    responses=_ANSWER_RESPONSES,
)
async def chat(
    body: ChatRequest,
    request: Request,
    engine: EngineDep,
    principal: ChatPrincipal,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Answer | Response:
    conversation, history, collections = None, [], body.collections
    if body.conversation_id is not None:
        conversation = await engine.store.answers.conversation(principal, body.conversation_id)
        turns = await engine.store.answers.turns(principal, conversation.id, limit=HISTORY_TURNS)
        history = history_of(turns)
        collections = collections if collections is not None else conversation.collections
    events = answer_events(
        request,
        engine,
        principal,
        body.question,
        history=history,
        collections=collections,
        metadata_filter=body.filter,
        conversation=conversation,
        start_conversation=body.conversation_id is None,
        idempotency_key=idempotency_key,
    )
    if body.stream:
        return await stream_response(events, heartbeat=settings.sse_heartbeat_seconds)
    return await final_answer(events)
