"""The worker's own small HTTP endpoint (``KOTAEMON_WORKER_PORT``): liveness, readiness and
metrics for a process that serves no API, so orchestrators can probe it and Prometheus scrape it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kotaemon.core.errors import KotaemonError
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.observability.metrics import render
from kotaemon.server.routes.health import READY_TIMEOUT_SECONDS
from kotaemon.settings import Settings

log = logging.getLogger(__name__)


def worker_app(settings: Settings, engine: Engine) -> Starlette:
    """``/healthz`` (always 200), ``/readyz`` (the database answers), ``/metrics``."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            with anyio.fail_after(READY_TIMEOUT_SECONDS):
                await engine.store.collections.visible(Principal.local(), [])
        except (TimeoutError, KotaemonError):
            return JSONResponse(
                {"error": {"code": "not_ready", "message": "the database is unavailable"}},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        if settings.metrics_token is not None:
            expected = f"Bearer {settings.metrics_token.reveal()}"
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse(
                    {"error": {"code": "metrics_unauthorized", "message": "bearer token needed"}},
                    status_code=401,
                )
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    return Starlette(routes=routes)


class _QuietServer(uvicorn.Server):
    """A server beside the worker: the worker's own signal handling stops both."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def work_with_probes(settings: Settings, engine: Engine) -> None:
    """Run ingestion jobs until SIGTERM, with the probes' endpoint beside them."""
    if not settings.worker_port:
        await engine.work()
        return
    config = uvicorn.Config(
        worker_app(settings, engine),
        host=settings.host,
        port=settings.worker_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
    )
    server = _QuietServer(config)

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind: the jobs matter more
            log.warning(
                "the worker's probes are not served: port taken",
                extra={"port": settings.worker_port},
            )

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        try:
            await engine.work()
        finally:
            server.should_exit = True
