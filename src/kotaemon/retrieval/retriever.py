"""The retriever: dense and keyword search side by side, fused with reciprocal rank fusion.

In a collection of several languages, dense search ranks each language on its own and every
ranking takes part in the fusion: a Chinese question finds the English passage that answers it
even when every Chinese passage is closer to it (measured in docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import anyio
import numpy as np
from pydantic import BaseModel

from kotaemon.cache.cache import Cache
from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import EmbeddingModelMismatchError, InvalidInputError, KotaemonError
from kotaemon.core.language import Language
from kotaemon.core.principal import Principal, require_principal
from kotaemon.core.schema import Collection, RetrievedChunk
from kotaemon.embeddings.base import Embedder
from kotaemon.observability.stages import stage
from kotaemon.retrieval.config import Mode, RetrievalConfig
from kotaemon.retrieval.fusion import reciprocal_rank_fusion
from kotaemon.store.base import SearchIndex
from kotaemon.store.collections import CollectionStore, not_found

log = logging.getLogger(__name__)


class _Cached(BaseModel):
    """A result as the cache keeps it."""

    chunks: list[RetrievedChunk]
    top_dense_score: float | None


@dataclass(slots=True)
class RetrievalResult:
    """The chunks found, the best dense similarity (how relevant the best match is), and the
    milliseconds each stage took (embed, dense, keyword, fuse)."""

    chunks: list[RetrievedChunk]
    top_dense_score: float | None
    timings: dict[str, float] = field(default_factory=dict)


class VectorDBRetriever(BaseComponent):
    """Finds the chunks that answer a query, in the collections the principal may read.

    Example::

        retriever = VectorDBRetriever(store.collections, store.search, embedder,
                                      principal=alice, collections=["policies"])
        for chunk in retriever.retrieve("宽限期是几天？"):
            print(chunk.score, chunk.text)

    :param catalog: where the collections and their permissions are.
    :param index: the search backend (dense and keyword search).
    :param collections: names to search; None searches every collection the principal may read.
    :param principal: whose permissions apply when a call names none; without one, every call
        must pass its own (a missing principal is an error, never the local admin).
    :param cache: where results are kept, keyed by the searched collections' versions.
    """

    def __init__(
        self,
        catalog: CollectionStore,
        index: SearchIndex,
        embedder: Embedder,
        *,
        collections: Sequence[str] | None = None,
        principal: Principal | None = None,
        config: RetrievalConfig | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.collections = list(collections) if collections is not None else None
        self.principal = principal
        self.config = config or RetrievalConfig()
        self.cache = cache
        self._db = {"db.system.name": index.system}  # for the search spans

    def retrieve(self, query: str, **kwargs: Any) -> list[RetrievedChunk]:
        """The best chunks for ``query`` (synchronous; ``arun`` gives scores and timings too)."""
        result: RetrievalResult = self.run(query, **kwargs)
        return result.chunks

    async def arun(
        self,
        query: str,
        *,
        principal: Principal | None = None,
        collections: Sequence[str] | None = None,
        metadata_filter: dict[str, Any] | None = None,
        top_k: int | None = None,
        mode: Mode | None = None,
    ) -> RetrievalResult:
        """Search; arguments override the retriever's defaults for this call.

        :raises NotFoundError: if a named collection does not exist or is not readable.
        :raises EmbeddingModelMismatchError: if the collections use another embedding model.
        """
        if not query.strip():
            raise InvalidInputError("the query is empty; ask a question", code="empty_query")
        config = self.config.with_changes(top_k=top_k, mode=mode)
        top_k, mode = config.top_k, config.mode
        caller = require_principal(principal if principal is not None else self.principal)
        targets = await self.targets(caller, collections, mode)
        if self.cache is None:
            return await self._search(query, targets, config, metadata_filter)
        # The key holds each collection's version: any write changes it, so no hit is stale.
        key = self.cache.key(
            [(c.id, c.version) for c in targets],
            query,
            config.model_dump(),
            metadata_filter,
            self.embedder.model,
        )
        started = perf_counter()
        if (hit := await self.cache.get(key)) is not None:
            cached = _Cached.model_validate_json(hit)
            timings = {"cache": (perf_counter() - started) * 1000}
            return RetrievalResult(cached.chunks, cached.top_dense_score, timings)
        result = await self._search(query, targets, config, metadata_filter)
        payload = _Cached(chunks=result.chunks, top_dense_score=result.top_dense_score)
        await self.cache.put(key, payload.model_dump_json().encode())
        return result

    async def _search(
        self,
        query: str,
        targets: list[Collection],
        config: RetrievalConfig,
        metadata_filter: dict[str, Any] | None,
    ) -> RetrievalResult:
        top_k, mode = config.top_k, config.mode
        limit = top_k * config.overfetch if mode == "hybrid" else top_k
        languages = _languages(targets) if config.split_languages else [None]
        strata: dict[Language | None, list[RetrievedChunk]] = {
            language: [] for language in languages
        }
        keyword: list[RetrievedChunk] = []
        timings: dict[str, float] = {}

        async def run_dense() -> None:
            with stage(
                "embed",
                timings,
                span="embed query",
                **{"gen_ai.request.model": self.embedder.model},
            ):
                vector = await self.embedder.embed_query(query)
            with stage("dense", timings, span="dense search", **self._db):
                async with anyio.create_task_group() as tg:
                    for language in languages:
                        tg.start_soon(dense_in, language, vector)

        async def dense_in(language: Language | None, vector: np.ndarray) -> None:
            strata[language] = await self.index.dense_search(
                targets, vector, limit=limit, metadata_filter=metadata_filter, language=language
            )

        async def run_keyword() -> None:
            with stage("keyword", timings, span="keyword search", **self._db):
                found = await self.index.keyword_search(
                    targets, query, limit=limit, metadata_filter=metadata_filter
                )
            keyword.extend(found)

        try:
            async with anyio.create_task_group() as tg:
                if mode in ("hybrid", "dense"):
                    tg.start_soon(run_dense)
                if mode in ("hybrid", "keyword"):
                    tg.start_soon(run_keyword)
        except* KotaemonError as group:  # the first error tells the caller what went wrong
            raise group.exceptions[0] from None
        dense = [ranking for ranking in strata.values() if ranking]
        top_dense = max((r[0].dense_score or 0.0 for r in dense), default=None)
        if mode == "keyword":
            return RetrievalResult(keyword[:top_k], None, timings)
        if mode == "dense" and len(dense) <= 1:
            return RetrievalResult(dense[0][:top_k] if dense else [], top_dense, timings)
        rankings = [(ranking, config.dense_weight) for ranking in dense]
        if mode == "hybrid":
            rankings.append((keyword, config.keyword_weight))
        with stage("fuse", timings, span="fuse results"):
            fused = reciprocal_rank_fusion(rankings, k=config.rrf_k, limit=top_k)
        return RetrievalResult(fused, top_dense, timings)

    async def targets(
        self, principal: Principal, names: Sequence[str] | None, mode: Mode | None = None
    ) -> list[Collection]:
        """The collections to search: those named, or every readable one in this model's space.

        :raises NotFoundError: if a named collection is unknown or not readable.
        :raises EmbeddingModelMismatchError: if a named collection uses another model (dense).
        """
        names = names if names is not None else self.collections
        found = await self.catalog.visible(principal, names)
        missing = set(names or ()) - {c.name for c in found}
        if missing:
            raise not_found(sorted(missing)[0])
        foreign = [c.name for c in found if c.embedding_model != self.embedder.model]
        if foreign and names is None:  # searching everything: skip what this model cannot read
            log.info("skipping collections of other embedding models: %s", ", ".join(foreign))
            return [c for c in found if c.embedding_model == self.embedder.model]
        if foreign and (mode or self.config.mode) != "keyword":
            raise EmbeddingModelMismatchError(
                f"collections {', '.join(foreign)} are embedded with another model than "
                f"{self.embedder.model}; query them with their own model or re-embed them"
            )
        return found


def _languages(targets: Sequence[Collection]) -> list[Language | None]:
    """The languages to rank apart: each one the collections hold when there are several (a
    multilingual model scores a question higher against any passage in its own language than
    against the answer in another, so one ranking would bury the other language's answer);
    else one ranking over everything (None)."""
    held = sorted({language for c in targets for language in c.languages})
    return list(held) if len(held) > 1 else [None]
