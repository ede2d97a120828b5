"""Per request: a server span continuing the caller's ``traceparent``, a request id, the HTTP
metrics and one access-log line.

Responses carry ``X-Request-ID`` (the caller's, if it sent a sane one) and ``X-Trace-Id``. The
``route`` label is the path's template in the OpenAPI description (``/v1/collections/{name}``),
or ``unmatched`` for paths no route serves, so a scan of random paths cannot blow up the label
set.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from functools import cached_property
from time import perf_counter

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kotaemon.observability.logging import REQUEST_ID, ROUTE
from kotaemon.observability.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS
from kotaemon.observability.tracing import current_ids, incoming_context, tracer

log = logging.getLogger("kotaemon.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"


class TelemetryMiddleware:
    """Traces, counts, times and logs every HTTP request.

    Example::

        app.add_middleware(TelemetryMiddleware, templates=lambda: app.openapi()["paths"])

    :param templates: the path templates of the API, read once at the first request.
    """

    def __init__(self, app: ASGIApp, *, templates: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self._templates = templates

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        return [(compile_path(t)[0], t) for t in self._templates()]

    def route_of(self, path: str) -> str:
        """The template ``path`` matches, or ``unmatched``."""
        for pattern, template in self._patterns:
            if pattern.match(path):
                return template
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        sent_id = headers.get("x-request-id", "")
        request_id = sent_id if _REQUEST_ID.fullmatch(sent_id) else uuid.uuid4().hex
        method = scope["method"]
        status = 500  # unless a response starts
        start = perf_counter()
        HTTP_IN_FLIGHT.inc()
        id_token = REQUEST_ID.set(request_id)
        with tracer().start_as_current_span(
            f"{method}",
            context=incoming_context(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            trace_id, _ = current_ids()

            async def send_with_ids(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    response_headers = MutableHeaders(scope=message)
                    response_headers["X-Request-ID"] = request_id
                    if trace_id:
                        response_headers["X-Trace-Id"] = trace_id
                await send(message)

            try:
                await self.app(scope, receive, send_with_ids)
            finally:
                route = self.route_of(scope["path"])
                elapsed = perf_counter() - start
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                HTTP_IN_FLIGHT.dec()
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_DURATION.labels(method, route).observe(elapsed)
                route_token = ROUTE.set(route)
                log.info(
                    "%s %s %s",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "method": method,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
                ROUTE.reset(route_token)
        REQUEST_ID.reset(id_token)
