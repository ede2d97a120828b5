"""Where cached values live: Redis (shared by the replicas) or this process (bounded LRU).

Values are bytes under string keys, each with a time to live. A cache never fails a request:
Redis down or slow makes a look-up a miss (counted as ``error``) and a store a no-op.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from kotaemon.cache.redis import RedisUnavailable, SharedRedis


class CacheStore(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired.

        :raises RedisUnavailable: when the shared store cannot answer.
        """
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds.

        :raises RedisUnavailable: when the shared store cannot answer.
        """
        ...


class RedisCacheStore:
    """Values in the deployment's Redis, under ``kotaemon:cache:``; Redis's own memory policy
    (``maxmemory`` with ``allkeys-lru``) bounds them."""

    def __init__(self, redis: SharedRedis, prefix: str = "kotaemon:cache:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self.redis.call(lambda r: r.get(self.prefix + key))
        return value.encode() if isinstance(value, str) else value  # bytes: no decoding is set

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self.redis.call(lambda r: r.set(self.prefix + key, value, px=int(ttl * 1000)))


class MemoryCacheStore:
    """Values in this process, least recently used dropped first beyond ``max_bytes``.

    One event loop uses it, so it needs no lock.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(value) > self.max_bytes:
            return
        if key in self._items:
            self._drop(key)
        self._items[key] = (time.monotonic() + ttl, value)
        self._bytes += len(value)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, value = self._items.pop(key)
        self._bytes -= len(value)


__all__ = ["CacheStore", "MemoryCacheStore", "RedisCacheStore", "RedisUnavailable"]
