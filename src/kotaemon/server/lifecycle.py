"""The process's life: the engine opened at start-up and closed at exit, and draining.

Draining starts when a shutdown signal arrives (see :mod:`kotaemon.server.runner`): from then on
``/readyz`` fails, so a load balancer stops sending new requests while in-flight ones finish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from fastapi import FastAPI

from kotaemon.engine import Engine


class Lifecycle:
    """Whether the process is shutting down; set from a signal handler, read by ``/readyz``."""

    def __init__(self) -> None:
        self.draining = False

    def start_draining(self) -> None:
        self.draining = True


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Open the engine for the app's lifetime; requests find it as ``request.state.engine``.

    With ``app.state.with_worker``, the process also runs ingestion jobs until it stops.
    """
    authenticator = app.state.authenticator
    try:
        # No default principal: a request that forgot to pass its caller fails, never runs as admin.
        engine = Engine(app.state.settings, local_user=False)
        async with engine, anyio.create_task_group() as tg:
            await authenticator.open(engine.redis)
            if app.state.with_worker:
                tg.start_soon(partial(engine.work, install_signal_handlers=False))
            yield {"engine": engine}
            tg.cancel_scope.cancel()
    finally:
        await authenticator.close()
