"""Run the service on uvicorn, with a graceful shutdown on SIGTERM.

On SIGTERM (or Ctrl-C) the app starts draining at once, so ``/readyz`` fails, and keeps serving
for ``KOTAEMON_SHUTDOWN_DRAIN_SECONDS`` while load balancers take it out of rotation; then
uvicorn stops accepting connections and gives in-flight requests
``KOTAEMON_SHUTDOWN_GRACE_SECONDS`` to finish before it cancels them, and the engine closes. A
second signal stops at once.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI

from kotaemon.server.app import create_app
from kotaemon.server.lifecycle import Lifecycle
from kotaemon.settings import Settings

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn's server, which tells the app it is draining as soon as a signal arrives, and
    stops only after the drain delay.

    Example::

        server, app = build_server(settings)    # Server(config, app.state.lifecycle, drain=5)
        server.run()                             # SIGTERM: /readyz fails, 5 s later a graceful stop
    """

    def __init__(
        self, config: uvicorn.Config, lifecycle: Lifecycle, *, drain_seconds: float = 0.0
    ) -> None:
        super().__init__(config)
        self.lifecycle = lifecycle
        self.drain_seconds = drain_seconds
        self._timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.lifecycle.draining or self.drain_seconds <= 0:  # a second signal: stop now
            if self._timer is not None:
                self._timer.cancel()
            self.lifecycle.start_draining()
            super().handle_exit(sig, frame)
            return
        self.lifecycle.start_draining()
        log.info("draining: /readyz fails; stopping in %.1f s", self.drain_seconds)
        self._timer = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
        self._timer.daemon = True
        self._timer.start()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """As uvicorn's, but a graceful stop exits 0: uvicorn re-raises the signal it caught
        (exit status -15), which an orchestrator would count as a crash."""
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def build_server(settings: Settings, *, with_worker: bool = False) -> tuple[Server, FastAPI]:
    """A server for a new app, on the settings' host and port."""
    app = create_app(settings, with_worker=with_worker)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        lifespan="on",  # a failure to open the engine stops the start-up
        ws="none",
        log_config=None,  # logging is set up by the CLI; uvicorn's loggers propagate to it
        access_log=False,  # the telemetry middleware logs each request, with its ids
        proxy_headers=False,  # X-Forwarded-For is believed per KOTAEMON_TRUSTED_PROXIES only
        server_header=False,
    )
    return Server(config, app.state.lifecycle, drain_seconds=settings.shutdown_drain_seconds), app


def serve(settings: Settings, *, with_worker: bool = False) -> None:
    """Serve until SIGTERM or Ctrl-C."""
    server, _ = build_server(settings, with_worker=with_worker)
    if settings.auth == "none" and not settings.local_mode:
        log.warning(
            "SERVING ON %s WITHOUT AUTHENTICATION (KOTAEMON_ALLOW_PUBLIC_WITHOUT_AUTH): every "
            "caller acts as the local admin; only safe behind a gateway that authenticates",
            settings.host,
        )
    url = f"http://{settings.host}:{settings.port}"
    log.info("kotaemon will serve at %s (API reference at %s/docs)", url, url)
    server.run()
