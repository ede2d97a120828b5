"""Token claims to a principal: who, which groups, which scopes, which attributes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kotaemon.core.errors import AuthenticationError
from kotaemon.core.principal import ALL_SCOPES, Principal


@dataclass(frozen=True)
class ClaimMapping:
    """How an issuer's claims name things. Dotted names reach nested claims.

    Example::

        mapping = ClaimMapping(groups_claim="groups", scope_map={"chat": "kotaemon.chat"},
                               attribute_claims={"customer_id": "customer_id"})
        principal = mapping.principal(claims)
    """

    user_claim: str = "sub"
    groups_claim: str = "groups"
    roles_claim: str = "roles"
    scope_map: dict[str, str] = field(default_factory=dict)
    attribute_claims: dict[str, str] = field(default_factory=dict)
    admin_groups: frozenset[str] = frozenset()

    def principal(self, claims: dict[str, Any]) -> Principal:
        granted = set(_strings(claim(claims, "scope"))) | set(_strings(claim(claims, "scp")))
        granted |= set(_strings(claim(claims, self.roles_claim)))
        scopes = frozenset(s for s in ALL_SCOPES if self.scope_map.get(s, s) in granted)
        groups = frozenset(_strings(claim(claims, self.groups_claim)))
        attributes = {
            name: value
            for name, path in self.attribute_claims.items()
            if (value := claim(claims, path)) is not None
        }
        user_id = claim(claims, self.user_claim)
        if not isinstance(user_id, str) or not user_id.strip():
            raise AuthenticationError(
                f"invalid bearer token: it has no {self.user_claim!r} claim to identify the user",
                code="invalid_token",
            )
        name = claims.get("name") or claims.get("preferred_username") or claims.get("email")
        return Principal(
            user_id=user_id,
            display_name=str(name or ""),
            groups=groups,
            scopes=scopes,
            attributes=attributes,
            is_admin="admin" in scopes or bool(groups & self.admin_groups),
        )


def claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> Iterable[str]:
    """A space-separated string or a list of strings, as strings."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return ()
