"""Middleware that keeps one process responsive under load: concurrency, body size, time.

Each is a plain ASGI class, so it costs one function call per request. They answer with the
service's JSON errors: 503 ``overloaded`` (with ``Retry-After``), 413 ``request_too_large``,
504 ``request_timeout`` and 503 ``shutting_down`` (a request cancelled by the end of a shutdown).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kotaemon.server.errors import error_response

log = logging.getLogger(__name__)


class ConcurrencyLimitMiddleware:
    """Refuses a request at once with 503 ``overloaded`` while ``limit`` requests are in flight.

    Refusing early keeps latency bounded in a burst and lets a load balancer retry elsewhere.
    Health probes (``exempt_paths``) are never refused, so a busy process is not taken for a
    dead one. An event stream counts until it ends.

    Example::

        app.add_middleware(ConcurrencyLimitMiddleware, limit=64, exempt_paths={"/healthz"})
    """

    def __init__(self, app: ASGIApp, *, limit: int, exempt_paths: Collection[str] = ()) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.app = app
        self.limit = limit
        self.exempt_paths = frozenset(exempt_paths)
        self.in_flight = 0  # one event loop per process: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            response = error_response(
                503,
                "overloaded",
                f"the server is handling its limit of {self.limit} requests; retry in a moment",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class RequestTooLarge(HTTPException):
    """Raised while reading a body that outgrows the limit (rendered as a JSON 413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            413,
            f"the request body is over the limit of {max_bytes} bytes "
            "(KOTAEMON_MAX_REQUEST_BYTES; for uploads KOTAEMON_MAX_UPLOAD_BYTES)",
        )


class BodySizeLimitMiddleware:
    """Answers 413 ``request_too_large`` for bodies over ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything is read; a chunked
    body is counted as it arrives and refused once it passes the limit. Uploads (``POST`` to a
    path matching ``upload_path``) have their own, larger limit.

    Example::

        app.add_middleware(BodySizeLimitMiddleware, max_bytes=2**20)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_path: str | None = None,
        max_upload_bytes: int | None = None,
    ) -> None:
        for name, value in (("max_bytes", max_bytes), ("max_upload_bytes", max_upload_bytes)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.app = app
        self.max_bytes = max_bytes
        self.upload_path = re.compile(upload_path) if upload_path else None
        self.max_upload_bytes = max_upload_bytes or max_bytes

    def limit_for(self, scope: Scope) -> int:
        is_upload = (
            self.upload_path is not None
            and scope["method"] == "POST"
            and self.upload_path.fullmatch(scope["path"]) is not None
        )
        return self.max_upload_bytes if is_upload else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except RequestTooLarge:
            if started:
                raise
            await self._refuse(limit, scope, receive, send)

    async def _refuse(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        exc = RequestTooLarge(limit)
        await error_response(413, "request_too_large", exc.detail)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


class RequestTimeoutMiddleware:
    """Answers 504 ``request_timeout`` when a request has not started its response in time.

    The request's work is cancelled. A response that has started is left to finish: an event
    stream starts at once, so in effect this bounds the non-streaming routes. A request that the
    server cancels (still running when ``KOTAEMON_SHUTDOWN_GRACE_SECONDS`` ran out) and that had
    not started its response is answered 503 ``shutting_down`` with ``Retry-After``, not the
    server's bare 500: the client may send it again, and another replica answers.

    Example::

        app.add_middleware(RequestTimeoutMiddleware, seconds=120)
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + self.seconds) as deadline:

                async def send_and_release(message: Message) -> None:
                    nonlocal started
                    if message["type"] == "http.response.start":
                        started = True
                        deadline.deadline = math.inf
                    await send(message)

                await self.app(scope, receive, send_and_release)
        except anyio.get_cancelled_exc_class():
            if started:
                raise  # a response under way cannot change its status: the connection ends
            await _stopped_before_done(scope, receive, send)
            return  # answered: the request's task ends as the server asked
        if deadline.cancelled_caught and not started:
            log.warning(
                "request timed out: method=%s path=%s seconds=%s",
                scope["method"],
                scope["path"],
                self.seconds,
            )
            response = error_response(
                504,
                "request_timeout",
                f"the request took longer than {self.seconds:g} s "
                "(KOTAEMON_REQUEST_TIMEOUT_SECONDS); retry, or ask for a streamed answer",
            )
            await response(scope, receive, send)


async def _stopped_before_done(scope: Scope, receive: Receive, send: Send) -> None:
    log.warning(
        "request cancelled by the shutdown before its response: method=%s path=%s",
        scope["method"],
        scope["path"],
    )
    response = error_response(
        503,
        "shutting_down",
        "this replica stopped before the request finished "
        "(KOTAEMON_SHUTDOWN_GRACE_SECONDS ran out); send it again",
        headers={"Retry-After": "1"},
    )
    await response(scope, receive, send)
