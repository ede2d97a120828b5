"""Secrets (client secret, LLM key, metrics token, API keys, bearer tokens, session ids) never
appear in logs, spans, error messages or responses, whatever the requests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ...conftest import LogCapture, SpanCapture
from ...fakes.oidc_provider import CLIENT_SECRET, FakeOIDCProvider
from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import live_server
from .conftest import bearer, oidc_settings

pytestmark = pytest.mark.integration

LLM_KEY = "sk-live-leakcheck-7d2f9a"
METRICS_TOKEN = "metrics-leakcheck-41c0"


def test_no_secret_leaks_anywhere(
    secure_database: str,
    fake_llm: FakeOpenAIServer,
    idp: FakeOIDCProvider,
    tmp_path: Path,
    json_log: LogCapture,
    spans: SpanCapture,
) -> None:
    settings = oidc_settings(
        secure_database,
        tmp_path,
        fake_llm,
        idp,
        llm_api_key=LLM_KEY,
        metrics_token=METRICS_TOKEN,
    )
    secrets = {CLIENT_SECRET, LLM_KEY, METRICS_TOKEN}
    bodies: list[str] = []
    with live_server(settings) as live, live.client(follow_redirects=False) as http:
        user = idp.token()
        admin = idp.token(sub="root", roles=None, scope="admin")
        secrets |= {user, admin}

        def call(method: str, path: str, **kwargs: object) -> httpx.Response:
            response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
            bodies.append(response.text + str(dict(response.headers)))
            return response

        created = call(
            "POST", "/v1/admin/api-keys", json={"name": "leak", "scopes": ["chat"]},
            headers=bearer(admin),
        ).json()  # fmt: skip
        key = created["key"]
        bodies.pop()  # the one response that must show the key
        secrets.add(key)
        call("GET", "/v1/collections", headers=bearer(key))
        call("POST", "/v1/chat", json={"question": "Late fee?"}, headers=bearer(key))
        call("DELETE", f"/v1/admin/api-keys/{created['api_key']['id']}", headers=bearer(admin))
        call("GET", "/v1/collections", headers=bearer(key))  # revoked
        call("GET", "/v1/collections", headers=bearer(user + "x"))  # tampered
        call("GET", "/metrics", headers=bearer("wrong"))
        call("GET", "/metrics", headers=bearer(METRICS_TOKEN))
        fake_llm.reply(status=401)  # the LLM refuses the key: the error must not quote it
        call("POST", "/v1/chat", json={"question": "Late fee?"}, headers=bearer(user))
        fake_llm.reply("It is 5% [1].")
        call("POST", "/v1/chat", json={"question": "Late fee?", "stream": True},
             headers=bearer(user))  # fmt: skip

        start = call("GET", "/auth/login")
        back = httpx.get(start.headers["location"], follow_redirects=False)
        login = (
            start.cookies.get("kotaemon_login")
            or start.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        )
        landed = call(
            "GET",
            f"/auth/callback?{urlsplit(back.headers['location']).query}",
            headers={"Cookie": f"kotaemon_login={login}"},
        )
        session_id = landed.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        secrets.add(session_id)
        bodies.pop()  # the response that sets the session cookie carries it, as it must

    sent_to_llm = [r["headers"].get("authorization") for r in fake_llm.chat_requests[-2:]]
    assert sent_to_llm == [f"Bearer {LLM_KEY}"] * 2  # the key is used, just never shown
    logs = json_log.getvalue()
    traced = " ".join(
        f"{s.name} {dict(s.attributes or {})} {[e.attributes for e in s.events]}"
        for s in spans.get_finished_spans()
    )
    for secret in secrets:
        assert secret not in logs, "a secret is in the logs"
        assert secret not in traced, "a secret is in a span"
        assert not any(secret in body for body in bodies), "a secret is in a response"
    assert "rag record" in logs and "kotaemon.access" in logs  # the logs were captured
