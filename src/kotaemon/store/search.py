"""Search in PostgreSQL: dense (pgvector HNSW) and keyword (BM25 as ``sparsevec``) as two queries.

Implements :class:`~kotaemon.store.base.SearchIndex`; collection, permission and metadata
filters are inside the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pgvector import Vector
from psycopg import sql
from psycopg.types.json import Jsonb

from kotaemon.core.language import Language
from kotaemon.core.schema import Collection, RetrievedChunk
from kotaemon.store.database import Reader
from kotaemon.store.keyword import TERM_SPACE, query_terms
from kotaemon.store.queries import composed


class PostgresSearch:
    """The PostgreSQL :class:`~kotaemon.store.base.SearchIndex`.

    Example::

        search = PostgresSearch(db)     # or a ReplicaReader: searches read from a replica
        hits = await search.keyword_search(collections, "宽限期是几天", limit=10)
    """

    system = "postgresql"

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def dense_search(
        self,
        collections: Sequence[Collection],
        vector: np.ndarray,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
        language: Language | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks nearest to ``vector`` (cosine) in collections that share one embedding space,
        only those of documents in ``language`` when it is given."""
        if not collections:
            return []
        space_id, dim = collections[0].space_id, collections[0].dim
        statement = composed("dense_search", dim=dim, space=space_id)
        params = {
            "query": Vector(vector),
            "collections": [c.id for c in collections],
            "filter": Jsonb(metadata_filter or {}),
            "language": language,
            "limit": limit,
        }
        return await self._search(statement, params, "dense")

    async def keyword_search(
        self,
        collections: Sequence[Collection],
        query: str,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks ranked by BM25 for the query's words."""
        terms = query_terms(query)  # microseconds: not worth a thread hop
        if not collections or not terms:
            return []
        statement = composed("keyword_search", term_space=TERM_SPACE)
        params = {
            "collections": [c.id for c in collections],
            "terms": terms,
            "filter": Jsonb(metadata_filter or {}),
            "limit": limit,
        }
        return await self._search(statement, params, "keyword")

    async def _search(
        self, statement: sql.Composed, params: dict[str, Any], kind: str
    ) -> list[RetrievedChunk]:
        rows = await self.reader.fetch_all(statement, params)
        return [
            RetrievedChunk(
                chunk_id=str(r["id"]),
                document_id=str(r["document_id"]),
                collection=r["collection"],
                document_title=r["title"],
                source=r["source"],
                text=r["text"],
                page=r["page"],
                heading=r["heading"],
                metadata=r["metadata"],
                language=r["language"],
                score=float(r["score"]),
                dense_score=float(r["score"]) if kind == "dense" else None,
                keyword_score=float(r["score"]) if kind == "keyword" else None,
            )
            for r in rows
        ]
