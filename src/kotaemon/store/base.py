"""The store interface the engine's components depend on.

Filters: ``metadata_filter`` is a JSON object; a chunk matches when its metadata contains every
key with an equal value (JSON containment). Permissions: readers pass only collections obtained
from :meth:`VectorStore.collections` for the caller's principal, so a chunk of a collection the
caller cannot read is never scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection, RetrievedChunk


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A chunk ready to store: text, position, vector and BM25 terms."""

    text: str
    ordinal: int
    token_count: int
    embedding: np.ndarray
    term_tf: dict[int, int]
    term_count: int
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    source: str
    title: str
    media_type: str
    content_hash: str
    size_bytes: int
    metadata: dict[str, Any]
    #: The file's bytes, kept for re-indexing; None when they are stored already (an upload).
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WriteResult:
    document_id: str
    status: Literal["added", "replaced", "unchanged"]
    chunk_count: int


#: Keyword term ids are hashes in [0, TERM_SPACE); pgvector's sparsevec allows 1e9 dimensions.
TERM_SPACE = 999_999_937


class VectorStore(Protocol):
    """Collections, documents, chunks and their vectors; :class:`PostgresStore` implements it."""

    async def collections(
        self, principal: Principal, names: Sequence[str] | None = None, *, write: bool = False
    ) -> list[Collection]: ...

    async def collection(
        self, principal: Principal, name: str, *, write: bool = False
    ) -> Collection: ...

    async def document_hash(self, collection: Collection, source: str) -> str | None: ...

    async def write_document(
        self,
        collection: Collection,
        document: DocumentRecord,
        chunks: Sequence[ChunkRecord],
        bm25_vector: Callable[[ChunkRecord, float], Any],
        *,
        force: bool = False,
    ) -> WriteResult: ...

    async def cached_embeddings(
        self, space_id: int, hashes: Sequence[bytes]
    ) -> dict[bytes, np.ndarray]: ...

    async def cache_embeddings(self, space_id: int, items: dict[bytes, np.ndarray]) -> None: ...

    async def dense_search(
        self,
        collections: Sequence[Collection],
        vector: np.ndarray,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]: ...

    async def keyword_search(
        self,
        collections: Sequence[Collection],
        terms: Sequence[int],
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]: ...
