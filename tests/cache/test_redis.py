"""Caches against a real Redis that the test stops and starts: a Redis outage makes look-ups
misses (counted as errors), is logged once, costs no waiting while it lasts, and ends by itself
when Redis is back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kotaemon.cache.cache import Cache
from kotaemon.cache.redis import SharedRedis
from kotaemon.cache.store import RedisCacheStore
from kotaemon.observability.metrics import CACHE_REQUESTS, REDIS_OUTAGES, REDIS_UP

from ..redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as server:
        yield server


def _count(cache: str, result: str) -> float:
    return CACHE_REQUESTS.labels(cache, result)._value.get()


async def test_an_outage_is_bypassed_logged_once_and_ends_by_itself(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    shared = SharedRedis(
        redis_server.url, timeout=5, retry_seconds=0
    )  # generous: a busy CI machine is no outage
    cache = Cache("test_outage", RedisCacheStore(shared), ttl=60)
    key = cache.key("question", 1)
    await cache.put(key, b"value")
    assert await cache.get(key) == b"value"
    outages = REDIS_OUTAGES._value.get()

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="kotaemon.cache.redis"):
        errors = _count("test_outage", "error")
        for _ in range(5):
            assert await cache.get(key) is None  # a miss, never an exception
            await cache.put(key, b"other")  # skipped
        assert _count("test_outage", "error") == errors + 5
        assert REDIS_UP._value.get() == 0 and REDIS_OUTAGES._value.get() == outages + 1
        down = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(down) == 1  # one line per outage, not per request

        redis_server.start()  # a fresh Redis: empty
        assert await cache.get(key) is None
        await cache.put(key, b"again")
        assert await cache.get(key) == b"again"
        assert REDIS_UP._value.get() == 1
        assert len([r for r in caplog.records if "available again" in r.getMessage()]) == 1
    await shared.close()


async def test_while_down_no_call_waits_for_redis(redis_server: RedisServer) -> None:
    """After the first failure, calls fail at once until the retry time: the request that
    noticed the outage paid its timeout, the others pay nothing."""
    shared = SharedRedis(redis_server.url, timeout=0.2, retry_seconds=3600)
    cache = Cache("test_fast_fail", RedisCacheStore(shared), ttl=60)
    redis_server.stop()
    calls = []
    original = shared.client.get

    async def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return await original(*args, **kwargs)

    shared.client.get = counting  # type: ignore[method-assign]
    for _ in range(10):
        assert await cache.get(cache.key("q")) is None
    assert len(calls) == 1 and shared.down
    await shared.close()
