"""What routes depend on, as ``Annotated`` aliases: the engine, the settings and the caller.

Authentication arrives later by replacing :func:`current_principal` alone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kotaemon.core.errors import StoreError
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.observability.logging import USER_ID
from kotaemon.settings import Settings
from kotaemon.store.postgres import PostgresStore


async def current_principal() -> Principal:
    """Who is calling. Without authentication (loopback only): the local user."""
    principal = Principal.local()
    USER_ID.set(principal.user_id)  # for every log line of the request
    return principal


async def get_engine(request: Request) -> Engine:
    return request.state.engine


async def get_store(request: Request) -> PostgresStore:
    store = request.state.engine.store
    if store is None:
        raise StoreError("the database is not open yet; retry shortly")
    return store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[PostgresStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
