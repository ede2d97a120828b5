"""Server-sent events: the answer stream as ``event: <type>`` / ``data: <json>`` frames.

:class:`EventStreamResponse` owns the event generator it is given. It sends a ``: ping`` comment
whenever the stream has been idle for the heartbeat interval (proxies and browsers keep the
connection open), ends with exactly one ``done`` or ``error`` event, and closes the generator as
soon as the client goes away, which cancels the LLM request behind it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kotaemon.core.schema import ErrorEvent, Event
from kotaemon.server.errors import INTERNAL_MESSAGE, public_event

log = logging.getLogger(__name__)

PING = b": ping\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: How long closing the event generator may take once the client has gone.
CLOSE_TIMEOUT_SECONDS = 5.0


def event_stream_schema(description: str, events: list[str] | None = None) -> dict[str, Any]:
    """OpenAPI for one server-sent event of a stream: its ``event`` name and JSON ``data``."""
    event: dict[str, Any] = {"type": "string"}
    if events:
        event["enum"] = events
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"event": event, "data": {"type": "string", "description": description}},
    }


def encode_event(event: Event) -> bytes:
    """One SSE frame; the compact JSON holds no newline, so one ``data:`` line suffices."""
    return f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode()


class EventStreamResponse(Response):
    """A ``text/event-stream`` of engine events.

    Example::

        return EventStreamResponse(engine.rag.astream(question), heartbeat=15)

    :param events: the events to send; closed (``aclose``) when the stream ends for any reason.
    :param heartbeat: seconds of silence after which a ``: ping`` comment is sent.
    :param encode: an event's frames (empty to send nothing); the OpenAI-compatible API passes
        its own.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncGenerator[Event, None],
        *,
        heartbeat: float,
        encode: Callable[[Event], bytes] = encode_event,
    ) -> None:
        if not heartbeat > 0:
            raise ValueError(f"heartbeat must be positive, got {heartbeat}")
        self.events = events
        self.heartbeat = heartbeat
        self.encode = encode
        self.status_code = 200
        self.background = None
        self.init_headers(HEADERS)
        self._send: Send | None = None
        self._lock = anyio.Lock()
        self._last_write = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._send = send
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        self._last_write = anyio.current_time()
        disconnected = False
        try:
            async with anyio.create_task_group() as tg:

                async def watch_disconnect() -> None:
                    nonlocal disconnected
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    disconnected = True
                    tg.cancel_scope.cancel()

                tg.start_soon(watch_disconnect)
                tg.start_soon(self._keep_alive)
                await self._forward()
                tg.cancel_scope.cancel()
        finally:
            with anyio.move_on_after(CLOSE_TIMEOUT_SECONDS, shield=True):
                await self.events.aclose()
        if disconnected:
            log.info("client disconnected; answer stream closed")
        else:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _forward(self) -> None:
        """Send every event; make sure the stream ends with one ``done`` or ``error``."""
        try:
            async for event in self.events:
                if isinstance(event, ErrorEvent):
                    event = public_event(event)
                if frames := self.encode(event):
                    await self._write(frames)
                if event.type in ("done", "error"):
                    return
        except Exception:
            log.exception("answer stream failed")
        await self._write(self.encode(ErrorEvent(code="internal_error", message=INTERNAL_MESSAGE)))

    async def _keep_alive(self) -> None:
        while True:
            await anyio.sleep(max(0.0, self._last_write + self.heartbeat - anyio.current_time()))
            if anyio.current_time() - self._last_write >= self.heartbeat:
                await self._write(PING)

    async def _write(self, data: bytes) -> None:
        assert self._send is not None
        async with self._lock:  # a ping never lands inside an event
            await self._send({"type": "http.response.body", "body": data, "more_body": True})
            self._last_write = anyio.current_time()
