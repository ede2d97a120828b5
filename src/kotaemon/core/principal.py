"""Who a call runs for: every retrieval and tool call takes a principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kotaemon.core.errors import KotaemonError

#: Scopes known to the engine; the service maps token scopes onto these names.
ALL_SCOPES = frozenset({"chat", "documents:read", "documents:write", "eval", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: identity, groups, scopes and claim-derived attributes.

    ``Principal.local()`` is the single user of a loopback-only install (``auth=none``): it owns
    what it creates and may do everything.
    """

    user_id: str
    display_name: str = ""
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    is_admin: bool = False

    @classmethod
    def local(cls, attributes: dict[str, Any] | None = None) -> Principal:
        return cls(
            user_id="local",
            display_name="Local user",
            scopes=ALL_SCOPES,
            attributes=dict(attributes or {}),
            is_admin=True,
        )

    def has_scope(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes

    def to_json(self) -> dict[str, Any]:
        """A JSON object (sessions keep the principal they act for)."""
        return {
            "user_id": self.user_id,
            "display_name": self.display_name,
            "groups": sorted(self.groups),
            "scopes": sorted(self.scopes),
            "attributes": self.attributes,
            "is_admin": self.is_admin,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Principal:
        return cls(
            user_id=data["user_id"],
            display_name=data.get("display_name", ""),
            groups=frozenset(data.get("groups", ())),
            scopes=frozenset(data.get("scopes", ())),
            attributes=dict(data.get("attributes", {})),
            is_admin=bool(data.get("is_admin", False)),
        )


def require_principal(principal: Principal | None) -> Principal:
    """``principal``, which must be given: inside the service a call without one is a bug, and
    must fail rather than run as the local admin.

    :raises KotaemonError: ``principal_required`` (served as a 500: it is never the caller's
        fault).
    """
    if principal is None:
        raise KotaemonError(
            "no principal was passed: pass the caller's principal (or build the component "
            "with one, e.g. Principal.local() on a one-machine install)",
            code="principal_required",
        )
    return principal
