"""The OpenAI-compatible API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Standard clients (the ``openai`` package, Open WebUI, LangChain's ``ChatOpenAI``) work unchanged.
``model`` picks what to search: ``kotaemon`` for every collection you may read, or a
collection's name. The last message is the question and earlier user and assistant messages are
the history; system messages and sampling options are ignored (kotaemon's own prompt and
settings apply). Citations and the call log ride along in extra fields, ``citations`` and
``kotaemon``, which standard clients ignore.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kotaemon.core.errors import InvalidInputError, NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import (
    Answer,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    SourcesEvent,
)
from kotaemon.llms.base import ChatMessage
from kotaemon.server.answering import answer_events, final_answer, stream_response
from kotaemon.server.deps import (
    ChatPrincipal,
    EngineDep,
    IdempotencyKey,
    SettingsDep,
    StoreDep,
)
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import (
    ChatCompletion,
    ChatCompletionRequest,
    CompletionChoice,
    CompletionMessage,
    CompletionUsage,
    KotaemonExtras,
    ModelCard,
    ModelList,
)
from kotaemon.server.sse import event_stream_schema
from kotaemon.store.postgres import PostgresStore

router = APIRouter(tags=["openai-compatible"])

#: The model that searches every collection the caller may read.
ALL_COLLECTIONS_MODEL = "kotaemon"


@router.get(
    "/models",
    summary="The assistants you may use: `kotaemon` (every collection) and one per collection",
    responses=error_responses(*COMMON_ERRORS),
)
async def list_models(store: StoreDep, principal: ChatPrincipal) -> ModelList:
    cards = [ModelCard(id=ALL_COLLECTIONS_MODEL)]
    cards += [ModelCard(id=c.name) for c in await store.catalog.visible(principal)]
    return ModelList(data=cards)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat: an answer from the knowledge base, plain or streamed",
    responses={
        200: {
            "description": "A `chat.completion`, or with `stream: true` a text/event-stream of "
            "`chat.completion.chunk` objects ending with `data: [DONE]`.",
            "content": {
                "text/event-stream": {
                    "schema": event_stream_schema(
                        "A `chat.completion.chunk` or an `error` object as JSON, or `[DONE]`."
                    )
                }
            },
        },
        **error_responses(400, 403, 404, 422, 429, 502, *COMMON_ERRORS),
    },
)
async def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    engine: EngineDep,
    store: StoreDep,
    principal: ChatPrincipal,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> ChatCompletion | Response:
    collections = await _collections_of(store, principal, body.model)
    question, history = _split(body.messages)
    events = answer_events(
        request,
        engine,
        principal,
        question,
        history=history,
        collections=collections,
        idempotency_key=idempotency_key,
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = CompletionChunks(completion_id, created, body.model, include_usage)
        return await stream_response(
            events, heartbeat=settings.sse_heartbeat_seconds, encode=chunks
        )
    answer = await final_answer(events)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=body.model,
        choices=[CompletionChoice(message=CompletionMessage(content=answer.text))],
        usage=_usage(answer),
        citations=answer.citations,
        kotaemon=KotaemonExtras.of(answer),
    )


async def _collections_of(
    store: PostgresStore, principal: Principal, model: str
) -> list[str] | None:
    """The collections a model name stands for (None: every readable one)."""
    if model == ALL_COLLECTIONS_MODEL:
        return None
    if not await store.catalog.visible(principal, [model]):
        raise NotFoundError(
            f"model {model!r} not found; use {ALL_COLLECTIONS_MODEL!r} or a collection name "
            "from GET /v1/models",
            code="model_not_found",
        )
    return [model]


def _split(messages: list[Any]) -> tuple[str, list[ChatMessage]]:
    """The question (the last message, a user's) and the user/assistant history before it."""
    *earlier, last = messages
    question = last.text().strip()
    if last.role != "user" or not question:
        raise InvalidInputError(
            "the last message must be a user message with text: it is the question",
            code="invalid_messages",
        )
    history = [
        ChatMessage(role=m.role, content=m.text())
        for m in earlier
        if m.role in ("user", "assistant") and m.text().strip()
    ]
    return question, history


def _usage(answer: Answer) -> CompletionUsage:
    prompt, completion = answer.usage.prompt_tokens, answer.usage.completion_tokens
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


class CompletionChunks:
    """Encodes an answer's events as ``chat.completion.chunk`` frames (no ``event:`` line).

    ``sources`` opens the stream with the assistant role, each ``delta`` is a content chunk,
    ``done`` a last chunk with ``finish_reason``, citations and call log (and a usage chunk
    when asked for), ``error`` an OpenAI-style error object; both end with ``data: [DONE]``.
    """

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self.base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self.include_usage = include_usage

    def __call__(self, event: Event) -> bytes:
        if isinstance(event, SourcesEvent):
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, DeltaEvent):
            return self._chunk({"content": event.text})
        if isinstance(event, DoneEvent):
            answer = event.answer
            extras = {
                "citations": [c.model_dump(mode="json") for c in answer.citations],
                "kotaemon": KotaemonExtras.of(answer).model_dump(mode="json"),
            }
            frames = self._chunk({}, finish_reason="stop", **extras)
            if self.include_usage:
                usage = _usage(answer).model_dump()
                frames += _frame(self.base | {"choices": [], "usage": usage})
            return frames + b"data: [DONE]\n\n"
        if isinstance(event, ErrorEvent):
            error = {
                "message": event.message,
                "type": "server_error" if event.status >= 500 else "invalid_request_error",
                "code": event.code,
            }
            return _frame({"error": error}) + b"data: [DONE]\n\n"
        return b""  # tool events have no place in this format

    def _chunk(
        self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any
    ) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return _frame(self.base | {"choices": [choice]} | extra)


def _frame(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
