"""Backpressure and the request timeout, on a server allowing one request at a time."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ..fakes.openai_server import FakeOpenAIServer
from .conftest import LiveServer, error_of, live_server, server_settings

pytestmark = pytest.mark.integration

QUESTION = "What is the late payment fee?"


@pytest.fixture(scope="module")
def narrow_server(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second replica over the same database, with tight limits."""
    settings = server_settings(
        kb_database_url,
        tmp_path_factory.mktemp("narrow"),
        fake_llm,
        max_concurrent_requests=1,
        request_timeout_seconds=3,
    )
    with live_server(settings) as live:
        yield live


def _wait_until_free(client: httpx.Client) -> None:
    """The slot is freed once the server has seen the disconnect (bounded polling)."""
    for _ in range(500):
        if client.get("/v1/collections").status_code == 200:
            return
    pytest.fail("the concurrency slot was never released")


def _wait_for_llm_call(fake_llm: FakeOpenAIServer, asked: int) -> None:
    """Until the answer waits on the LLM, so that its scripted reply is consumed."""
    for _ in range(500):
        if len(fake_llm.chat_requests) > asked:
            return
        time.sleep(0.01)
    pytest.fail("the LLM was never called")


def test_overloaded_while_a_stream_is_open(
    narrow_server: LiveServer, fake_llm: FakeOpenAIServer
) -> None:
    asked = len(fake_llm.chat_requests)
    fake_llm.reply("Late fees are 5% [1].", delay=60)  # ends when the fake LLM stops
    with narrow_server.client() as held, narrow_server.client() as other:
        body = {"question": QUESTION, "stream": True}
        with held.stream("POST", "/v1/chat", json=body) as stream:
            lines = stream.iter_lines()  # kept: a dropped iterator closes the connection
            assert next(lines) == "event: sources"  # the slot is taken
            _wait_for_llm_call(fake_llm, asked)
            refused = other.post("/v1/search", json={"query": "fees"})
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert error_of(refused)["code"] == "overloaded"
            assert other.get("/healthz").status_code == 200  # probes are never refused
            assert other.get("/readyz").status_code == 200
        _wait_until_free(other)


def test_slow_request_times_out(narrow_server: LiveServer, fake_llm: FakeOpenAIServer) -> None:
    asked = len(fake_llm.chat_requests)
    fake_llm.reply("Late fees are 5% [1].", delay=60)
    with narrow_server.client() as client:
        response = client.post("/v1/chat", json={"question": QUESTION})
        assert len(fake_llm.chat_requests) == asked + 1  # it timed out waiting on the LLM
        assert response.status_code == 504
        error = error_of(response)
        assert error["code"] == "request_timeout"
        assert "KOTAEMON_REQUEST_TIMEOUT_SECONDS" in error["message"]
        _wait_until_free(client)  # the timed-out request gave its slot back
