"""``/v1/admin``: API keys for service accounts, the audit log, and erasing a user's data.

Every route needs the ``admin`` scope, and every change is itself audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from kotaemon.server.audit import audit
from kotaemon.server.deps import AdminPrincipal, SecurityDep
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.store.security import ApiKeyInfo, AuditEvent

router = APIRouter(prefix="/admin", tags=["admin"])

Scope = Literal["chat", "documents:read", "documents:write", "eval", "admin"]


class ApiKeyCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    scopes: list[Scope] = Field(min_length=1)
    user_id: str | None = Field(
        default=None,
        max_length=200,
        description="Whom the key acts as (default: service:<name>); it owns what it creates.",
    )
    groups: list[str] = Field(default_factory=list, max_length=100)
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Principal attributes, e.g. a customer_id for tools."
    )
    expires_in_days: int = Field(default=90, ge=1, le=3650)


class ApiKeyCreated(BaseModel):
    key: str = Field(description="The key, shown this once: store it now.")
    api_key: ApiKeyInfo


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyInfo]


class AuditLog(BaseModel):
    events: list[AuditEvent]


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key for a service account (the key is shown once)",
    responses=error_responses(400, 422, *COMMON_ERRORS),
)
async def create_api_key(
    body: ApiKeyCreate, request: Request, admin: AdminPrincipal, security: SecurityDep
) -> ApiKeyCreated:
    key, info = await security.create_api_key(
        admin,
        name=body.name,
        user_id=body.user_id or f"service:{body.name}",
        scopes=list(body.scopes),
        groups=body.groups,
        attributes=body.attributes,
        expires_at=datetime.now(UTC) + timedelta(days=body.expires_in_days),
    )
    await audit(request, admin, "api_key.create", resource=info.id, details={"name": info.name})
    return ApiKeyCreated(key=key, api_key=info)


@router.get("/api-keys", summary="List API keys", responses=error_responses(*COMMON_ERRORS))
async def list_api_keys(admin: AdminPrincipal, security: SecurityDep) -> ApiKeyList:
    return ApiKeyList(api_keys=await security.api_keys())


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke an API key",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def revoke_api_key(
    key_id: str, request: Request, admin: AdminPrincipal, security: SecurityDep
) -> None:
    await security.revoke_api_key(key_id)
    await audit(request, admin, "api_key.revoke", resource=key_id)


@router.get(
    "/audit",
    summary="Query the audit log: who asked what, when, with which sources and tools",
    responses=error_responses(422, *COMMON_ERRORS),
)
async def audit_log(
    admin: AdminPrincipal,
    security: SecurityDep,
    user_id: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditLog:
    events = await security.audit_events(
        user_id=user_id, action=action, since=since, until=until, limit=limit
    )
    return AuditLog(events=events)


@router.delete(
    "/users/{user_id}/data",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Erase one user's conversations, answers, feedback and sessions",
    responses=error_responses(422, *COMMON_ERRORS),
)
async def erase_user(
    user_id: str,
    request: Request,
    admin: AdminPrincipal,
    security: SecurityDep,
    include_audit: bool = False,
) -> None:
    await security.erase_user(user_id, include_audit=include_audit)
    await audit(
        request, admin, "user.erase", resource=user_id, details={"include_audit": include_audit}
    )
