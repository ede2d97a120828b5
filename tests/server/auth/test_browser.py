"""Browser sign-in over real HTTP: authorization code with PKCE against our own provider, a
session cookie that is HttpOnly, Secure and SameSite, CSRF protection, and sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ...fakes.oidc_provider import CLIENT_ID, FakeOIDCProvider
from ..conftest import LiveServer, error_of
from .conftest import PUBLIC_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def http(secure_server: LiveServer) -> Iterator[httpx.Client]:
    with secure_server.client(follow_redirects=False) as client:
        yield client


def _cookie(response: httpx.Response, name: str) -> SimpleCookie:
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie(header)
        if name in jar:
            return jar
    raise AssertionError(f"no {name} cookie in {response.headers}")


def _sign_in(http: httpx.Client, next_path: str = "/v1/collections") -> tuple[str, str, str]:
    """Runs the flow as a browser would; returns (session id, landing path, login state)."""
    start = http.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    login = _cookie(start, "kotaemon_login")["kotaemon_login"]
    assert login["httponly"] and login["secure"] and login["samesite"].lower() == "lax"
    to_idp = urlsplit(start.headers["location"])
    query = parse_qs(to_idp.query)
    assert query["client_id"] == [CLIENT_ID] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/auth/callback"]
    assert len(query["code_challenge"][0]) == 43 and query["state"][0] == login.value
    back = httpx.get(start.headers["location"], follow_redirects=False)  # the provider
    assert back.headers["location"].startswith(f"{PUBLIC_URL}/auth/callback?")
    callback = urlsplit(back.headers["location"])
    landed = http.get(
        f"/auth/callback?{callback.query}", headers={"Cookie": f"kotaemon_login={login.value}"}
    )
    assert landed.status_code == 302, landed.text
    session = _cookie(landed, "kotaemon_session")["kotaemon_session"]
    assert session["httponly"] and session["secure"] and session["samesite"].lower() == "lax"
    return session.value, landed.headers["location"], login.value


def test_sign_in_gives_a_session_that_needs_csrf_for_changes(
    http: httpx.Client, idp: FakeOIDCProvider
) -> None:
    session_id, landing, _ = _sign_in(http)
    assert landing == "/v1/collections"
    cookie = {"Cookie": f"kotaemon_session={session_id}"}
    who = http.get("/auth/session", headers=cookie).json()
    assert who["user_id"] == "alice" and who["csrf_token"]
    assert http.get("/v1/collections", headers=cookie).status_code == 200

    create = {"name": "browser-notes"}
    no_csrf = http.post("/v1/collections", json=create, headers=cookie)
    assert no_csrf.status_code == 403 and error_of(no_csrf)["code"] == "csrf_failed"
    wrong = http.post("/v1/collections", json=create, headers=cookie | {"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    with_csrf = cookie | {"X-CSRF-Token": who["csrf_token"]}
    assert http.post("/v1/collections", json=create, headers=with_csrf).status_code == 201

    out = http.post("/auth/logout", headers=with_csrf)
    assert out.status_code == 204
    assert (
        'kotaemon_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    after = http.get("/v1/collections", headers=cookie)
    assert after.status_code == 401 and error_of(after)["code"] == "session_expired"


def test_a_callback_not_started_by_this_browser_or_replayed_is_refused(
    http: httpx.Client,
) -> None:
    start = http.get("/auth/login")
    login = _cookie(start, "kotaemon_login")["kotaemon_login"].value
    back = httpx.get(start.headers["location"], follow_redirects=False)
    query = urlsplit(back.headers["location"]).query
    foreign = http.get(f"/auth/callback?{query}", headers={"Cookie": "kotaemon_login=other"})
    assert foreign.status_code == 401 and error_of(foreign)["code"] == "sign_in_failed"
    ok = http.get(f"/auth/callback?{query}", headers={"Cookie": f"kotaemon_login={login}"})
    assert ok.status_code == 302
    replay = http.get(f"/auth/callback?{query}", headers={"Cookie": f"kotaemon_login={login}"})
    assert replay.status_code == 401
    denied = http.get("/auth/callback?error=access_denied&state=x")
    assert denied.status_code == 401 and "access_denied" in error_of(denied)["message"]


@pytest.mark.parametrize("target", ["https://evil.example.com/", "//evil.example.com", "\\\\evil"])
def test_sign_in_never_redirects_off_site(http: httpx.Client, target: str) -> None:
    _, landing, _ = _sign_in(http, target)
    assert landing == "/"
