"""The retriever: dense (pgvector HNSW) and BM25 keyword search fused with RRF, inside Postgres."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import (
    EmbeddingModelMismatchError,
    InvalidInputError,
    KotaemonError,
    NotFoundError,
)
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection, RetrievedChunk
from kotaemon.embeddings.base import Embedder
from kotaemon.observability.stages import stage
from kotaemon.retrieval.bm25 import query_terms
from kotaemon.retrieval.fusion import reciprocal_rank_fusion
from kotaemon.store.base import VectorStore

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "keyword"]
_DB = {"db.system.name": "postgresql"}


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How results are found and fused (defaults tuned on SciFact's train split)."""

    top_k: int = 6
    mode: Mode = "hybrid"
    rrf_k: int = 10
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    overfetch: int = 4

    def __post_init__(self) -> None:
        if self.mode not in ("hybrid", "dense", "keyword"):
            raise InvalidInputError(f"mode must be hybrid, dense or keyword, not {self.mode!r}")
        if not 1 <= self.top_k <= 100:
            raise InvalidInputError(f"top_k must be between 1 and 100, got {self.top_k}")


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

        retriever = VectorDBRetriever(store, embedder, collections=["policies"])
        for chunk in retriever.retrieve("宽限期是几天？"):
            print(chunk.score, chunk.text)

    :param collections: names to search; None searches every collection the principal may read.
    :param principal: whose permissions apply (default: the local user).
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        collections: Sequence[str] | None = None,
        principal: Principal | None = None,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.collections = list(collections) if collections is not None else None
        self.principal = principal or Principal.local()
        self.config = config or RetrievalConfig()

    def retrieve(self, query: str, **kwargs: Any) -> list[RetrievedChunk]:
        """The best chunks for ``query`` (synchronous; see :meth:`aretrieve`)."""
        return self.run(query, **kwargs).chunks

    async def aretrieve(self, query: str, **kwargs: Any) -> list[RetrievedChunk]:
        return (await self.arun(query, **kwargs)).chunks

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
        top_k = top_k or self.config.top_k
        mode = mode or self.config.mode
        RetrievalConfig(top_k=top_k, mode=mode)  # validates the per-call values
        targets = await self._targets(principal or self.principal, collections, mode)
        limit = top_k * self.config.overfetch if mode == "hybrid" else top_k
        dense: list[RetrievedChunk] = []
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
            with stage("dense", timings, span="dense search", **_DB):
                found = await self.store.dense_search(
                    targets, vector, limit=limit, metadata_filter=metadata_filter
                )
            dense.extend(found)

        async def run_keyword() -> None:
            with stage("keyword", timings, span="keyword search", **_DB):
                terms = query_terms(query)
                found = await self.store.keyword_search(
                    targets, terms, limit=limit, metadata_filter=metadata_filter
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
        top_dense = dense[0].dense_score if dense else None
        if mode == "dense":
            return RetrievalResult(dense[:top_k], top_dense, timings)
        if mode == "keyword":
            return RetrievalResult(keyword[:top_k], None, timings)
        with stage("fuse", timings, span="fuse results"):
            fused = reciprocal_rank_fusion(
                [(dense, self.config.dense_weight), (keyword, self.config.keyword_weight)],
                k=self.config.rrf_k,
                limit=top_k,
            )
        return RetrievalResult(fused, top_dense, timings)

    async def _targets(
        self, principal: Principal, names: Sequence[str] | None, mode: Mode
    ) -> list[Collection]:
        """The collections to search: those named, or every readable one in this model's space.

        :raises NotFoundError: if a named collection is unknown or not readable.
        :raises EmbeddingModelMismatchError: if a named collection uses another model (dense).
        """
        names = names if names is not None else self.collections
        found = await self.store.collections(principal, names)
        missing = set(names or ()) - {c.name for c in found}
        if missing:
            raise NotFoundError(
                f"collection {sorted(missing)[0]!r} not found; list collections with "
                "`kotaemon collections`",
                code="collection_not_found",
            )
        foreign = [c.name for c in found if c.embedding_model != self.embedder.model]
        if foreign and names is None:  # searching everything: skip what this model cannot read
            log.info("skipping collections of other embedding models: %s", ", ".join(foreign))
            return [c for c in found if c.embedding_model == self.embedder.model]
        if foreign and mode != "keyword":
            raise EmbeddingModelMismatchError(
                f"collections {', '.join(foreign)} are embedded with another model than "
                f"{self.embedder.model}; query them with their own model or re-embed them"
            )
        return found
