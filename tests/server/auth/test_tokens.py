"""The attack catalogue: every forged, stale or misdirected credential is refused with 401, 403
or 404, and nothing leaks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ...fakes.oidc_provider import FakeOIDCProvider
from ..conftest import LiveServer, error_of
from .conftest import USER_SCOPES, bearer

pytestmark = pytest.mark.integration


@pytest.fixture
def http(secure_server: LiveServer) -> Iterator[httpx.Client]:
    with secure_server.client() as client:
        yield client


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(idp: FakeOIDCProvider) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(idp.claims(scope=USER_SCOPES)).encode())}."


def _hs256_with_public_key(idp: FakeOIDCProvider) -> str:
    public = idp.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": idp.rsa_kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(idp.claims(scope=USER_SCOPES)).encode())
    signature = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _unknown_key(idp: FakeOIDCProvider) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(
        idp.claims(scope=USER_SCOPES), stranger, algorithm="RS256", headers={"kid": "evil"}
    )


def _tampered(idp: FakeOIDCProvider) -> str:
    header, _, signature = idp.token(scope=USER_SCOPES).split(".")
    payload = _b64(json.dumps(idp.claims(scope=USER_SCOPES + " admin", sub="root")).encode())
    return f"{header}.{payload}.{signature}"


def _algorithm_swapped(idp: FakeOIDCProvider) -> str:
    """ES256 in the header, naming the issuer's RSA key."""
    return idp.token(algorithm="ES256", kid=idp.rsa_kid, scope=USER_SCOPES)


ATTACKS: dict[str, Callable[[FakeOIDCProvider], str]] = {
    "ES256 naming an RSA key": _algorithm_swapped,
    "no subject": lambda idp: idp.token(scope=USER_SCOPES, sub=None),
    "expired": lambda idp: idp.token(scope=USER_SCOPES, exp=int(time.time()) - 3600),
    "not yet valid": lambda idp: idp.token(scope=USER_SCOPES, nbf=int(time.time()) + 3600),
    "wrong issuer": lambda idp: idp.token(scope=USER_SCOPES, iss="https://evil.example.com"),
    "wrong audience": lambda idp: idp.token(scope=USER_SCOPES, aud="another-api"),
    "no expiry": lambda idp: idp.token(scope=USER_SCOPES, exp=None),
    "alg none": _unsigned,
    "HS256 with the public key": _hs256_with_public_key,
    "unknown kid": _unknown_key,
    "tampered payload": _tampered,
    "not a JWT": lambda idp: "abc.def",
    "an API key that never was": lambda idp: "kot_" + "A" * 43,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_forged_and_stale_tokens_are_refused(
    http: httpx.Client, idp: FakeOIDCProvider, attack: str
) -> None:
    token = ATTACKS[attack](idp)
    response = http.post("/v1/search", json={"query": "late fee"}, headers=bearer(token))
    assert response.status_code == 401, (attack, response.text)
    assert error_of(response)["code"] in ("invalid_token", "invalid_api_key")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert token not in response.text and "chunks" not in response.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YWxpY2U6cGFzcw=="}, {"Authorization": "Bearer"}],
    ids=["no token", "basic auth", "empty bearer"],
)
def test_requests_without_a_bearer_token_are_401(http: httpx.Client, headers: dict) -> None:
    for method, path in [("GET", "/v1/collections"), ("POST", "/v1/chat"), ("GET", "/v1/models")]:
        response = http.request(method, path, headers=headers, json={"question": "hi"})
        assert response.status_code == 401, (path, response.text)
        assert error_of(response)["code"] == "unauthenticated"


def test_probes_and_metrics_need_no_token(http: httpx.Client) -> None:
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200
    assert http.get("/metrics").status_code == 200


def test_valid_rs256_and_es256_tokens_map_to_the_principal(
    http: httpx.Client, idp: FakeOIDCProvider
) -> None:
    for algorithm in ("RS256", "ES256"):
        token = idp.token(algorithm=algorithm)
        who = http.get("/auth/session", headers=bearer(token))
        assert who.status_code == 200, who.text
        body = who.json()
        assert body["user_id"] == "alice" and body["display_name"] == "Alice"
        assert body["groups"] == ["staff"] and not body["is_admin"]
        assert body["scopes"] == ["chat", "documents:read", "documents:write"]  # from roles
        assert body["attributes"] == {"customer_id": "C-1001"}
    found = http.post("/v1/search", json={"query": "late fee"}, headers=bearer(idp.token()))
    assert found.status_code == 200 and found.json()["chunks"]


def test_a_missing_scope_is_403(http: httpx.Client, idp: FakeOIDCProvider) -> None:
    chat_only = idp.token(roles=None, scope="chat")
    refused = http.post("/v1/search", json={"query": "fee"}, headers=bearer(chat_only))
    assert refused.status_code == 403 and error_of(refused)["code"] == "insufficient_scope"
    upload = http.post("/v1/collections", json={"name": "mine"}, headers=bearer(chat_only))
    assert upload.status_code == 403
    admin_only = http.get("/v1/admin/audit", headers=bearer(idp.token()))
    assert admin_only.status_code == 403 and error_of(admin_only)["code"] == "insufficient_scope"


def test_an_unknown_kid_refetches_the_keys_at_most_once_per_interval(
    http: httpx.Client, idp: FakeOIDCProvider
) -> None:
    time.sleep(2.1)  # past the minimum refresh interval of the fixture
    before = idp.jwks_fetches
    for _ in range(5):
        token = _unknown_key(idp)
        assert http.get("/v1/collections", headers=bearer(token)).status_code == 401
    assert idp.jwks_fetches - before == 1


def test_a_rotated_key_is_fetched_and_accepted(http: httpx.Client, idp: FakeOIDCProvider) -> None:
    time.sleep(2.1)
    old = idp.token()
    idp.rotate()
    new = idp.token()
    assert http.get("/v1/collections", headers=bearer(new)).status_code == 200
    assert http.get("/v1/collections", headers=bearer(old)).status_code == 401  # unpublished now
