"""How the harness's load generator judges answers: causes of failure, event streams."""

from __future__ import annotations

import json

import httpx
import pytest

from benchmarks.ha.outcomes import (
    CONNECTION_ERROR,
    STREAM_CUT,
    TIMEOUT,
    Failure,
    Frame,
    SSEParser,
    failure_of_exception,
    failure_of_status,
    is_retryable,
    judge_chat,
    judge_chat_stream,
    judge_completion_stream,
    judge_search,
    judge_upload,
)


def _cause(check, *args) -> str:
    with pytest.raises(Failure) as caught:
        check(*args)
    return caught.value.cause


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
        (httpx.ReadError("reset"), True),
        (httpx.ReadTimeout("slow answer"), False),  # the server may still be working on it
        (httpx.PoolTimeout("no connection free"), False),
    ],
)
def test_only_a_connection_that_failed_before_an_answer_is_retried(exc, retryable) -> None:
    assert is_retryable(exc) is retryable


def test_transport_errors_are_told_apart_by_when_they_happened() -> None:
    assert failure_of_exception(httpx.ConnectError("x"), in_body=False).cause == CONNECTION_ERROR
    assert failure_of_exception(httpx.RemoteProtocolError("x"), in_body=True).cause == STREAM_CUT
    assert failure_of_exception(httpx.ReadTimeout("x"), in_body=True).cause == TIMEOUT


def test_error_responses_carry_the_services_code_when_the_body_has_one() -> None:
    ours = json.dumps({"error": {"code": "not_ready", "message": "shutting down"}}).encode()
    openai = json.dumps(
        {"error": {"message": "x", "type": "server_error", "code": "boom"}}
    ).encode()
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    assert failure_of_status(503, ours).cause == "http_503:not_ready"
    assert failure_of_status(500, openai).cause == "http_500:boom"
    assert failure_of_status(502, html).cause == "http_502"  # the balancer's own page


def test_event_stream_frames_survive_any_cut_of_the_text() -> None:
    raw = 'event: sources\ndata: {"a":1}\n\n: ping\n\nevent: done\r\ndata: {"b":2}\r\n\r\n'
    whole = SSEParser().feed(raw)
    parser, pieces = SSEParser(), []
    for i in range(0, len(raw), 3):
        pieces += parser.feed(raw[i : i + 3])
    assert whole == pieces == [Frame("sources", '{"a":1}'), Frame("done", '{"b":2}')]
    assert parser.pending == ""


def test_a_chat_stream_must_end_with_done_or_error() -> None:
    sources = Frame("sources", "{}")
    done = Frame("done", json.dumps({"answer": {"text": "Fee [1]."}}))
    error = Frame("error", json.dumps({"code": "llm_unavailable", "message": "down"}))
    judge_chat_stream([sources, done])
    assert _cause(judge_chat_stream, [sources]) == STREAM_CUT
    assert _cause(judge_chat_stream, []) == STREAM_CUT
    assert _cause(judge_chat_stream, [sources, error]) == "stream_error:llm_unavailable"
    assert _cause(judge_chat_stream, [Frame("done", "{}")]) == "bad_shape:done_without_answer"


def test_an_openai_stream_must_stop_then_say_done() -> None:
    def chunk(**delta) -> Frame:
        finish = delta.pop("finish", None)
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return Frame(None, json.dumps({"object": "chat.completion.chunk", "choices": [choice]}))

    stream = [chunk(role="assistant"), chunk(content="Hi"), chunk(finish="stop")]
    judge_completion_stream([*stream, Frame(None, "[DONE]")])
    assert _cause(judge_completion_stream, stream) == STREAM_CUT
    failed = [Frame(None, json.dumps({"error": {"code": "llm_error"}})), Frame(None, "[DONE]")]
    assert _cause(judge_completion_stream, failed) == "stream_error:llm_error"
    unfinished = [chunk(content="Hi"), Frame(None, "[DONE]")]
    assert _cause(judge_completion_stream, unfinished) == "bad_shape:no_stop"


def test_answers_of_the_wrong_shape_fail() -> None:
    judge_chat({"text": "Fee [1].", "citations": []})
    assert _cause(judge_chat, {"answer": "x"}) == "bad_shape:chat_without_text"
    assert _cause(judge_search, {"chunks": []}) == "bad_shape:search_found_nothing"
    assert judge_upload({"jobs": [{"id": "j1", "state": "queued"}]}) == "j1"
    assert _cause(judge_upload, {"jobs": []}) == "bad_shape:upload_without_job"
