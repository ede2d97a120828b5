"""Probes: ``/healthz`` (the process serves HTTP) and ``/readyz`` (it can serve requests now).

Liveness checks nothing else, so a database outage never gets a healthy pod restarted;
readiness checks the database and fails at once when shutdown begins.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request

from kotaemon.core.errors import KotaemonError, UnavailableError
from kotaemon.core.principal import Principal
from kotaemon.server.errors import error_responses
from kotaemon.server.models import HealthStatus

router = APIRouter(tags=["health"])

#: Paths the concurrency limit never refuses (probes and scrapes of a busy process).
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: How long the database may take to answer the readiness query.
READY_TIMEOUT_SECONDS = 3.0


def _not_ready(message: str) -> UnavailableError:
    return UnavailableError(message, code="not_ready")


@router.get("/healthz", summary="Liveness: the process answers HTTP")
async def healthz() -> HealthStatus:
    return HealthStatus()


@router.get(
    "/readyz",
    summary="Readiness: the engine is open, the database answers, and no shutdown is under way",
    responses=error_responses(503),
)
async def readyz(request: Request) -> HealthStatus:
    if request.app.state.lifecycle.draining:
        raise _not_ready("shutting down")
    engine = getattr(request.state, "engine", None)
    if engine is None:
        raise _not_ready("the engine is not open")
    try:
        with anyio.fail_after(READY_TIMEOUT_SECONDS):
            await engine.store.collections.visible(
                Principal.local(), []
            )  # one indexed, empty query
    except TimeoutError:
        raise _not_ready(
            f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s"
        ) from None
    except KotaemonError as exc:
        raise _not_ready(f"the database is unavailable ({exc.code})") from None
    return HealthStatus()
