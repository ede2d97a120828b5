"""``GET /metrics``: the Prometheus text format, optionally behind a bearer token."""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from kotaemon.core.errors import AuthenticationError, KotaemonError
from kotaemon.observability.metrics import INGEST_JOBS, render
from kotaemon.server.deps import EngineDep, SettingsDep
from kotaemon.server.errors import error_responses

router = APIRouter(tags=["health"])

#: Queue depth is read from PostgreSQL at most this often, however often Prometheus scrapes.
QUEUE_REFRESH_SECONDS = 5.0


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **error_responses(401),
    },
)
async def metrics(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.reveal()}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationError(
                "GET /metrics needs `Authorization: Bearer <KOTAEMON_METRICS_TOKEN>`",
                code="metrics_unauthorized",
            )
    await _refresh_queue_depth(request, engine)
    return Response(render(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_queue_depth(request: Request, engine: EngineDep) -> None:
    state = request.app.state
    if time.monotonic() - getattr(state, "queue_read_at", -1e9) < QUEUE_REFRESH_SECONDS:
        return
    try:
        counts = await engine.store.jobs.counts()
    except KotaemonError:
        return  # the database is down: keep the last figures, the scrape still works
    for job_state in ("queued", "running", "succeeded", "failed"):
        INGEST_JOBS.labels(job_state).set(counts.get(job_state, 0))
    state.queue_read_at = time.monotonic()
