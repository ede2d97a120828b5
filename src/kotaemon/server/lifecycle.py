"""The process's life: the engine opened at start-up and closed at exit, and draining.

Draining starts when a shutdown signal arrives (see :mod:`kotaemon.server.runner`): from then on
``/readyz`` fails, so a load balancer stops sending new requests while in-flight ones finish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
    """Open the engine for the app's lifetime; requests find it as ``request.state.engine``."""
    async with Engine(app.state.settings) as engine:
        yield {"engine": engine}
