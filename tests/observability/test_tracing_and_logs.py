"""One trace per request, with a span per stage, whose id is in the response, the answer and
every log line; the caller's ``traceparent`` continues into the LLM call; RAG records."""

from __future__ import annotations

import uuid

import pytest

from ..conftest import LogCapture, SpanCapture
from ..fakes.openai_server import FakeOpenAIServer
from ..server.conftest import LiveServer, live_server, parse_sse, server_settings

pytestmark = pytest.mark.integration

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


def test_a_request_is_one_trace_from_caller_to_llm(
    kb_server: LiveServer, fake_llm: FakeOpenAIServer, spans: SpanCapture, json_log: LogCapture
) -> None:
    fake_llm.reply("The late fee is 5% [1].")
    question = f"What is the late payment fee? ({uuid.uuid4().hex[:6]})"  # not cached yet
    with kb_server.client() as client:
        response = client.post(
            "/v1/chat",
            json={"question": question, "stream": True},
            headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-42"},
        )
    assert response.headers["x-trace-id"] == CALLER_TRACE
    assert response.headers["x-request-id"] == "req-42"
    answer = parse_sse(response.text).events[-1][1]["answer"]
    assert answer["trace_id"] == CALLER_TRACE

    sent = fake_llm.chat_requests[-1]["headers"]["traceparent"]
    assert sent.split("-")[1] == CALLER_TRACE  # passed on to the LLM

    # The request's span and its access line end after the response has reached us: wait.
    spans.wait_for("POST /v1/chat")
    json_log.wait_for(lambda line: line["logger"] == "kotaemon.access")
    finished = {s.name: s for s in spans.get_finished_spans()}
    for name in (
        "POST /v1/chat",
        "embed query",
        "dense search",
        "keyword search",
        "fuse results",
        "chat fake-model",
    ):
        assert name in finished, sorted(finished)
        assert format(finished[name].context.trace_id, "032x") == CALLER_TRACE
    server = finished["POST /v1/chat"]
    assert server.attributes["http.route"] == "/v1/chat"
    assert server.attributes["http.response.status_code"] == 200
    assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"
    llm = finished["chat fake-model"]
    assert llm.attributes["gen_ai.operation.name"] == "chat"
    assert llm.attributes["gen_ai.request.model"] == "fake-model"
    assert llm.attributes["gen_ai.usage.input_tokens"] > 0
    assert llm.attributes["gen_ai.usage.output_tokens"] > 0
    assert sent.split("-")[2] == format(llm.context.span_id, "016x")  # the LLM span is the parent
    assert finished["dense search"].attributes["db.system.name"] == "postgresql"

    lines = json_log.lines()
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], lines
    ours = [line for line in lines if line.get("request_id") == "req-42"]
    assert {line["trace_id"] for line in ours} == {CALLER_TRACE}
    [access] = [line for line in ours if line["logger"] == "kotaemon.access"]
    assert access["route"] == "/v1/chat" and access["status"] == 200
    assert access["duration_ms"] > 0 and access["user_id"] == "local"
    [record] = [line["rag"] for line in ours if line["logger"] == "kotaemon.rag"]
    assert record["answer_id"] == answer["answer_id"] and record["outcome"] == "answered"
    assert record["question"] == question  # local mode: not redacted
    assert record["prompt"][-1]["content"].endswith(question)
    assert record["chunks"] and {"chunk_id", "snippet", "score"} <= set(record["chunks"][0])
    assert record["answer"] == answer["text"]
    assert {"embed", "dense", "keyword", "fuse", "generate"} <= set(record["timings_ms"])


def test_without_a_caller_trace_each_request_gets_its_own(
    kb_server: LiveServer, spans: SpanCapture
) -> None:
    with kb_server.client() as client:
        first = client.get("/v1/collections").headers["x-trace-id"]
        second = client.get("/v1/collections").headers["x-trace-id"]
    assert first != second and len(first) == 32
    roots = spans.wait_for("GET /v1/collections", count=2)
    assert {first, second} <= {format(s.context.trace_id, "032x") for s in roots}


def test_rag_records_are_redacted_when_asked(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path, json_log: LogCapture
) -> None:
    settings = server_settings(kb_database_url, tmp_path, fake_llm, redact_rag_records=True)
    fake_llm.reply("The late fee is 5% [1].")
    with live_server(settings) as live, live.client() as client:
        question = "What is the late payment fee for card 4111-1111?"
        answer = client.post("/v1/chat", json={"question": question}).json()
    [record] = [line["rag"] for line in json_log.lines() if line["logger"] == "kotaemon.rag"]
    assert record["answer_id"] == answer["answer_id"]
    assert record["question"] == f"[redacted: {len(question)} characters]"
    assert record["answer"].startswith("[redacted")
    assert all(m["content"].startswith("[redacted") for m in record["prompt"])
    assert record["chunks"] and all(c["snippet"].startswith("[redacted") for c in record["chunks"])
    assert "4111" not in json_log.getvalue()
