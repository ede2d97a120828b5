"""The app factory: ``create_app(settings)`` wires routes, error handlers and limits.

Settings are built by the caller (``kotaemon serve``, a test), never at import time.
"""

from __future__ import annotations

from importlib.metadata import version

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from kotaemon.observability.tracing import setup_tracing
from kotaemon.server.auth.authenticator import Authenticator
from kotaemon.server.errors import install_error_handlers
from kotaemon.server.lifecycle import Lifecycle, lifespan
from kotaemon.server.limits import (
    BodySizeLimitMiddleware,
    ConcurrencyLimitMiddleware,
    RequestTimeoutMiddleware,
)
from kotaemon.server.routes import (
    admin,
    auth,
    chat,
    collections,
    conversations,
    documents,
    evals,
    health,
    metrics,
    openai_compatible,
    search,
)
from kotaemon.server.telemetry import TelemetryMiddleware
from kotaemon.settings import Settings

#: Where the reference pages' scripts and styles are served (from the fastapi-offline package).
DOCS_ASSETS = "/docs-assets"


def create_app(settings: Settings, *, with_worker: bool = False) -> FastAPI:
    """The HTTP service; its lifespan opens the :class:`~kotaemon.engine.Engine`.

    :param with_worker: also run ingestion jobs in this process (one-machine installs).
    """
    # The reference pages (/docs, /redoc) load their scripts from this server, never from a
    # CDN: they work offline and behind a default-deny network policy. No online validator.
    app = FastAPIOffline(
        title="kotaemon",
        summary="Cited, streamed answers from your knowledge base.",
        version=version("kotaemon"),
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
    )
    setup_tracing()
    app.state.settings = settings
    app.state.with_worker = with_worker
    app.state.authenticator = Authenticator(settings)
    app.state.lifecycle = Lifecycle()
    install_error_handlers(app)
    # Added innermost first: telemetry, then the concurrency limit, see a request first.
    app.add_middleware(RequestTimeoutMiddleware, seconds=settings.request_timeout_seconds)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        upload_path=documents.UPLOAD_PATH,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=settings.max_concurrent_requests,
        exempt_paths=health.HEALTH_PATHS,
    )
    # Outermost: it sees every response. Routes are labelled by their OpenAPI templates.
    app.add_middleware(TelemetryMiddleware, templates=lambda: app.openapi()["paths"])
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(chat.router, prefix="/v1")
    app.include_router(search.router, prefix="/v1")
    app.include_router(collections.router, prefix="/v1")
    app.include_router(documents.router, prefix="/v1")
    app.include_router(conversations.router, prefix="/v1")
    app.include_router(evals.router, prefix="/v1")
    app.include_router(admin.router, prefix="/v1")
    app.include_router(auth.router)
    app.include_router(openai_compatible.router, prefix="/v1")
    return app
