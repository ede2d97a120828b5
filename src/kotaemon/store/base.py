"""The search interface every vector store implements, and the records ingestion hands the store.

Search is two narrow operations, each over the collections the caller may read (obtained from
:meth:`~kotaemon.store.collections.CollectionStore.visible` for the caller's principal, so a
chunk of a collection the caller cannot read is never scored):

* :meth:`SearchIndex.dense_search`: nearest chunks to a query vector (cosine similarity);
* :meth:`SearchIndex.keyword_search`: chunks ranked by BM25 for the query's words.

Fusing the two rankings is not the index's job (:mod:`kotaemon.retrieval.fusion`).

Filters: ``metadata_filter`` is a JSON object; a chunk matches when its metadata contains every
key with an equal value (JSON containment). Scores: ``dense_search`` sets ``score`` and
``dense_score`` to the cosine similarity, ``keyword_search`` sets ``score`` and
``keyword_score`` to the BM25 score; results come best first, at most ``limit`` of them.
Languages: each chunk carries its document's language (``RetrievedChunk.language``), and
``dense_search`` can keep to one (the retriever ranks each language of a multilingual
collection on its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from kotaemon.core.language import Language
from kotaemon.core.schema import Collection, RetrievedChunk


class SearchIndex(Protocol):
    """Finds chunks; :class:`~kotaemon.store.search.PostgresSearch` implements it."""

    #: The backend's name in traces (OpenTelemetry ``db.system.name``), e.g. ``postgresql``.
    system: str

    async def dense_search(
        self,
        collections: Sequence[Collection],
        vector: np.ndarray,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
        language: Language | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks nearest to ``vector``, in collections that share one embedding space; with
        ``language``, only chunks of documents in that language (and of unknown language)."""
        ...

    async def keyword_search(
        self,
        collections: Sequence[Collection],
        query: str,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks ranked by BM25 for the words of ``query`` (Chinese segmented, others stemmed)."""
        ...


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A chunk ready to store: the text shown, the text indexed, its position and vector."""

    text: str
    #: What is embedded and keyword-indexed (the heading path, then the text).
    indexed_text: str
    ordinal: int
    token_count: int
    embedding: np.ndarray
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
    #: The language of its text (None: unknown, searched with every language).
    language: Language | None = None
    #: The file's bytes, kept for re-indexing; None when they are stored already (an upload).
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WriteResult:
    document_id: str
    status: Literal["added", "replaced", "unchanged"]
    chunk_count: int
