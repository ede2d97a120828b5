"""Query embeddings, cached by embedding model and text: the same question is embedded once per
deployment, and concurrent requests for the same text share one computation."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import numpy as np

from kotaemon.cache.cache import Cache
from kotaemon.embeddings.base import Embedder


class CachedEmbedder(Embedder):
    """An embedder whose query vectors come from a cache when it has them.

    Example::

        embedder = CachedEmbedder(BundledE5Embedder(), Cache("query_embedding", store, ttl=86400))

    Passages are not cached here: ingestion keeps their vectors in PostgreSQL by content hash.
    """

    def __init__(self, inner: Embedder, cache: Cache) -> None:
        self.inner = inner
        self.cache = cache
        self.model = inner.model
        self.max_tokens = inner.max_tokens
        self.batch_size = inner.batch_size
        self.relevance_thresholds = inner.relevance_thresholds
        self.similarity_range = inner.similarity_range
        self._pending: dict[str, _Pending] = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return await self.inner.embed_documents(texts)

    async def embed_query(self, text: str) -> np.ndarray:
        key = self.cache.key(self.model, text)
        while (pending := self._pending.get(key)) is not None:
            # The same text is being embedded for another request: take its result, or, if
            # that request failed or went away, embed it ourselves.
            shared = await pending.wait()
            if shared is not None:
                return shared
        pending = self._pending[key] = _Pending()
        vector = None
        try:
            hit = await self.cache.get(key)
            if hit is not None:
                vector = np.frombuffer(hit, dtype=np.float32).copy()
            else:
                vector = np.asarray(await self.inner.embed_query(text), dtype=np.float32)
                await self.cache.put(key, vector.tobytes())
            return vector
        finally:
            del self._pending[key]
            pending.finish(vector)


class _Pending:
    """One computation others may wait for; its result is None if it failed."""

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._vector: np.ndarray | None = None

    def finish(self, vector: np.ndarray | None) -> None:
        self._vector = vector
        self._done.set()

    async def wait(self) -> np.ndarray | None:
        await self._done.wait()
        return self._vector
