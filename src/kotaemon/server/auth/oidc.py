"""An OAuth2 resource server's side of OpenID Connect: discovery, keys, token checks, and the
authorization-code exchange of browser sign-in.

Only asymmetric signatures are accepted (RS256, ES256): ``none`` and HMAC algorithms are refused
before any key is looked at, so a token "signed" with the public key as an HMAC secret never
verifies. Keys come from the issuer's JWKS and are cached; a token naming an unknown key id
triggers one refetch, at most every ``min_refresh_seconds`` (keys rotate; attackers guess).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import httpx
import jwt

from kotaemon.core.errors import AuthenticationError, UnavailableError

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256")
_KEY_TYPES = {"RS256": "RSA", "ES256": "EC"}


class OIDCProvider:
    """One issuer: its endpoints, its keys, and checks of the tokens it signs.

    Example::

        provider = OIDCProvider("https://login.example.com/realms/acme", audience="kotaemon")
        claims = await provider.verify(token)          # raises AuthenticationError
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | None,
        leeway: int = 60,
        min_refresh_seconds: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.leeway = leeway
        self.min_refresh_seconds = min_refresh_seconds
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_read_at = -1e9
        self._lock = anyio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (read once)."""
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer", "").rstrip("/") != self.issuer:
                raise UnavailableError(
                    f"the discovery document at {url} names another issuer; check "
                    "KOTAEMON_OIDC_ISSUER",
                    code="auth_unavailable",
                )
            self._metadata = document
        return self._metadata

    async def endpoint(self, name: str) -> str:
        """One URL of the discovery document (``token_endpoint``, ``jwks_uri``…)."""
        value = (await self.metadata()).get(name)
        if not isinstance(value, str):
            raise _unavailable(f"the identity provider's discovery document has no {name}")
        return value

    async def verify(
        self, token: str, *, audience: str | None = None, nonce: str | None = None
    ) -> dict[str, Any]:
        """The claims of a valid token.

        :raises AuthenticationError: for any token that does not hold, with a reason that
            reveals nothing about the keys.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid("the token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise _invalid(f"tokens signed with {algorithm!r} are not accepted; use RS256 or ES256")
        key = await self._key(header.get("kid"))
        if _KEY_TYPES[algorithm] != key.key_type:
            raise _invalid(f"the key named by the token does not sign {algorithm}")
        expected_audience = audience or self.audience
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=expected_audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iss", "sub"] + (["aud"] if expected_audience else []),
                    "verify_aud": expected_audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("the token has expired; get a new one") from None
        except jwt.ImmatureSignatureError:
            raise _invalid("the token is not valid yet (nbf)") from None
        except jwt.InvalidIssuerError:
            raise _invalid("the token is from another issuer") from None
        except jwt.InvalidAudienceError:
            raise _invalid("the token is for another audience") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            raise _invalid("the token's signature or claims do not verify") from None
        if nonce is not None and claims.get("nonce") != nonce:
            raise _invalid("the ID token answers another sign-in (nonce)")
        return claims

    async def exchange_code(
        self,
        *,
        code: str,
        code_verifier: str,
        redirect_uri: str,
        client_id: str,
        client_secret: str | None,
    ) -> dict[str, Any]:
        """The token endpoint's answer to an authorization code (with its PKCE verifier)."""
        endpoint = await self.endpoint("token_endpoint")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
        }
        # A confidential client authenticates with its secret; a public one only by PKCE.
        auth = httpx.BasicAuth(client_id, client_secret) if client_secret else None
        try:
            response = await self._http.request("POST", endpoint, data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"the identity provider is unreachable ({type(exc).__name__}); retry",
                code="auth_unavailable",
            ) from exc
        if response.status_code != 200:
            raise AuthenticationError(
                "the identity provider refused the sign-in code; sign in again",
                code="sign_in_failed",
            )
        try:
            tokens = response.json()
        except ValueError:
            tokens = None
        if not isinstance(tokens, dict):
            raise _unavailable("the identity provider's token endpoint answered no JSON object")
        return tokens

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh_keys()
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise _invalid("the token is signed with a key the issuer does not publish")

    def _may_refresh(self) -> bool:
        return time.monotonic() - self._keys_read_at >= self.min_refresh_seconds

    async def _refresh_keys(self) -> None:
        uri = await self.endpoint("jwks_uri")
        self._keys_read_at = time.monotonic()
        document = await self._get_json(uri)
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("use", "sig") != "sig" or entry.get("kty") not in ("RSA", "EC"):
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                log.warning(
                    "skipping an unusable key of the issuer", extra={"kid": entry.get("kid")}
                )
                continue
            keys[entry.get("kid")] = key
        self._keys = keys
        log.info("read the issuer's signing keys", extra={"keys": len(keys)})

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            return document
        except (httpx.HTTPError, ValueError) as exc:
            raise UnavailableError(
                f"cannot read {url} from the identity provider ({type(exc).__name__}); "
                "check KOTAEMON_OIDC_ISSUER and that the provider is up",
                code="auth_unavailable",
            ) from exc


def _unavailable(reason: str) -> UnavailableError:
    return UnavailableError(f"{reason}; check the provider", code="auth_unavailable")


def _invalid(reason: str) -> AuthenticationError:
    return AuthenticationError(f"invalid bearer token: {reason}", code="invalid_token")
