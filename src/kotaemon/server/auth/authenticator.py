"""The principal of a request, from a bearer token (OIDC access token or API key) or a browser
session cookie; rate limits per client address and per principal.

Under ``auth=none`` (loopback only) every caller is the local admin. Cookie sessions need the
``X-CSRF-Token`` header on every request that changes something; bearer tokens do not (a browser
never sends them by itself).
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request

from kotaemon.cache.redis import SharedRedis
from kotaemon.core.errors import (
    AuthenticationError,
    KotaemonError,
    PermissionDeniedError,
    RateLimitedError,
)
from kotaemon.core.principal import Principal
from kotaemon.observability.stages import stage
from kotaemon.server.auth.claims import ClaimMapping
from kotaemon.server.auth.oidc import OIDCProvider
from kotaemon.server.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    client_address,
)
from kotaemon.settings import Settings
from kotaemon.store.security import API_KEY_PREFIX, SecurityStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "kotaemon_session"
LOGIN_COOKIE = "kotaemon_login"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Authenticator:
    """Turns requests into principals.

    Example::

        authenticator = Authenticator(settings)
        await authenticator.open(engine.redis)
        principal = await authenticator.authenticate(request, SecurityStore(store))
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.provider: OIDCProvider | None = None
        if settings.auth == "oidc":
            assert settings.oidc_issuer is not None  # checked by Settings
            self.provider = OIDCProvider(
                settings.oidc_issuer,
                audience=settings.oidc_audience or settings.oidc_client_id,
                leeway=settings.oidc_clock_skew_seconds,
                min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds,
            )
        self.mapping = ClaimMapping(
            user_claim=settings.oidc_user_claim,
            groups_claim=settings.oidc_groups_claim,
            roles_claim=settings.oidc_roles_claim,
            scope_map=settings.oidc_scope_map,
            attribute_claims=settings.oidc_attribute_claims,
            admin_groups=frozenset(settings.oidc_admin_groups),
        )
        self.limiter: RateLimiter = MemoryRateLimiter()

    async def open(self, redis: SharedRedis | None) -> None:
        """Reach the identity provider; rate limits go to ``redis`` (the engine's), or stay in
        this process without it."""
        if redis is not None:
            self.limiter = RedisRateLimiter(redis, fail_open=self.settings.rate_limit_fail_open)
        else:
            log.info(
                "KOTAEMON_REDIS_URL unset: rate limits are kept in this process "
                "(single-replica mode)"
            )
        if self.provider is not None:
            try:
                await self.provider.metadata()
            except KotaemonError as exc:  # a provider down at start-up is retried per request
                log.warning("the identity provider is not reachable yet: %s", exc)

    async def close(self) -> None:
        await self.limiter.close()
        if self.provider is not None:
            await self.provider.close()

    def client_ip(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(
            peer, request.headers.get("x-forwarded-for"), self.settings.trusted_proxies
        )

    async def authenticate(self, request: Request, security: SecurityStore) -> Principal:
        """:raises AuthenticationError: without valid credentials.
        :raises PermissionDeniedError: for a cookie request without its CSRF token.
        :raises RateLimitedError: past the limits."""
        await self.limit_address(request)
        with stage("auth", span="authenticate"):
            principal = await self._principal(request, security)
        await self.limit(f"user:{principal.user_id}", self.settings.rate_limit_per_minute)
        return principal

    async def limit_address(self, request: Request) -> None:
        """The per-address limit (checked before any credential is looked at)."""
        await self.limit(f"ip:{self.client_ip(request)}", self.settings.rate_limit_ip_per_minute)

    async def limit(self, key: str, per_minute: int) -> None:
        if per_minute <= 0:
            return
        wait = await self.limiter.take(key, per_minute)
        if wait > 0:
            raise RateLimitedError(
                f"too many requests (limit {per_minute} a minute); retry in {wait:.0f} s",
                retry_after=wait,
            )

    async def _principal(self, request: Request, security: SecurityStore) -> Principal:
        if self.settings.auth == "none":
            return Principal.local(self.settings.local_attributes)
        authorization = request.headers.get("authorization")
        if authorization is not None:
            return await self._bearer(authorization, security)
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            found = await security.session(session_id)
            if found is None:
                raise AuthenticationError(
                    "your session has ended; sign in again at /auth/login",
                    code="session_expired",
                )
            principal, csrf = found
            sent = request.headers.get("x-csrf-token", "")
            if request.method in _UNSAFE_METHODS and not hmac.compare_digest(sent, csrf):
                raise PermissionDeniedError(
                    "send the X-CSRF-Token header given by GET /auth/session", code="csrf_failed"
                )
            return principal
        raise AuthenticationError(
            "sign in: send `Authorization: Bearer <token>` (an access token from your identity "
            "provider, or an API key), or sign in with a browser at /auth/login",
            error="invalid_request",
        )

    async def _bearer(self, authorization: str, security: SecurityStore) -> Principal:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(
                "the Authorization header must be `Bearer <token>`", error="invalid_request"
            )
        if token.startswith(API_KEY_PREFIX):
            check = await security.check_api_key(token)
            if check.principal is None:
                raise AuthenticationError(
                    f"the API key is {check.problem}; ask an admin for a new one",
                    code="invalid_api_key",
                )
            return check.principal
        assert self.provider is not None
        return self.mapping.principal(await self.provider.verify(token))
