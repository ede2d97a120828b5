"""An OpenID Connect provider of our own, over real HTTP, for the security tests.

Keys are generated per run (RSA for RS256, P-256 for ES256). It serves discovery, the JWKS, an
authorization endpoint that signs the test user straight in (redirecting back with a code), and
a token endpoint that checks the PKCE verifier. Tests mint tokens with :meth:`token`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "kotaemon-api"
CLIENT_ID = "kotaemon-web"
CLIENT_SECRET = "web-client-s3cret-0451"


class FakeOIDCProvider:
    """``with FakeOIDCProvider() as idp: token = idp.token(sub="alice", scope="chat")``."""

    def __init__(self) -> None:
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.rsa_kid, self.ec_kid = "rsa-1", "ec-1"
        self.jwks_fetches = 0
        self.user: dict[str, Any] = {"sub": "alice", "name": "Alice", "groups": ["staff"]}
        self._codes: dict[str, dict[str, Any]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.provider = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeOIDCProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/realms/test"

    def rotate(self) -> None:
        """A new RSA key under a new key id (the old one is no longer published)."""
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_kid = f"rsa-{secrets.token_hex(4)}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            **self.user,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, algorithm: str = "RS256", kid: str | None = None, **claims: Any) -> str:
        key = self.rsa_key if algorithm == "RS256" else self.ec_key
        headers = {"kid": kid or (self.rsa_kid if algorithm == "RS256" else self.ec_kid)}
        return jwt.encode(self.claims(**claims), key, algorithm=algorithm, headers=headers)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key, alg in (
            (self.rsa_kid, self.rsa_key, "RS256"),
            (self.ec_kid, self.ec_key, "ES256"),
        ):
            algorithm = jwt.get_algorithm_by_name(alg)
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": alg})
        return {"keys": keys}

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/protocol/openid-connect/auth",
            "token_endpoint": f"{base}/protocol/openid-connect/token",
            "jwks_uri": f"{base}/protocol/openid-connect/certs",
            "end_session_endpoint": f"{base}/protocol/openid-connect/logout",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }

    # --- the authorization-code flow ---------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """Signs the user in at once; the redirect back to the client, with a code."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = query
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def exchange(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        request = self._codes.pop(form.get("code", ""), None)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request is None or authorization != expected:
            return 400, {"error": "invalid_grant"}
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        ).rstrip(b"=")
        if (
            challenge.decode() != request["code_challenge"]
            or form["redirect_uri"] != request["redirect_uri"]
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        id_token = self.token(aud=CLIENT_ID, nonce=request["nonce"], email="alice@example.com")
        return 200, {"id_token": id_token, "access_token": self.token(), "token_type": "Bearer"}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    @property
    def provider(self) -> FakeOIDCProvider:
        return self.server.provider  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        base = urlsplit(self.provider.issuer).path
        if url.path == f"{base}/.well-known/openid-configuration":
            self._json(200, self.provider.discovery())
        elif url.path == f"{base}/protocol/openid-connect/certs":
            self.provider.jwks_fetches += 1
            self._json(200, self.provider.jwks())
        elif url.path == f"{base}/protocol/openid-connect/auth":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.send_response(302)
            self.send_header("Location", self.provider.authorize(query))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        status, payload = self.provider.exchange(form, self.headers.get("Authorization"))
        self._json(status, payload)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
