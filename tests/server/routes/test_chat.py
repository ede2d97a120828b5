"""``POST /v1/chat`` over real HTTP: JSON answers, SSE streams, LLM failures, disconnects."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import LiveServer, error_of, parse_sse

pytestmark = pytest.mark.integration

QUESTION = "What is the late payment fee?"


def test_answer_as_json_with_citations(client: httpx.Client, fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("The late fee is 5% of the unpaid minimum payment [1], see also [7].")
    response = client.post("/v1/chat", json={"question": QUESTION, "collections": ["bank"]})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["text"].startswith("The late fee is 5% of the unpaid minimum payment [1]")
    assert "[7]" not in answer["text"]  # markers that point at nothing are dropped
    assert answer["outcome"] == "answered" and answer["language"] == "en"
    [citation] = answer["citations"]
    assert citation["marker"] == 1 and citation["kind"] == "chunk"
    assert citation["document"] and citation["snippet"] and citation["chunk_id"]
    assert answer["model"] == "fake-model" and not answer["extractive"]
    sent = fake_llm.chat_requests[-1]["json"]["messages"][-1]["content"]
    assert sent.endswith(QUESTION)


def test_stream_events_in_contract_order(client: httpx.Client, fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("宽限期为3天[1]，逾期满30天报送征信[2]。")
    response = client.post("/v1/chat", json={"question": "信用卡宽限期是几天？", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    stream = parse_sse(response.text)
    types = stream.types
    assert types[0] == "sources" and types[-1] == "done"
    assert set(types[1:-1]) == {"delta"} and len(types) > 3  # streamed in several pieces
    sources = stream.events[0][1]["sources"]
    answer = stream.events[-1][1]["answer"]
    assert answer["text"] == "".join(
        data["text"] for kind, data in stream.events if kind == "delta"
    )
    assert [c["marker"] for c in answer["citations"]] == [1, 2]
    assert answer["citations"][0]["chunk_id"] == sources[0]["chunk_id"]


def test_heartbeat_while_the_llm_is_silent(
    client: httpx.Client, fake_llm: FakeOpenAIServer, kb_server: LiveServer
) -> None:
    heartbeat = kb_server.settings.sse_heartbeat_seconds
    fake_llm.reply("Late fees are 5% [1].", delay=10 * heartbeat)
    response = client.post("/v1/chat", json={"question": QUESTION, "stream": True})
    stream = parse_sse(response.text)
    assert stream.pings >= 1
    assert stream.types[0] == "sources" and stream.types[-1] == "done"


def test_llm_failure_mid_stream_is_one_error_event(
    client: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply(status=500)
    response = client.post("/v1/chat", json={"question": QUESTION, "stream": True})
    assert response.status_code == 200  # the stream had started: the error is an event
    stream = parse_sse(response.text)
    assert stream.types == ["sources", "error"]
    assert stream.events[-1][1]["code"] == "llm_failed"


@pytest.mark.parametrize(
    ("status", "code", "http_status"),
    [(500, "llm_failed", 502), (429, "llm_rate_limited", 429)],
)
def test_llm_failure_as_json_error(
    client: httpx.Client, fake_llm: FakeOpenAIServer, status: int, code: str, http_status: int
) -> None:
    fake_llm.reply(status=status)
    response = client.post("/v1/chat", json={"question": QUESTION})
    assert response.status_code == http_status
    assert error_of(response)["code"] == code


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_collection_is_404_before_any_stream(client: httpx.Client, stream: bool) -> None:
    body = {"question": QUESTION, "collections": ["nope"], "stream": stream}
    response = client.post("/v1/chat", json=body)
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "collection_not_found" and "'nope'" in error["message"]


def test_nothing_relevant_needs_no_llm(client: httpx.Client, fake_llm: FakeOpenAIServer) -> None:
    before = len(fake_llm.chat_requests)
    response = client.post("/v1/chat", json={"question": "Who painted the Mona Lisa?"})
    assert response.status_code == 200
    assert response.json()["outcome"] == "no_context"
    assert len(fake_llm.chat_requests) == before


def test_client_disconnect_closes_the_llm_stream(
    kb_server: LiveServer, fake_llm: FakeOpenAIServer
) -> None:
    seen = fake_llm.disconnects
    fake_llm.reply("The late fee is five percent [1]. " * 40, chunk_delay=0.05)
    with (
        kb_server.client() as client,
        client.stream("POST", "/v1/chat", json={"question": QUESTION, "stream": True}) as stream,
    ):
        for line in stream.iter_lines():
            if line == "event: delta":
                break  # leave mid-answer: the context manager closes the connection
    assert fake_llm.wait_for_disconnects(seen + 1, timeout=30)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "x" * 4001}, "question"),
        ({"question": "   "}, "question"),
        ({}, "question"),
        ({"question": "hi", "stream": "sometimes"}, "stream"),
        ({"question": "hi", "colections": ["bank"]}, "colections"),
        ({"question": "hi", "filter": ["not", "an", "object"]}, "filter"),
    ],
)
def test_invalid_request_names_the_field(client: httpx.Client, body: dict, field: str) -> None:
    response = client.post("/v1/chat", json=body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request" and error["message"].startswith(f"{field}:")


def test_a_question_asked_again_with_its_idempotency_key_gets_the_recorded_answer(
    client: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    """A client that never heard back (a replica died, a connection broke) asks again with the
    same key: the answer recorded the first time comes back, and nothing is recorded twice."""
    key = {"Idempotency-Key": f"q-{uuid.uuid4()}"}
    fake_llm.reply("The late fee is 5% [1].")
    asked = len(fake_llm.chat_requests)
    first = client.post("/v1/chat", json={"question": QUESTION}, headers=key).json()
    again = client.post("/v1/chat", json={"question": QUESTION}, headers=key).json()
    streamed = parse_sse(
        client.post("/v1/chat", json={"question": QUESTION, "stream": True}, headers=key).text
    )
    assert len(fake_llm.chat_requests) == asked + 1  # one answer made, for three requests
    assert again["answer_id"] == first["answer_id"] and again["text"] == first["text"]
    assert streamed.types == ["sources", "delta", "done"]
    assert streamed.events[-1][1]["answer"]["answer_id"] == first["answer_id"]
    turns = client.get(f"/v1/conversations/{first['conversation_id']}").json()["turns"]
    assert [t["answer_id"] for t in turns] == [first["answer_id"]]

    reused = client.post("/v1/chat", json={"question": "Another question?"}, headers=key)
    assert reused.status_code == 422 and error_of(reused)["code"] == "idempotency_key_reused"
    bad = client.post("/v1/chat", json={"question": QUESTION}, headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 422 and error_of(bad)["code"] == "invalid_request"
