"""API keys, browser sign-ins and sessions, the audit log, retention and erasure.

Secrets (API keys, session ids) are stored only as SHA-256 hashes: the database never holds a
credential that works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from kotaemon.core.errors import NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.store.database import Database, is_uuid
from kotaemon.store.queries import query

#: Every API key starts with this, so a bearer token is known for a key without a lookup.
API_KEY_PREFIX = "kot_"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ApiKeyInfo(BaseModel):
    """An API key as admins see it (never the key itself)."""

    id: str
    name: str
    prefix: str
    user_id: str
    scopes: list[str]
    groups: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What a presented key turned out to be: a principal, or why not."""

    principal: Principal | None
    problem: str | None = None  # unknown, revoked, expired


class AuditEvent(BaseModel):
    id: int
    at: datetime
    user_id: str
    action: str
    resource: str | None
    answer_id: str | None
    details: dict[str, Any]
    request_id: str | None
    trace_id: str | None
    client_ip: str | None


class SecurityStore:
    """The security tables of the kotaemon schema.

    Example::

        security = SecurityStore(db)
        key, info = await security.create_api_key(admin, name="crm-bot", ...)
        check = await security.check_api_key(key)
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- API keys ----------------------------------------------------------------------------

    async def create_api_key(
        self,
        creator: Principal,
        *,
        name: str,
        user_id: str,
        scopes: list[str],
        groups: list[str],
        attributes: dict[str, Any],
        expires_at: datetime,
    ) -> tuple[str, ApiKeyInfo]:
        """A new key (returned once, in clear) and its stored description."""
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        params = {
            "name": name,
            "prefix": key[:12],
            "key_hash": digest(key),
            "user_id": user_id,
            "scopes": sorted(set(scopes)),
            "groups": sorted(set(groups)),
            "attributes": Jsonb(attributes),
            "created_by": creator.user_id,
            "expires_at": expires_at,
        }
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("insert_api_key"), params)).fetchone()
        assert row is not None
        return key, _key_info(row)

    async def api_keys(self) -> list[ApiKeyInfo]:
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("list_api_keys"))).fetchall()
        return [_key_info(r) for r in rows]

    async def revoke_api_key(self, key_id: str) -> None:
        """:raises NotFoundError: if there is no such key."""
        row = None
        if is_uuid(key_id):
            async with self.db.connection() as conn:
                row = await (
                    await conn.execute(query("revoke_api_key"), {"key_id": key_id})
                ).fetchone()
        if row is None:
            raise NotFoundError(f"API key {key_id!r} not found", code="api_key_not_found")

    async def check_api_key(self, key: str) -> KeyCheck:
        key_hash = digest(key)
        async with self.db.connection() as conn:
            row = await (
                await conn.execute(query("find_api_key"), {"key_hash": key_hash})
            ).fetchone()
            if row is None:
                return KeyCheck(None, "unknown")
            if row["revoked_at"] is not None:
                return KeyCheck(None, "revoked")
            if row["expires_at"] <= datetime.now(row["expires_at"].tzinfo):
                return KeyCheck(None, "expired")
            await conn.execute(query("use_api_key"), {"key_hash": key_hash})
        principal = Principal(
            user_id=row["user_id"],
            display_name=f"API key {row['name']}",
            groups=frozenset(row["groups"]),
            scopes=frozenset(row["scopes"]),
            attributes=row["attributes"],
            is_admin="admin" in row["scopes"],
        )
        return KeyCheck(principal)

    # --- browser sign-in ---------------------------------------------------------------------

    async def start_login(self, *, code_verifier: str, nonce: str, next_path: str) -> str:
        state = secrets.token_urlsafe(24)
        params = {
            "state": state,
            "code_verifier": code_verifier,
            "nonce": nonce,
            "next_path": next_path,
        }
        async with self.db.connection() as conn:
            await conn.execute(query("insert_login"), params)
        return state

    async def take_login(self, state: str) -> dict[str, str] | None:
        """The sign-in ``state`` names, once (None if unknown, used or too old)."""
        async with self.db.connection() as conn:
            return await (await conn.execute(query("take_login"), {"state": state})).fetchone()

    async def start_session(self, principal: Principal, *, expires_at: datetime) -> tuple[str, str]:
        """A new session: ``(session id for the cookie, CSRF token)``."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        params = {
            "id_hash": digest(session_id),
            "user_id": principal.user_id,
            "principal": Jsonb(principal.to_json()),
            "csrf_token": csrf,
            "expires_at": expires_at,
        }
        async with self.db.connection() as conn:
            await conn.execute(query("insert_session"), params)
        return session_id, csrf

    async def session(self, session_id: str) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a live session."""
        async with self.db.connection() as conn:
            row = await (
                await conn.execute(query("find_session"), {"id_hash": digest(session_id)})
            ).fetchone()
        return (Principal.from_json(row["principal"]), row["csrf_token"]) if row else None

    async def end_session(self, session_id: str) -> None:
        async with self.db.connection() as conn:
            await conn.execute(query("delete_session"), {"id_hash": digest(session_id)})

    # --- audit -------------------------------------------------------------------------------

    async def audit(
        self,
        principal: Principal,
        action: str,
        *,
        resource: str | None = None,
        answer_id: str | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_ip: str | None = None,
    ) -> None:
        params = {
            "user_id": principal.user_id,
            "action": action,
            "resource": resource,
            "answer_id": answer_id,
            "details": Jsonb(details or {}),
            "request_id": request_id,
            "trace_id": trace_id,
            "client_ip": client_ip,
        }
        async with self.db.connection() as conn:
            await conn.execute(query("insert_audit_event"), params)

    async def audit_events(
        self,
        *,
        user_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        params = {
            "user_id": user_id,
            "action": action,
            "since": since,
            "until": until,
            "limit": limit,
        }
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("list_audit_events"), params)).fetchall()
        return [
            AuditEvent(**{**r, "answer_id": str(r["answer_id"]) if r["answer_id"] else None})
            for r in rows
        ]

    # --- retention and erasure ---------------------------------------------------------------

    async def purge(self, *, conversation_days: int, audit_days: int) -> None:
        """Delete what is older than the retention settings, and ended sessions."""
        async with self.db.transaction() as conn:
            await conn.execute(query("purge_old_conversations"), {"days": conversation_days})
            await conn.execute(query("purge_old_answers"), {"days": conversation_days})
            await conn.execute(query("purge_expired_auth"))
            await conn.execute(query("allow_audit_purge"))
            await conn.execute(query("purge_old_audit_events"), {"days": audit_days})

    async def erase_user(self, user_id: str, *, include_audit: bool) -> None:
        """Delete one user's conversations, answers, feedback and sessions, revoke the API keys
        that act as them (and delete their audit rows, if asked)."""
        params = {"user_id": user_id}
        async with self.db.transaction() as conn:
            await conn.execute(query("erase_user_feedback"), params)
            await conn.execute(query("erase_user_conversations"), params)
            await conn.execute(query("erase_user_sessions"), params)
            await conn.execute(query("erase_user_api_keys"), params)
            if include_audit:
                await conn.execute(query("allow_audit_purge"))
                await conn.execute(query("erase_user_audit"), params)


def _key_info(row: dict[str, Any]) -> ApiKeyInfo:
    return ApiKeyInfo(**{**row, "id": str(row["id"])})
