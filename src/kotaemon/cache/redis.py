"""The deployment's Redis, as the caches and the rate limits use it: every call has a short
timeout, and an outage is noticed once, logged once, and skipped until Redis answers again.

While Redis is down, calls fail at once (``RedisUnavailable``) without touching the network;
after ``retry_seconds`` one call tries again, and its success ends the outage. Callers decide
what a failure means: a cache is bypassed, a rate limit fails open or closed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

from kotaemon.observability.metrics import REDIS_OUTAGES, REDIS_UP

log = logging.getLogger(__name__)

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis did not answer in time, or is known to be down."""


class SharedRedis:
    """One Redis connection pool with outage tracking.

    Example::

        shared = SharedRedis("redis://redis:6379/0", timeout=0.1)
        value = await shared.call(lambda r: r.get("key"))   # raises RedisUnavailable

    :param timeout: seconds a command (or a connection) may take before Redis counts as down.
    :param retry_seconds: how long an outage is assumed to last before the next try.
    """

    def __init__(self, url: str, *, timeout: float = 0.1, retry_seconds: float = 1.0) -> None:
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self.retry_seconds = retry_seconds
        self._down_until: float | None = None  # monotonic time of the next try while down
        REDIS_UP.set(1)

    @property
    def down(self) -> bool:
        return self._down_until is not None

    async def call(self, command: Callable[[redis.Redis], Awaitable[T]]) -> T:
        """Run ``command`` on the client.

        :raises RedisUnavailable: if Redis fails or is known to be down.
        """
        if self._down_until is not None and time.monotonic() < self._down_until:
            raise RedisUnavailable("Redis is down")
        try:
            result = await command(self.client)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise RedisUnavailable(str(exc) or type(exc).__name__) from exc
        if self._down_until is not None:
            self._down_until = None
            REDIS_UP.set(1)
            log.warning("Redis is available again: shared caches and rate limits are back")
        return result

    def _failed(self, exc: BaseException) -> None:
        first = self._down_until is None
        self._down_until = time.monotonic() + self.retry_seconds
        if first:
            REDIS_UP.set(0)
            REDIS_OUTAGES.inc()
            log.warning(
                "Redis is unavailable: caches are bypassed and rate limits follow "
                "KOTAEMON_RATE_LIMIT_FAIL_OPEN until it answers again",
                extra={"error": type(exc).__name__},
            )

    async def close(self) -> None:
        await self.client.aclose()
