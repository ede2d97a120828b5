"""``/v1/evals`` over real HTTP with ``auth=oidc``: a run queued for the in-process worker,
progress, results and report; the permissions are chat's (a user evaluates only what they may
read, and sees only their own runs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from ...conftest import EVENT_TIMEOUT_SECONDS, KNOWLEDGE_BASE, fresh_database, make_settings
from ...fakes.oidc_provider import FakeOIDCProvider
from ...fakes.openai_server import FakeOpenAIServer
from ..auth.conftest import bearer, oidc_settings
from ..conftest import LiveServer, error_of, ingest, live_server

pytestmark = pytest.mark.integration

QUESTIONS = [
    {"id": "fee", "question": "What is the late payment fee?", "sources": ["fees"],
     "tags": ["fees"]},
    {"id": "pin", "question": "Will the bank ask for my PIN?", "sources": ["account_security"]},
]  # fmt: skip


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOIDCProvider]:
    with FakeOIDCProvider() as provider:
        provider.user = {"sub": "alice", "name": "Alice", "groups": ["staff"], "roles": []}
        yield provider


@pytest.fixture(scope="module")
def eval_server(
    postgres_admin_url: str,
    fake_llm: FakeOpenAIServer,
    idp: FakeOIDCProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The service with a worker in the process; ``bank`` is readable by the group staff."""
    with fresh_database(postgres_admin_url) as url:
        ingest(make_settings(url, tmp_path_factory.mktemp("evals")), KNOWLEDGE_BASE / "en", "bank")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO collection_access (collection_id, grantee_kind, grantee, permission) "
                "SELECT id, 'group', 'staff', 'read' FROM collections WHERE name = 'bank'"
            )
        settings = oidc_settings(url, tmp_path_factory.mktemp("srv"), fake_llm, idp)
        with live_server(settings, with_worker=True) as live:
            yield live


@pytest.fixture
def http(eval_server: LiveServer) -> Iterator[httpx.Client]:
    with eval_server.client() as client:
        yield client


def _as(idp: FakeOIDCProvider, sub: str, *scopes: str, group: str = "staff") -> dict[str, str]:
    return bearer(idp.token(sub=sub, groups=[group], roles=list(scopes)))


def _finished(http: httpx.Client, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """The run once the worker has ended it (an event; the deadline is only a safety net)."""
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while True:
        run = http.get(f"/v1/evals/{run_id}", headers=headers).json()
        if run["state"] in ("succeeded", "failed"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def test_a_run_goes_through_the_worker(http: httpx.Client, idp: FakeOIDCProvider) -> None:
    alice = _as(idp, "alice", "chat", "eval")
    created = http.post(
        "/v1/evals",
        json={"name": "smoke", "collections": ["bank"], "questions": QUESTIONS, "judge": False},
        headers=alice,
    )
    assert created.status_code == 202, created.text
    run = created.json()
    assert run["state"] == "queued" and run["total"] == 2 and run["done"] == 0

    finished = _finished(http, run["id"], alice)
    assert finished["state"] == "succeeded" and finished["done"] == 2, finished
    assert finished["summary"]["overall"]["questions"] == 2
    results = http.get(f"/v1/evals/{run['id']}/results", headers=alice).json()["results"]
    assert [r["id"] for r in results] == ["fee", "pin"]
    assert all(r["outcome"] == "answered" and r["sources"] for r in results)
    assert results[0]["expected_rank"] == 1

    report = http.get(f"/v1/evals/{run['id']}/report", headers=alice)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "<svg" in report.text and "smoke" in report.text
    listed = http.get("/v1/evals", headers=alice).json()["runs"]
    assert run["id"] in [r["id"] for r in listed]

    other = _as(idp, "dave", "chat", "eval", group="elsewhere")
    for path in ("", "/results", "/report"):
        hidden = http.get(f"/v1/evals/{run['id']}{path}", headers=other)
        assert hidden.status_code == 404 and error_of(hidden)["code"] == "eval_run_not_found"
    assert run["id"] not in [r["id"] for r in http.get("/v1/evals", headers=other).json()["runs"]]


def test_permissions_are_chats(http: httpx.Client, idp: FakeOIDCProvider) -> None:
    outsider = _as(idp, "dave", "chat", "eval", group="elsewhere")
    body = {"collections": ["bank"], "questions": QUESTIONS}
    refused = http.post("/v1/evals", json=body, headers=outsider)
    chat = http.post("/v1/chat", json={"question": "fee?", "collections": ["bank"]},
                     headers=outsider)  # fmt: skip
    assert refused.status_code == chat.status_code == 404
    assert error_of(refused)["code"] == error_of(chat)["code"] == "collection_not_found"

    no_scope = http.post("/v1/evals", json=body, headers=_as(idp, "bob", "chat"))
    assert no_scope.status_code == 403 and error_of(no_scope)["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"file": '{"question": "a"}\n{oops\n'}, "invalid_question_file", "line 2: not JSON"),
        ({"file": "query\nx\n", "format": "csv"}, "invalid_question_file", "'question' column"),
        ({"questions": QUESTIONS, "file": "x"}, "invalid_question_file", "not both"),
        ({"questions": [{"question": ""}]}, "invalid_request", "questions.0.question"),
        ({"questions": [QUESTIONS[0], QUESTIONS[0]]}, "invalid_question_file", "must differ"),
    ],
)
def test_malformed_questions_are_422(
    http: httpx.Client, idp: FakeOIDCProvider, body: dict[str, Any], code: str, message: str
) -> None:
    response = http.post(
        "/v1/evals", json={"collections": ["bank"], **body}, headers=_as(idp, "alice", "eval")
    )
    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == code and message in error_of(response)["message"]


def test_unknown_run_is_404(http: httpx.Client, idp: FakeOIDCProvider) -> None:
    for run_id in ("nope", "0b3c6a34-1d2e-4f00-8000-000000000000"):
        response = http.get(f"/v1/evals/{run_id}", headers=_as(idp, "alice", "eval"))
        assert response.status_code == 404 and error_of(response)["code"] == "eval_run_not_found"
