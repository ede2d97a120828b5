"""Query embeddings come from the cache once computed, and concurrent requests for the same text
share one computation."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import numpy as np
import pytest

from kotaemon.cache.cache import Cache
from kotaemon.cache.embeddings import CachedEmbedder
from kotaemon.cache.store import MemoryCacheStore
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder

pytestmark = pytest.mark.anyio


class Counting(Embedder):
    """The real bundled model, counting the query embeddings it computes."""

    def __init__(self, inner: BundledE5Embedder, gate: anyio.Event | None = None) -> None:
        self.inner, self.gate = inner, gate
        self.model, self.max_tokens = inner.model, inner.max_tokens
        self.queries: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return await self.inner.embed_documents(texts)

    async def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        if self.gate is not None:
            await self.gate.wait()  # until every concurrent caller is waiting
        return await self.inner.embed_query(text)


async def test_a_text_is_embedded_once(embedder: BundledE5Embedder) -> None:
    inner = Counting(embedder)
    cached = CachedEmbedder(inner, Cache("test_query_embedding", MemoryCacheStore(2**20), ttl=60))
    first = await cached.embed_query("宽限期是几天？")
    second = await cached.embed_query("宽限期是几天？")
    assert inner.queries == ["宽限期是几天？"]
    assert np.array_equal(first, second) and first.dtype == np.float32
    await cached.embed_query("another question")
    assert len(inner.queries) == 2


async def test_concurrent_requests_for_one_text_share_the_work(
    embedder: BundledE5Embedder,
) -> None:
    gate = anyio.Event()
    inner = Counting(embedder, gate)
    cached = CachedEmbedder(inner, Cache("test_shared", MemoryCacheStore(2**20), ttl=60))
    results: list[np.ndarray] = []

    async def ask() -> None:
        results.append(await cached.embed_query("the same question"))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(ask)
        await anyio.wait_all_tasks_blocked()  # all five are waiting on the one computation
        gate.set()
    assert inner.queries == ["the same question"] and len(results) == 5
    assert all(np.array_equal(r, results[0]) for r in results)
