"""The event stream in isolation: framing, heartbeats, the final event, closing the source."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import pytest

from kotaemon.core.schema import DeltaEvent, ErrorEvent, Event
from kotaemon.server.errors import INTERNAL_MESSAGE
from kotaemon.server.sse import EventStreamResponse, encode_event

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


class Source:
    """An event generator that records whether it was closed."""

    def __init__(self, *events: Event, then: str = "end") -> None:
        self.events = events
        self.then = then
        self.closed = False

    async def stream(self) -> AsyncGenerator[Event, None]:
        try:
            for event in self.events:
                yield event
            if self.then == "hang":
                await anyio.sleep_forever()
            if self.then == "raise":
                raise RuntimeError("boom")
        finally:
            self.closed = True


async def run(
    source: Source, *, heartbeat: float = 60, disconnect_after: int | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Call the response as a server would; the client leaves after ``disconnect_after`` sends."""
    sent: list[dict[str, Any]] = []
    frames = anyio.Event()

    async def receive() -> dict[str, Any]:
        if disconnect_after is None:
            await anyio.sleep_forever()
        await frames.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if disconnect_after is not None and len(sent) >= disconnect_after:
            frames.set()

    await EventStreamResponse(source.stream(), heartbeat=heartbeat)({"type": "http"}, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    return body, sent


def test_encode_event() -> None:
    assert encode_event(DeltaEvent(text="宽限期\n3天")) == (
        'event: delta\ndata: {"type":"delta","text":"宽限期\\n3天"}\n\n'.encode()
    )


async def test_a_stream_without_a_final_event_ends_with_an_error() -> None:
    source = Source(DeltaEvent(text="partial"))
    body, sent = await run(source)
    stream = parse_sse(body)
    assert stream.types == ["delta", "error"]
    assert stream.events[-1][1] == {
        "type": "error",
        "code": "internal_error",
        "message": INTERNAL_MESSAGE,
    }
    assert sent[0]["status"] == 200 and sent[-1] == {
        "type": "http.response.body",
        "body": b"",
        "more_body": False,
    }
    assert source.closed


async def test_a_failing_source_ends_with_an_error() -> None:
    source = Source(DeltaEvent(text="partial"), then="raise")
    body, _ = await run(source)
    assert parse_sse(body).types == ["delta", "error"] and source.closed


async def test_internal_error_events_are_hidden() -> None:
    source = Source(ErrorEvent(code="configuration_error", message="key sk-123 is wrong"))
    body, _ = await run(source)
    assert parse_sse(body).events == [
        ("error", {"type": "error", "code": "internal_error", "message": INTERNAL_MESSAGE})
    ]


async def test_nothing_after_the_final_event() -> None:
    source = Source(ErrorEvent(code="llm_failed", message="down"), DeltaEvent(text="late"))
    body, _ = await run(source)
    assert parse_sse(body).types == ["error"] and source.closed


async def test_pings_while_the_source_is_silent_and_close_on_disconnect() -> None:
    source = Source(DeltaEvent(text="first"), then="hang")
    body, sent = await run(source, heartbeat=0.01, disconnect_after=3)  # start, delta, ping
    stream = parse_sse(body)
    assert stream.types == ["delta"] and stream.pings >= 1
    assert source.closed  # the client left: the generator was closed, not left hanging
    assert sent[-1].get("more_body") is True  # no end of body is sent to a gone client
