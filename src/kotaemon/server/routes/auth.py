"""Browser sign-in: the authorization-code flow with PKCE against the OIDC provider.

``GET /auth/login`` sends the browser to the provider; ``GET /auth/callback`` checks the answer
(state bound to this browser by a cookie, PKCE verifier, ID token and nonce) and starts a session
(an HttpOnly, SameSite=Lax cookie, Secure over HTTPS); ``GET /auth/session`` tells the page who
is signed in and the CSRF token to send with changes; ``POST /auth/logout`` ends the session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from kotaemon.core.errors import AuthenticationError, NotFoundError
from kotaemon.server.auth.authenticator import LOGIN_COOKIE, SESSION_COOKIE, Authenticator
from kotaemon.server.auth.oidc import OIDCProvider
from kotaemon.server.deps import AuthenticatorDep, CurrentPrincipal, SecurityDep, SettingsDep
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])


class SessionInfo(BaseModel):
    user_id: str
    display_name: str
    groups: list[str]
    scopes: list[str]
    is_admin: bool
    attributes: dict[str, Any]
    csrf_token: str | None = None


@router.get(
    "/login",
    status_code=302,
    response_class=RedirectResponse,
    summary="Sign in with the identity provider (redirects there)",
    responses={
        302: {"description": "To the provider's sign-in page."},
        **error_responses(404, 422, 503),
    },
)
async def login(
    request: Request,
    authenticator: AuthenticatorDep,
    security: SecurityDep,
    settings: SettingsDep,
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> RedirectResponse:
    provider, client_id = _browser_flow(authenticator, settings)
    await authenticator.limit_address(request)  # each sign-in start writes a row
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    state = await security.start_login(
        code_verifier=verifier, nonce=nonce, next_path=_local_path(next)
    )
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": _callback_url(settings),
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    endpoint = await provider.endpoint("authorization_endpoint")
    response = RedirectResponse(f"{endpoint}?{urlencode(query)}", status_code=302)
    _set_cookie(response, settings, LOGIN_COOKIE, state, max_age=600)
    return response


@router.get(
    "/callback",
    status_code=302,
    response_class=RedirectResponse,
    summary="Where the identity provider sends the browser back; starts the session",
    responses={
        302: {"description": "To the page sign-in started from."},
        **error_responses(401, 404, 422, 503),
    },
)
async def callback(
    request: Request,
    authenticator: AuthenticatorDep,
    security: SecurityDep,
    settings: SettingsDep,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    provider, client_id = _browser_flow(authenticator, settings)
    await authenticator.limit_address(request)
    if error or not code or not state:
        raise AuthenticationError(
            f"the sign-in did not complete ({error or 'no code'}); sign in again at /auth/login",
            code="sign_in_failed",
        )
    # The state must be the one this browser started with (no login CSRF), and unused.
    if not secrets.compare_digest(request.cookies.get(LOGIN_COOKIE, ""), state):
        raise AuthenticationError(
            "this sign-in was not started by this browser; sign in again", code="sign_in_failed"
        )
    started = await security.take_login(state)
    if started is None:
        raise AuthenticationError(
            "this sign-in expired or was used already; sign in again", code="sign_in_failed"
        )
    tokens = await provider.exchange_code(
        code=code,
        code_verifier=started["code_verifier"],
        redirect_uri=_callback_url(settings),
        client_id=client_id,
        client_secret=settings.oidc_client_secret.reveal() if settings.oidc_client_secret else None,
    )
    claims = await provider.verify(
        str(tokens.get("id_token", "")), audience=client_id, nonce=started["nonce"]
    )
    principal = authenticator.mapping.principal(claims)
    expires = datetime.now(UTC) + timedelta(hours=settings.session_hours)
    session_id, _ = await security.start_session(principal, expires_at=expires)
    await security.audit(principal, "sign_in", client_ip=authenticator.client_ip(request))
    response = RedirectResponse(started["next_path"], status_code=302)
    _set_cookie(
        response, settings, SESSION_COOKIE, session_id, max_age=int(settings.session_hours * 3600)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/auth")
    return response


@router.get(
    "/session",
    summary="Who is signed in, and the CSRF token to send as X-CSRF-Token",
    responses=error_responses(*COMMON_ERRORS),
)
async def session(
    request: Request, principal: CurrentPrincipal, security: SecurityDep
) -> SessionInfo:
    csrf = None
    if session_id := request.cookies.get(SESSION_COOKIE):
        found = await security.session(session_id)
        csrf = found[1] if found else None
    return SessionInfo(
        user_id=principal.user_id,
        display_name=principal.display_name,
        groups=sorted(principal.groups),
        scopes=sorted(principal.scopes),
        is_admin=principal.is_admin,
        attributes=principal.attributes,
        csrf_token=csrf,
    )


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="Sign out: end the browser session",
    responses=error_responses(*COMMON_ERRORS),
)
async def logout(
    request: Request, principal: CurrentPrincipal, security: SecurityDep, settings: SettingsDep
) -> Response:
    if session_id := request.cookies.get(SESSION_COOKIE):
        await security.end_session(session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(settings), httponly=True)
    return response


def _browser_flow(authenticator: Authenticator, settings: Settings) -> tuple[OIDCProvider, str]:
    if authenticator.provider is None or not settings.oidc_client_id or not settings.public_url:
        raise NotFoundError(
            "browser sign-in is not set up here: it needs KOTAEMON_AUTH=oidc, "
            "KOTAEMON_OIDC_CLIENT_ID and "
            "KOTAEMON_PUBLIC_URL",
            code="sign_in_unavailable",
        )
    return authenticator.provider, settings.oidc_client_id


def _callback_url(settings: Settings) -> str:
    assert settings.public_url is not None
    return settings.public_url.rstrip("/") + "/auth/callback"


def _local_path(next_path: str) -> str:
    """Only a path of this site: a sign-in must not become an open redirect."""
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path


def _secure(settings: Settings) -> bool:
    return (settings.public_url or "").startswith("https://")


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/auth" if name == LOGIN_COOKIE else "/",
        httponly=True,
        secure=_secure(settings),
        samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site posts
    )
