"""Documents and their chunks: written, replaced and deleted in one transaction each.

Writes to one collection are serialised by a row lock on the collection, so a document's rows,
its chunks with their vectors, and the collection's BM25 statistics change together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio.to_thread
from pgvector import Vector
from psycopg.types.json import Jsonb

from kotaemon.core.errors import NotFoundError
from kotaemon.core.schema import Collection, DocumentInfo
from kotaemon.store import keyword
from kotaemon.store.base import ChunkRecord, DocumentRecord, WriteResult
from kotaemon.store.database import Connection, Database, Reader, is_uuid
from kotaemon.store.keyword import KeywordTerms
from kotaemon.store.queries import query


class DocumentStore:
    """Stores documents with their chunks, and lists and deletes them.

    Example::

        documents = DocumentStore(db)
        result = await documents.write(collection, document, chunks)   # added/replaced/unchanged
        await documents.delete(collection, source="handbook.pdf")
    """

    def __init__(self, db: Database, *, reader: Reader | None = None) -> None:
        self.db = db
        self.reader: Reader = reader if reader is not None else db

    async def content_hash(self, collection: Collection, source: str) -> str | None:
        """The content hash stored for ``source`` (None if it is not stored)."""
        async with self.db.connection() as conn:
            row = await (
                await conn.execute(
                    query("find_document"), {"collection_id": collection.id, "source": source}
                )
            ).fetchone()
        return row["content_hash"] if row else None

    async def write(
        self,
        collection: Collection,
        document: DocumentRecord,
        chunks: Sequence[ChunkRecord],
        *,
        force: bool = False,
    ) -> WriteResult:
        """Store a document and its chunks, replacing an older version, in one transaction.

        A concurrent writer of the same content makes this a no-op (unless ``force``).

        :raises NotFoundError: if the collection was deleted meanwhile.
        """
        terms = await anyio.to_thread.run_sync(
            lambda: [KeywordTerms.of(c.indexed_text) for c in chunks]
        )
        ids = {"collection_id": collection.id, "source": document.source}
        async with self.db.transaction() as conn:
            counts = await (await conn.execute(query("lock_collection"), ids)).fetchone()
            if counts is None:
                raise NotFoundError(f"collection {collection.name!r} was deleted meanwhile")
            old = await (await conn.execute(query("find_document"), ids)).fetchone()
            if old and old["content_hash"] == document.content_hash and not force:
                return WriteResult(str(old["id"]), "unchanged", 0)
            chunk_total, term_total = counts["chunk_count"], counts["term_count"]
            if old:
                chunks_gone, terms_gone = await keyword.release_document(
                    conn, collection.id, old["id"]
                )
                chunk_total, term_total = chunk_total - chunks_gone, term_total - terms_gone
            if document.data is not None:
                await conn.execute(
                    query("insert_file"),
                    {
                        "content_hash": document.content_hash,
                        "data": document.data,
                        "size_bytes": len(document.data),
                    },
                )
            document_id = await _upsert_document(conn, collection, document, len(chunks))
            avgdl = (term_total + sum(t.length for t in terms)) / max(chunk_total + len(chunks), 1)
            await _insert_chunks(conn, collection, document_id, document, chunks, terms, avgdl)
            await keyword.add_chunks(conn, collection.id, terms, documents=0 if old else 1)
            await conn.execute(query("refresh_languages"), {**ids, "language": document.language})
            if old and old["content_hash"] != document.content_hash:
                await conn.execute(
                    query("delete_unused_file"), {"content_hash": old["content_hash"]}
                )
        return WriteResult(str(document_id), "replaced" if old else "added", len(chunks))

    async def delete(
        self, collection: Collection, *, source: str | None = None, document_id: str | None = None
    ) -> None:
        """Delete a document (by source or by id) with its chunks, and its file once unused.

        :raises NotFoundError: if the collection has no such document.
        """
        ids = {"collection_id": collection.id, "source": source, "document_id": document_id}
        async with self.db.transaction() as conn:
            await conn.execute(query("lock_collection"), ids)
            row = None
            if source is not None or is_uuid(document_id):
                statement = "find_document" if source is not None else "find_document_by_id"
                row = await (await conn.execute(query(statement), ids)).fetchone()
            if row is None:
                raise NotFoundError(
                    f"document {source or document_id!r} not found in collection "
                    f"{collection.name!r}",
                    code="document_not_found",
                )
            await keyword.release_document(conn, collection.id, row["id"])
            await conn.execute(query("delete_document"), {"document_id": row["id"]})
            await keyword.add_counts(conn, collection.id, -1, 0, 0)
            await conn.execute(query("refresh_languages"), {**ids, "language": None})
            await conn.execute(query("delete_unused_file"), {"content_hash": row["content_hash"]})

    async def in_collections(self, collections: Sequence[Collection]) -> list[DocumentInfo]:
        """The documents of these collections, by collection and source (from the reader)."""
        rows = await self.reader.fetch_all(
            query("list_documents"), {"collections": [c.id for c in collections]}
        )
        return [DocumentInfo(**{**r, "id": str(r["id"])}) for r in rows]

    async def with_status(
        self, collection: Collection, *, limit: int = 1000, offset: int = 0
    ) -> list[dict[str, Any]]:
        """A collection's documents with their newest ingestion job (see ``jobs.sql``)."""
        async with self.db.connection() as conn:
            return await (
                await conn.execute(
                    query("list_documents_with_status"),
                    {"collection_id": collection.id, "limit": limit, "offset": offset},
                )
            ).fetchall()


async def _upsert_document(
    conn: Connection, collection: Collection, document: DocumentRecord, chunk_count: int
) -> Any:
    row = await (
        await conn.execute(
            query("upsert_document"),
            {
                "collection_id": collection.id,
                "source": document.source,
                "title": document.title,
                "media_type": document.media_type,
                "content_hash": document.content_hash,
                "size_bytes": document.size_bytes,
                "chunk_count": chunk_count,
                "metadata": Jsonb(document.metadata),
                "language": document.language,
            },
        )
    ).fetchone()
    assert row is not None
    return row["id"]


async def _insert_chunks(
    conn: Connection,
    collection: Collection,
    document_id: Any,
    document: DocumentRecord,
    chunks: Sequence[ChunkRecord],
    terms: Sequence[KeywordTerms],
    avgdl: float,
) -> None:
    metadata = Jsonb(document.metadata)  # chunks carry it, so filters need no join
    async with conn.cursor() as cur:
        await cur.executemany(
            query("insert_chunk"),
            [
                {
                    "document_id": document_id,
                    "collection_id": collection.id,
                    "ordinal": c.ordinal,
                    "text": c.text,
                    "page": c.page,
                    "heading": c.heading,
                    "token_count": c.token_count,
                    "metadata": metadata,
                    "space_id": collection.space_id,
                    "embedding": Vector(c.embedding),
                    "terms": sorted(t.tf),
                    "term_count": t.length,
                    "bm25": t.bm25_vector(avgdl),
                    "language": document.language,
                }
                for c, t in zip(chunks, terms, strict=True)
            ],
        )
