"""The PostgreSQL + pgvector store: collections, documents, chunks, vectors and BM25 terms.

Every read takes the collections a principal may see (``visible_collections``) and filters inside
SQL; a chunk of a collection the caller cannot read is never loaded. Writes to one collection are
serialised by a row lock, so a document's chunks, vectors and the BM25 statistics change together
in one transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector_async
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from kotaemon.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection, DocumentInfo, RetrievedChunk
from kotaemon.store import migrate
from kotaemon.store.base import TERM_SPACE, ChunkRecord, DocumentRecord, WriteResult
from kotaemon.store.queries import composed, query

log = logging.getLogger(__name__)

#: pgvector indexes (HNSW) take vectors of at most 2,000 dimensions.
MAX_INDEXED_DIM = 2000


class PostgresStore:
    """Async access to the kotaemon schema over a connection pool.

    Example::

        store = PostgresStore(url)
        await store.open()          # checks versions, applies migrations, opens the pool
        cols = await store.collections(Principal.local())
        await store.close()
    """

    def __init__(
        self, url: str, *, pool_size: int = 10, timeout: float = 30.0, auto_migrate: bool = True
    ) -> None:
        self._url = url
        self._auto_migrate = auto_migrate
        self._timeout = timeout
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            open=False,
            configure=self._configure,
            kwargs={"autocommit": True, "row_factory": dict_row},
        )
        self._spaces: dict[str, tuple[int, int]] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Check the server, bring the schema up to date (or check it is) and open the pool.

        :raises StoreError: if the server is unreachable or too old, or the schema is behind.
        """
        prepare = migrate.upgrade if self._auto_migrate else migrate.check_current
        await anyio.to_thread.run_sync(prepare, self._url)
        try:
            await self._pool.open(wait=True, timeout=self._pool.timeout)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            await self._pool.close()
            raise StoreError(
                f"cannot reach PostgreSQL ({exc}); check KOTAEMON_DATABASE_URL and that the "
                "server runs"
            ) from exc

    async def close(self) -> None:
        await self._pool.close()

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        await register_vector_async(conn)
        # Iterative scans keep filtered HNSW searches from coming back short.
        await conn.execute("SET hnsw.ef_search = 100")
        await conn.execute("SET hnsw.iterative_scan = relaxed_order")
        await self._limit_statements(conn, self._timeout)

    @staticmethod
    async def _limit_statements(conn: psycopg.AsyncConnection, seconds: float) -> None:
        """No statement or lock wait on ``conn`` may outlast ``seconds`` (0: no limit)."""
        milliseconds = sql.Literal(int(seconds * 1000))
        await conn.execute(sql.SQL("SET statement_timeout = {}").format(milliseconds))
        await conn.execute(sql.SQL("SET lock_timeout = {}").format(milliseconds))

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled connection (autocommit, dict rows); driver errors become ``StoreError``."""
        try:
            async with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError("no database connection free in time; retry shortly") from exc
        except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable) as exc:
            raise StoreError(
                "the database did not answer in time (KOTAEMON_DB_TIMEOUT); retry shortly",
                code="store_timeout",
            ) from exc
        except psycopg.errors.IntegrityError:
            raise  # the caller turns it into a conflict or an invalid-input error
        except psycopg.errors.DataError as exc:  # a value PostgreSQL cannot hold (NUL in text…)
            raise InvalidInputError(
                f"a value cannot be stored ({exc.diag.message_primary or exc}); remove NUL "
                "characters and out-of-range values",
                code="invalid_value",
            ) from exc
        except psycopg.OperationalError as exc:
            raise StoreError(f"database unavailable: {exc}") from exc
        except psycopg.Error as exc:
            log.exception("database error")
            raise StoreError(
                f"database error ({type(exc).__name__}); see the server log", code="store_error"
            ) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled connection inside one transaction."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    # --- embedding spaces --------------------------------------------------------------------

    async def ensure_space(self, model: str, dim: int) -> int:
        """The id of ``model``'s vector space, registered with its HNSW index on first use.

        :raises ConfigurationError: if the model is registered with another dimension, or has
            more dimensions than pgvector can index.
        """
        if dim > MAX_INDEXED_DIM:
            raise ConfigurationError(
                f"embedding model {model} has {dim} dimensions; pgvector indexes at most "
                f"{MAX_INDEXED_DIM}: pick a smaller model or ask the server for fewer dimensions"
            )
        if model not in self._spaces:
            async with self.connection() as conn:
                await conn.execute(query("insert_space"), {"model": model, "dim": dim})
                row = await (await conn.execute(query("find_space"), {"model": model})).fetchone()
                assert row is not None
                await self._create_space_index(conn, row["id"], row["dim"])
            self._spaces[model] = (row["id"], row["dim"])
        space_id, known_dim = self._spaces[model]
        if known_dim != dim:
            raise ConfigurationError(
                f"embedding model {model} is registered with dimension {known_dim}, not {dim}"
            )
        return space_id

    async def _create_space_index(
        self, conn: psycopg.AsyncConnection, space_id: int, dim: int
    ) -> None:
        """Build a space's HNSW index without blocking writers (CONCURRENTLY, no time limit)."""
        index = f"chunks_embedding_space_{space_id}_idx"
        exists = await (await conn.execute(query("index_exists"), {"name": index})).fetchone()
        if exists:
            return
        await self._limit_statements(conn, 0)
        try:
            await conn.execute(composed("create_space_index", index=index, dim=dim, space=space_id))
        except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
            pass  # another process built it at the same moment
        finally:
            await self._limit_statements(conn, self._timeout)

    # --- collections -------------------------------------------------------------------------

    async def create_collection(
        self,
        owner: Principal,
        name: str,
        *,
        model: str,
        dim: int,
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Collection:
        """Create a collection owned by ``owner`` whose chunks are embedded with ``model``.

        :raises ConflictError: if the name is taken.
        :raises InvalidInputError: if the name is not 1-64 letters, digits, ``_``, ``.``, ``-``.
        """
        space_id = await self.ensure_space(model, dim)
        params = {
            "name": name,
            "description": description,
            "owner_id": owner.user_id,
            "space_id": space_id,
            "metadata": Jsonb(metadata or {}),
        }
        try:
            async with self.transaction() as conn:
                await conn.execute(query("insert_collection"), params)
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(
                f"collection {name!r} already exists; pick another name", code="collection_exists"
            ) from exc
        except psycopg.errors.CheckViolation as exc:
            raise InvalidInputError(
                f"invalid collection name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit",
                code="invalid_collection_name",
            ) from exc
        return await self.collection(owner, name)

    async def collections(
        self, principal: Principal, names: Sequence[str] | None = None, *, write: bool = False
    ) -> list[Collection]:
        """The collections ``principal`` may read (or write), optionally only those named."""
        params = {
            "names": list(names) if names is not None else None,
            "is_admin": principal.is_admin,
            "user_id": principal.user_id,
            "groups": sorted(principal.groups),
            "write": write,
        }
        async with self.connection() as conn:
            rows = await (await conn.execute(query("visible_collections"), params)).fetchall()
        return [
            Collection(
                id=str(r["id"]),
                name=r["name"],
                description=r["description"],
                owner_id=r["owner_id"],
                embedding_model=r["model"],
                dim=r["dim"],
                space_id=r["space_id"],
                chunk_count=r["chunk_count"],
                document_count=r["document_count"],
            )
            for r in rows
        ]

    async def collection(
        self, principal: Principal, name: str, *, write: bool = False
    ) -> Collection:
        """One collection by name. Unknown and invisible collections look the same.

        :raises NotFoundError: if there is no such collection the principal may see.
        """
        found = await self.collections(principal, [name], write=write)
        if not found:
            raise NotFoundError(
                f"collection {name!r} not found; list collections with `kotaemon collections`",
                code="collection_not_found",
            )
        return found[0]

    async def writable_collection(self, principal: Principal, name: str) -> Collection:
        """A collection the principal may add to.

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal may only read it.
        """
        try:
            return await self.collection(principal, name, write=True)
        except NotFoundError:
            await self.collection(principal, name)  # not found at all: that error
            raise PermissionDeniedError(
                f"you may read collection {name!r} but not change it; ask its owner for write "
                "access"
            ) from None

    async def delete_collection(self, principal: Principal, name: str) -> None:
        """Delete a collection and everything in it (its owner or an admin only).

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal does not own it.
        """
        target = await self.collection(principal, name)
        _require_owner(principal, target, "delete")
        async with self.transaction() as conn:
            await conn.execute(query("delete_collection"), {"collection_id": target.id})

    async def grant(
        self,
        principal: Principal,
        collection: Collection,
        *,
        grantee_kind: str,
        grantee: str,
        permission: str,
    ) -> None:
        """Let a user or group (``grantee_kind``) read or write ``collection``.

        :raises PermissionDeniedError: unless ``principal`` owns the collection or is an admin.
        """
        _require_owner(principal, collection, "share")
        if grantee_kind not in ("user", "group") or permission not in ("read", "write"):
            raise InvalidInputError("grantee_kind is user or group; permission is read or write")
        async with self.transaction() as conn:
            await conn.execute(
                query("grant_access"),
                {
                    "collection_id": collection.id,
                    "grantee_kind": grantee_kind,
                    "grantee": grantee,
                    "permission": permission,
                },
            )

    # --- documents ---------------------------------------------------------------------------

    async def document_hash(self, collection: Collection, source: str) -> str | None:
        """The content hash stored for ``source`` (None if it is not stored)."""
        async with self.connection() as conn:
            row = await (
                await conn.execute(
                    query("find_document"), {"collection_id": collection.id, "source": source}
                )
            ).fetchone()
        return row["content_hash"] if row else None

    async def write_document(
        self,
        collection: Collection,
        document: DocumentRecord,
        chunks: Sequence[ChunkRecord],
        bm25_vector: Any,
        *,
        force: bool = False,
    ) -> WriteResult:
        """Store a document and its chunks, replacing an older version, in one transaction.

        ``bm25_vector(chunk, avgdl)`` builds a chunk's BM25 vector once the collection's average
        length is known. A concurrent writer of the same content makes this a no-op (unless
        ``force``).
        """
        ids = {"collection_id": collection.id, "source": document.source}
        async with self.transaction() as conn:
            counts = await (await conn.execute(query("lock_collection"), ids)).fetchone()
            if counts is None:
                raise NotFoundError(f"collection {collection.name!r} was deleted meanwhile")
            old = await (await conn.execute(query("find_document"), ids)).fetchone()
            if old and old["content_hash"] == document.content_hash and not force:
                return WriteResult(str(old["id"]), "unchanged", 0)
            chunk_total, term_total = counts["chunk_count"], counts["term_count"]
            if old:
                released = await self._release(conn, collection.id, old["id"])
                chunk_total, term_total = chunk_total - released[0], term_total - released[1]
            if document.data is not None:
                await conn.execute(
                    query("insert_file"),
                    {
                        "content_hash": document.content_hash,
                        "data": document.data,
                        "size_bytes": len(document.data),
                    },
                )
            document_id = await self._upsert_document(conn, collection, document, len(chunks))
            new_terms = sum(c.term_count for c in chunks)
            avgdl = (term_total + new_terms) / max(chunk_total + len(chunks), 1)
            await self._insert_chunks(
                conn, collection, document_id, document.metadata, chunks, bm25_vector, avgdl
            )
            await self._add_counts(conn, collection.id, 0 if old else 1, len(chunks), new_terms)
            if old and old["content_hash"] != document.content_hash:
                await conn.execute(
                    query("delete_unused_file"), {"content_hash": old["content_hash"]}
                )
        return WriteResult(str(document_id), "replaced" if old else "added", len(chunks))

    async def _release(
        self, conn: psycopg.AsyncConnection, collection_id: str, document_id: Any
    ) -> tuple[int, int]:
        """Take a document's chunks out of the statistics and delete them.

        :returns: how many chunks and terms were removed.
        """
        params = {"collection_id": collection_id, "document_id": document_id}
        await conn.execute(query("release_document_terms"), params)
        row = await (await conn.execute(query("delete_chunks"), params)).fetchone()
        assert row is not None
        await self._add_counts(conn, collection_id, 0, -row["chunks"], -row["terms"])
        return int(row["chunks"]), int(row["terms"])

    async def _upsert_document(
        self,
        conn: psycopg.AsyncConnection,
        collection: Collection,
        document: DocumentRecord,
        chunk_count: int,
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
                },
            )
        ).fetchone()
        assert row is not None
        return row["id"]

    async def _insert_chunks(
        self,
        conn: psycopg.AsyncConnection,
        collection: Collection,
        document_id: Any,
        document_metadata: dict[str, Any],
        chunks: Sequence[ChunkRecord],
        bm25_vector: Any,
        avgdl: float,
    ) -> None:
        metadata = Jsonb(document_metadata)  # chunks carry it, so filters need no join
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
                        "terms": sorted(c.term_tf),
                        "term_count": c.term_count,
                        "bm25": bm25_vector(c, avgdl),
                    }
                    for c in chunks
                ],
            )
        df: dict[int, int] = {}
        for c in chunks:
            for term in c.term_tf:
                df[term] = df.get(term, 0) + 1
        terms = sorted(df)
        await conn.execute(
            query("add_terms"),
            {"collection_id": collection.id, "terms": terms, "counts": [df[t] for t in terms]},
        )

    @staticmethod
    async def _add_counts(
        conn: psycopg.AsyncConnection, collection_id: str, documents: int, chunks: int, terms: int
    ) -> None:
        await conn.execute(
            query("add_counts"),
            {
                "collection_id": collection_id,
                "documents": documents,
                "chunks": chunks,
                "terms": terms,
            },
        )

    async def delete_document(
        self, collection: Collection, *, source: str | None = None, document_id: str | None = None
    ) -> None:
        """Delete a document (by source or by id) with its chunks, and its file once unused.

        :raises NotFoundError: if the collection has no such document.
        """
        ids = {"collection_id": collection.id, "source": source, "document_id": document_id}
        async with self.transaction() as conn:
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
            await self._release(conn, collection.id, row["id"])
            await conn.execute(query("delete_document"), {"document_id": row["id"]})
            await self._add_counts(conn, collection.id, -1, 0, 0)
            await conn.execute(query("delete_unused_file"), {"content_hash": row["content_hash"]})

    async def update_collection(
        self, principal: Principal, name: str, *, description: str
    ) -> Collection:
        """Change a collection's description (its owner or an admin only).

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal does not own it.
        """
        target = await self.collection(principal, name)
        _require_owner(principal, target, "change")
        async with self.transaction() as conn:
            await conn.execute(
                query("update_collection"),
                {"collection_id": target.id, "description": description},
            )
        return await self.collection(principal, name)

    async def documents_with_status(
        self, collection: Collection, *, limit: int = 1000, offset: int = 0
    ) -> list[dict[str, Any]]:
        """A collection's documents with their newest ingestion job (see ``jobs.sql``)."""
        async with self.connection() as conn:
            return await (
                await conn.execute(
                    query("list_documents_with_status"),
                    {"collection_id": collection.id, "limit": limit, "offset": offset},
                )
            ).fetchall()

    async def documents(self, collections: Sequence[Collection]) -> list[DocumentInfo]:
        async with self.connection() as conn:
            rows = await (
                await conn.execute(
                    query("list_documents"), {"collections": [c.id for c in collections]}
                )
            ).fetchall()
        return [DocumentInfo(**{**r, "id": str(r["id"])}) for r in rows]

    # --- embedding cache ---------------------------------------------------------------------

    async def cached_embeddings(
        self, space_id: int, hashes: Sequence[bytes]
    ) -> dict[bytes, np.ndarray]:
        async with self.connection() as conn:
            rows = await (
                await conn.execute(
                    query("cached_embeddings"), {"space_id": space_id, "hashes": list(hashes)}
                )
            ).fetchall()
        return {bytes(r["content_hash"]): r["embedding"].to_numpy() for r in rows}

    async def cache_embeddings(self, space_id: int, items: dict[bytes, np.ndarray]) -> None:
        if not items:
            return
        async with self.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                query("cache_embedding"),
                [
                    {"space_id": space_id, "content_hash": h, "embedding": Vector(v)}
                    for h, v in items.items()
                ],
            )

    # --- search ------------------------------------------------------------------------------

    async def dense_search(
        self,
        collections: Sequence[Collection],
        vector: np.ndarray,
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks nearest to ``vector`` (cosine) in collections that share one embedding space."""
        if not collections:
            return []
        space_id, dim = collections[0].space_id, collections[0].dim
        statement = composed("dense_search", dim=dim, space=space_id)
        params = {
            "query": Vector(vector),
            "collections": [c.id for c in collections],
            "filter": Jsonb(metadata_filter or {}),
            "limit": limit,
        }
        return await self._search(statement, params, "dense")

    async def keyword_search(
        self,
        collections: Sequence[Collection],
        terms: Sequence[int],
        *,
        limit: int,
        metadata_filter: dict[str, Any] | None = None,
    ) -> list[RetrievedChunk]:
        """Chunks ranked by BM25 for the query's term ids."""
        if not collections or not terms:
            return []
        statement = composed("keyword_search", term_space=TERM_SPACE)
        params = {
            "collections": [c.id for c in collections],
            "terms": list(terms),
            "filter": Jsonb(metadata_filter or {}),
            "limit": limit,
        }
        return await self._search(statement, params, "keyword")

    async def _search(
        self, statement: Any, params: dict[str, Any], kind: str
    ) -> list[RetrievedChunk]:
        async with self.connection() as conn:
            rows = await (await conn.execute(statement, params)).fetchall()
        score_field = "dense_score" if kind == "dense" else "keyword_score"
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
                score=float(r["score"]),
                **{score_field: float(r["score"])},
            )
            for r in rows
        ]


def is_uuid(value: str | None) -> bool:
    """Whether ``value`` is a UUID (an id from a URL may be anything)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _require_owner(principal: Principal, collection: Collection, action: str) -> None:
    if not (principal.is_admin or collection.owner_id == principal.user_id):
        raise PermissionDeniedError(
            f"only the owner of collection {collection.name!r} or an admin may {action} it"
        )
