"""The load generator's client: what it sends again, and how each answer is judged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from benchmarks.ha.load import LoadGenerator, LoadSettings, Result, Timeline

SEARCH_ANSWER = {"chunks": [{"text": "The late fee is 5%."}], "top_dense_score": 0.9}


def _run(op: str, handler: Callable[[httpx.Request], httpx.Response]) -> tuple[Result, int]:
    """One operation against a scripted transport; the result and the requests it took."""
    calls = 0

    def counting(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return handler(request)

    async def main() -> Result:
        generator = LoadGenerator("http://balancer", LoadSettings(), Timeline())
        transport = httpx.MockTransport(counting)
        async with httpx.AsyncClient(base_url="http://balancer", transport=transport) as client:
            return await generator.one(client, op)

    return asyncio.run(main()), calls


def _refused_then(answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    attempts = iter([None, answer])

    def handler(request: httpx.Request) -> httpx.Response:
        response = next(attempts)
        if response is None:
            raise httpx.ConnectError("connection refused", request=request)
        return response

    return handler


def test_a_connection_refused_before_any_answer_is_sent_again_once() -> None:
    result, calls = _run("search", _refused_then(httpx.Response(200, json=SEARCH_ANSWER)))
    assert (result.cause, result.retried, calls) == (None, True, 2)


def test_a_second_connection_failure_is_a_failed_request() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    result, calls = _run("chat", refused)
    assert (result.cause, result.retried, calls) == ("connection_error", True, 2)


@pytest.mark.parametrize(
    ("response", "cause"),
    [
        (httpx.Response(502, text="<html>502 Bad Gateway</html>"), "http_502"),
        (httpx.Response(503, json={"error": {"code": "not_ready"}}), "http_503:not_ready"),
        (httpx.Response(200, json={"chunks": []}), "bad_shape:search_found_nothing"),
    ],
)  # fmt: skip
def test_an_answer_is_never_sent_again_and_its_cause_is_recorded(response, cause) -> None:
    result, calls = _run("search", lambda request: response)
    assert (result.cause, result.retried, calls) == (cause, False, 1)


def test_a_stream_without_its_last_event_is_cut() -> None:
    sources = 'event: sources\ndata: {"type":"sources","sources":[]}\n\n'
    delta = 'event: delta\ndata: {"type":"delta","text":"The fee"}\n\n'
    done = 'event: done\ndata: {"type":"done","answer":{"text":"The fee [1]."}}\n\n'
    headers = {"content-type": "text/event-stream; charset=utf-8"}

    def stream(body: str) -> Callable[[httpx.Request], httpx.Response]:
        return lambda request: httpx.Response(200, headers=headers, text=body)

    assert _run("chat_stream", stream(sources + delta + done))[0].cause is None
    assert _run("chat_stream", stream(sources + delta))[0].cause == "stream_cut"


def test_an_upload_records_its_job_and_a_failed_upload_its_failure() -> None:
    async def main() -> tuple[LoadGenerator, list[Result]]:
        generator = LoadGenerator("http://balancer", LoadSettings(), Timeline())
        answers = iter([
            httpx.Response(202, json={"jobs": [{"id": "job-1", "state": "queued"}]}),
            httpx.Response(502, text="bad gateway"),
        ])  # fmt: skip
        transport = httpx.MockTransport(lambda request: next(answers))
        async with httpx.AsyncClient(base_url="http://balancer", transport=transport) as client:
            results = [await generator.one(client, "upload") for _ in range(2)]
        return generator, results

    generator, results = asyncio.run(main())
    first, second = generator.uploads
    assert (first.job_ids, first.requests_failed) == (["job-1"], 0)
    assert (second.job_ids, second.requests_failed) == ([], 1)
    assert first.source != second.source and first.data != second.data
    assert [r.cause for r in results] == [None, "http_502"]


def test_an_unknown_operation_in_the_mix_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown operations"):
        LoadGenerator("http://balancer", LoadSettings(mix={"chat": 1, "dance": 1}), Timeline())
