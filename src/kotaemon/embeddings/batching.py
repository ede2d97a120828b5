"""Micro-batching: concurrent query embeddings share one model call."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

BatchFn = Callable[[Sequence[str]], Awaitable[np.ndarray]]


class QueryBatcher:
    """Collects queries that arrive while the model is busy and embeds them together.

    No timer: a lone query is embedded at once; queries arriving during that call form the next
    batch. Works per event loop, so one embedder can serve several loops.
    """

    def __init__(self, embed_batch: BatchFn, max_batch: int = 32) -> None:
        self._embed_batch = embed_batch
        self._max_batch = max_batch
        self._pending: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, list[tuple[str, asyncio.Future[np.ndarray]]]
        ] = weakref.WeakKeyDictionary()
        self._drainers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
            weakref.WeakKeyDictionary()
        )

    async def embed(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.setdefault(loop, []).append((text, future))
        if loop not in self._drainers:
            self._drainers[loop] = loop.create_task(self._drain(loop))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending[loop]
        try:
            while pending:
                batch = pending[: self._max_batch]
                del pending[: self._max_batch]
                await self._run_batch(batch)
        finally:
            self._drainers.pop(loop, None)

    async def _run_batch(self, batch: list[tuple[str, asyncio.Future[np.ndarray]]]) -> None:
        try:
            vectors = await self._embed_batch([text for text, _ in batch])
        except Exception as exc:  # handed to every waiter, which re-raises it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), vector in zip(batch, vectors, strict=True):
            if not future.done():
                future.set_result(vector)
