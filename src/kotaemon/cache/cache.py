"""A named cache: keys hashed from their parts, values as bytes, hits and misses counted.

Keys must make a stale hit impossible by construction: whatever the value depends on is part
of the key (the embedding model and the text for a query vector; the collections' versions, the
query and the retrieval settings for search results), so a time to live only bounds memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from typing import Any

from kotaemon.cache.store import CacheStore, RedisUnavailable
from kotaemon.observability.metrics import CACHE_REQUESTS

log = logging.getLogger(__name__)


class Cache:
    """Look-ups and stores of one kind of value, over a shared or local store.

    Example::

        cache = Cache("retrieval", store, ttl=3600)
        key = cache.key(collection_versions, query, settings)
        if (hit := await cache.get(key)) is None:
            await cache.put(key, compute())

    :param max_value_bytes: larger values are not cached (they would crowd out the rest).
    """

    def __init__(
        self, name: str, store: CacheStore, *, ttl: float, max_value_bytes: int = 2**20
    ) -> None:
        self.name = name
        self.store = store
        self.ttl = ttl
        self.max_value_bytes = max_value_bytes
        for result in ("hit", "miss", "error"):
            CACHE_REQUESTS.labels(name, result)

    def key(self, *parts: Any) -> str:
        """A key from JSON-serialisable parts (order matters)."""
        text = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return f"{self.name}:{hashlib.sha256(text.encode()).hexdigest()}"

    async def get(self, key: str) -> bytes | None:
        """The value, or None on a miss; an unavailable store counts as an ``error`` miss."""
        try:
            value = await self.store.get(key)
        except RedisUnavailable:
            CACHE_REQUESTS.labels(self.name, "error").inc()
            return None
        CACHE_REQUESTS.labels(self.name, "miss" if value is None else "hit").inc()
        return value

    async def put(self, key: str, value: bytes) -> None:
        """Keep the value (unless it is too large); an unavailable store is skipped."""
        if len(value) > self.max_value_bytes:
            return
        # Unavailable: the outage was logged once by SharedRedis; the value is recomputed later.
        with contextlib.suppress(RedisUnavailable):
            await self.store.set(key, value, self.ttl)
