"""The service with a Redis of the test's own that goes down and comes back: requests go on,
/readyz stays ready, the outage shows in /metrics, and the shared caches work again after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import EVENT_TIMEOUT_SECONDS
from ..fakes.openai_server import FakeOpenAIServer
from ..redis_server import RedisServer
from .conftest import live_server, server_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as server:
        yield server


def _metric(text: str, name: str) -> float:
    [line] = [
        line
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    ][:1]
    return float(line.rsplit(" ", 1)[1])


def _hits(metrics: str) -> float:
    return _metric(metrics, 'kotaemon_cache_requests_total{cache="retrieval",result="hit"}')


def test_a_redis_outage_costs_no_request(
    kb_database_url: str, fake_llm: FakeOpenAIServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = server_settings(
        kb_database_url, tmp_path, fake_llm, redis_url=redis_server.url, llm_base_url=None,
        rate_limit_per_minute=1000,  # checked in Redis: fails open while it is down
        redis_timeout_seconds=5,  # a stopped Redis refuses at once; a slow one is no outage
    )  # fmt: skip
    search = {"query": "grace period for repayments", "collections": ["bank"]}
    with live_server(settings) as live, live.client() as http:
        assert http.post("/v1/search", json=search).status_code == 200
        before = _hits(http.get("/metrics").text)
        assert http.post("/v1/search", json=search).status_code == 200  # shared cache: a hit
        assert _hits(http.get("/metrics").text) == before + 1

        redis_server.stop()
        for question in ("What is the late payment fee?", "宽限期是几天？"):
            answer = http.post("/v1/chat", json={"question": question})
            assert answer.status_code == 200 and answer.json()["outcome"] == "answered"
        assert http.post("/v1/search", json=search).status_code == 200
        assert http.get("/readyz").status_code == 200
        metrics = http.get("/metrics").text
        assert _metric(metrics, "kotaemon_redis_up") == 0
        assert _metric(metrics, "kotaemon_redis_outages_total") >= 1

        redis_server.start()  # a fresh, empty Redis
        deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
        while _metric(http.get("/metrics").text, "kotaemon_redis_up") == 0:  # the event
            assert time.monotonic() < deadline, "Redis was never used again"
            assert http.post("/v1/search", json=search).status_code == 200  # tries once a second
            time.sleep(0.05)
        assert http.post("/v1/search", json=search).status_code == 200  # stored again
        after = _hits(http.get("/metrics").text)
        assert http.post("/v1/search", json=search).status_code == 200
        metrics = http.get("/metrics").text
        assert _hits(metrics) == after + 1 and _metric(metrics, "kotaemon_redis_up") == 1
