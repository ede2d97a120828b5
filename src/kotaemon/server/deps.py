"""What routes depend on, as ``Annotated`` aliases: the engine, the settings and the caller.

A route names the scope it needs by the principal it takes: ``ChatPrincipal`` (scope ``chat``),
``ReaderPrincipal`` (``documents:read``), ``WriterPrincipal`` (``documents:write``),
``EvalPrincipal`` (``eval``), ``AdminPrincipal`` (``admin``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from kotaemon.core.errors import PermissionDeniedError
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.observability.logging import USER_ID
from kotaemon.server.auth.authenticator import Authenticator
from kotaemon.settings import Settings
from kotaemon.store.postgres import PostgresStore
from kotaemon.store.security import SecurityStore


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.state.engine
    return engine


async def get_store(request: Request) -> PostgresStore:
    store: PostgresStore = request.state.engine.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_security(request: Request) -> SecurityStore:
    return (await get_store(request)).security


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def current_principal(request: Request) -> Principal:
    """Who is calling (rate-limited); without authentication (loopback only) the local user."""
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(request, await get_security(request))
    USER_ID.set(principal.user_id)  # for every log line of the request
    request.state.principal = principal
    return principal


def requires(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold ``scope``."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_scope(scope):
            raise PermissionDeniedError(
                f"this needs the {scope!r} scope, which your token or key does not grant",
                code="insufficient_scope",
            )
        return principal

    return check


#: ``Idempotency-Key``: a client's key for one question; asking again with it gives the answer
#: recorded the first time (a retry after a lost connection records nothing twice).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Asking again with the same key (printable ASCII, at most 255) gives the "
        "answer recorded the first time, and records nothing new.",
    ),
]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
ChatPrincipal = Annotated[Principal, Depends(requires("chat"))]
ReaderPrincipal = Annotated[Principal, Depends(requires("documents:read"))]
EvalPrincipal = Annotated[Principal, Depends(requires("eval"))]
WriterPrincipal = Annotated[Principal, Depends(requires("documents:write"))]
AdminPrincipal = Annotated[Principal, Depends(requires("admin"))]
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[PostgresStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SecurityDep = Annotated[SecurityStore, Depends(get_security)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]
