"""API keys, knowledge-base permissions, injection attempts, the audit log and erasure, with
``auth=oidc`` over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from ...fakes.oidc_provider import FakeOIDCProvider
from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import LiveServer, error_of
from .conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
def http(secure_server: LiveServer) -> Iterator[httpx.Client]:
    with secure_server.client() as client:
        yield client


def _admin(idp: FakeOIDCProvider) -> dict[str, str]:
    return bearer(idp.token(sub="root", roles=None, groups=None, scope="admin"))


def _user(idp: FakeOIDCProvider, sub: str) -> dict[str, str]:
    return bearer(idp.token(sub=sub, groups=[f"team-{sub}"]))


def _new_key(http: httpx.Client, idp: FakeOIDCProvider, **body: object) -> dict:
    payload = {"name": f"bot-{uuid.uuid4().hex[:6]}", "scopes": ["documents:read"]} | body
    created = http.post("/v1/admin/api-keys", json=payload, headers=_admin(idp))
    assert created.status_code == 201, created.text
    return created.json()


def test_api_keys_are_shown_once_scoped_and_revocable(
    http: httpx.Client, idp: FakeOIDCProvider, secure_database: str
) -> None:
    created = _new_key(http, idp, groups=["staff"])
    key, info = created["key"], created["api_key"]
    assert key.startswith("kot_") and info["prefix"] == key[:12]
    listed = http.get("/v1/admin/api-keys", headers=_admin(idp)).json()["api_keys"]
    assert info["id"] in [k["id"] for k in listed] and key not in str(listed)
    with psycopg.connect(secure_database) as conn:  # stored hashed, never in clear
        assert conn.execute("SELECT count(*) FROM api_keys WHERE key_hash::text LIKE %s",
                            (f"%{key}%",)).fetchone() == (0,)  # fmt: skip

    found = http.post("/v1/search", json={"query": "late fee"}, headers=bearer(key))
    assert found.status_code == 200 and found.json()["chunks"]  # its group may read bank
    chat = http.post("/v1/chat", json={"question": "fee?"}, headers=bearer(key))
    assert chat.status_code == 403 and error_of(chat)["code"] == "insufficient_scope"

    revoked = http.delete(f"/v1/admin/api-keys/{info['id']}", headers=_admin(idp))
    assert revoked.status_code == 204
    after = http.get("/v1/collections", headers=bearer(key))
    assert after.status_code == 401 and error_of(after)["code"] == "invalid_api_key"
    assert "revoked" in error_of(after)["message"] and key not in after.text


def test_an_expired_api_key_is_refused(
    http: httpx.Client, idp: FakeOIDCProvider, secure_database: str
) -> None:
    created = _new_key(http, idp)
    with psycopg.connect(secure_database, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            (created["api_key"]["id"],),
        )
    response = http.get("/v1/collections", headers=bearer(created["key"]))
    assert response.status_code == 401 and "expired" in error_of(response)["message"]


def test_only_admins_manage_keys_and_read_the_audit_log(
    http: httpx.Client, idp: FakeOIDCProvider
) -> None:
    user = _user(idp, "mallory")
    for method, path in [
        ("POST", "/v1/admin/api-keys"),
        ("GET", "/v1/admin/api-keys"),
        ("DELETE", f"/v1/admin/api-keys/{uuid.uuid4()}"),
        ("GET", "/v1/admin/audit"),
        ("DELETE", "/v1/admin/users/alice/data"),
    ]:
        body = {"name": "x", "scopes": ["admin"]} if method == "POST" else None
        response = http.request(method, path, headers=user, json=body)
        assert response.status_code == 403, (path, response.text)


def test_another_users_collection_is_invisible(
    http: httpx.Client, idp: FakeOIDCProvider, fake_llm: FakeOpenAIServer
) -> None:
    alice, bob = _user(idp, "alice2"), _user(idp, "bob")
    name = f"private-{uuid.uuid4().hex[:6]}"
    assert http.post("/v1/collections", json={"name": name}, headers=alice).status_code == 201
    upload = http.post(
        f"/v1/collections/{name}/documents",
        files=[("files", ("salary.txt", b"Alice earns a great deal."))],
        headers=alice,
    )
    assert upload.status_code == 202
    job_id = upload.json()["jobs"][0]["id"]

    for method, path, body in [
        ("GET", f"/v1/collections/{name}", None),
        ("PATCH", f"/v1/collections/{name}", {"description": "mine now"}),
        ("DELETE", f"/v1/collections/{name}", None),
        ("GET", f"/v1/collections/{name}/documents", None),
        ("GET", f"/v1/collections/{name}/jobs", None),
        ("GET", f"/v1/jobs/{job_id}", None),
        ("POST", f"/v1/collections/{name}/reindex", None),
        ("POST", "/v1/search", {"query": "salary", "collections": [name]}),
        ("POST", "/v1/chat", {"question": "What does Alice earn?", "collections": [name]}),
    ]:
        response = http.request(method, path, json=body, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
        assert "earns" not in response.text
    models = http.get("/v1/models", headers=bob).json()["data"]
    assert name not in [m["id"] for m in models]
    completion = http.post(
        "/v1/chat/completions",
        json={"model": name, "messages": [{"role": "user", "content": "salary?"}]},
        headers=bob,
    )
    assert completion.status_code == 404
    mine = http.get(f"/v1/collections/{name}", headers=alice)
    assert mine.status_code == 200 and mine.json()["owner_id"] == "alice2"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v1/search", {"query": "fee", "filter": {"lang": "' OR 1=1 --"}}, 200, None),
        ("POST", "/v1/search", {"query": "fee", "filter": {"x') OR true; --": 1}}, 200, None),
        ("POST", "/v1/search", {"query": "fee", "collections": ["bank' OR '1'='1"]}, 404,
         "collection_not_found"),
        ("GET", "/v1/collections/bank%27%20OR%20%271%27=%271", None, 404,
         "collection_not_found"),
        ("GET", "/v1/jobs/1%20OR%201=1", None, 404, "job_not_found"),
        ("DELETE", "/v1/collections/bank/documents/1;DROP%20TABLE%20chunks", None, 404,
         "collection_not_found"),
        ("GET", "/v1/conversations/00000000-0000-0000-0000-000000000000'--", None, 404,
         "conversation_not_found"),
        ("POST", "/v1/answers/1%27%20OR%20%271/feedback", {"rating": "wrong"}, 404,
         "answer_not_found"),
    ],
)  # fmt: skip
def test_injection_attempts_find_nothing_and_break_nothing(
    http: httpx.Client,
    idp: FakeOIDCProvider,
    method: str,
    path: str,
    body: dict | None,
    status: int,
    code: str | None,
) -> None:
    user = _user(idp, "eve")  # may read nothing: every lookup must come back empty
    response = http.request(method, path, json=body, headers=user)
    assert response.status_code == status, response.text
    if code is None:
        assert response.json()["chunks"] == []
    else:
        assert response.json()["error"]["code"] == code
    assert http.get("/v1/collections/bank", headers=bearer(idp.token())).status_code == 200


def test_answers_are_audited_and_the_log_is_append_only(
    http: httpx.Client, idp: FakeOIDCProvider, fake_llm: FakeOpenAIServer, secure_database: str
) -> None:
    fake_llm.reply("The late fee is 5% [1].")
    user = bearer(idp.token(sub="auditee"))
    answer = http.post("/v1/chat", json={"question": "What is the late fee?"}, headers=user)
    assert answer.status_code == 200, answer.text
    answer_id = answer.json()["answer_id"]
    log = http.get(
        "/v1/admin/audit", params={"user_id": "auditee", "action": "answer"}, headers=_admin(idp)
    )
    [event] = log.json()["events"]
    assert event["answer_id"] == answer_id
    assert event["details"]["question"] == "What is the late fee?"
    assert event["details"]["sources"][0]["document"] and event["details"]["tools"] == []
    assert event["client_ip"] == "127.0.0.1" and event["trace_id"]
    with psycopg.connect(secure_database, autocommit=True) as conn:
        for statement in ("UPDATE audit_events SET user_id = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


def test_erasing_a_user_deletes_their_conversations_and_is_audited(
    http: httpx.Client, idp: FakeOIDCProvider, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("It is 3 days [1].")
    user = bearer(idp.token(sub="leaver"))
    first = http.post("/v1/chat", json={"question": "Grace period?"}, headers=user).json()
    conversation = first["conversation_id"]
    assert http.get(f"/v1/conversations/{conversation}", headers=user).status_code == 200
    erased = http.delete("/v1/admin/users/leaver/data", headers=_admin(idp))
    assert erased.status_code == 204
    assert http.get(f"/v1/conversations/{conversation}", headers=user).status_code == 404
    assert http.get("/v1/conversations", headers=user).json()["conversations"] == []
    log = http.get("/v1/admin/audit", params={"action": "user.erase"}, headers=_admin(idp))
    assert any(e["resource"] == "leaver" for e in log.json()["events"])
