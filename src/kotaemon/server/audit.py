"""Writes to the audit log with the request's ids and the client's address."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from kotaemon.core.principal import Principal
from kotaemon.observability.logging import REQUEST_ID
from kotaemon.observability.tracing import current_ids


async def audit(request: Request, principal: Principal, action: str, **fields: Any) -> None:
    """Append ``action`` by ``principal`` (``resource``, ``answer_id``, ``details``)."""
    await request.state.engine.store.security.audit(
        principal,
        action,
        request_id=REQUEST_ID.get(),
        trace_id=current_ids()[0],
        client_ip=request.app.state.authenticator.client_ip(request),
        **fields,
    )
