"""The PostgreSQL + pgvector store: the system of record, one module per responsibility.

=====================  ==========================================================
``collections``        collections, embedding spaces, access lists
``catalog``            the same collections as search and listings see them (from
                       the read replica when there is one)
``documents``          documents and chunks, written in one transaction each
``search``             dense and keyword search (the :class:`SearchIndex`), on the
                       read replica when there is one
``embedding_cache``    vectors by content hash, so no text is embedded twice
``jobs``               ingestion jobs and the stored files they read
``answers``            conversations, recorded answers, feedback
``evals``              eval runs (batch testing) and their per-question results
``security``           API keys, sessions, the audit log, retention
=====================  ==========================================================
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread

from kotaemon.store import migrate
from kotaemon.store.answers import AnswerStore
from kotaemon.store.collections import CollectionStore
from kotaemon.store.database import Database, Reader
from kotaemon.store.documents import DocumentStore
from kotaemon.store.embedding_cache import EmbeddingCache
from kotaemon.store.evals import EvalStore
from kotaemon.store.jobs import JobStore
from kotaemon.store.replica import ReplicaReader
from kotaemon.store.search import PostgresSearch
from kotaemon.store.security import SecurityStore


class PostgresStore:
    """Every part of the store over one connection pool.

    Example::

        store = PostgresStore(url)
        await store.open()          # checks versions, applies migrations, opens the pool
        visible = await store.collections.visible(Principal.local())
        await store.close()


    :param read_url: a streaming replica for search and listings (the primary stands in while
        it is down); every write, and every read that must see its own write, uses ``url``.
    """

    def __init__(
        self,
        url: str,
        *,
        read_url: str | None = None,
        pool_size: int = 10,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        auto_migrate: bool = True,
    ) -> None:
        self._url = url
        self._auto_migrate = auto_migrate
        self.db = Database(
            url, pool_size=pool_size, timeout=timeout, connect_timeout=connect_timeout
        )
        self.replica = (
            ReplicaReader(
                self.db,
                Database(
                    read_url, pool_size=pool_size, timeout=timeout, connect_timeout=connect_timeout
                ),
            )
            if read_url
            else None
        )
        reader: Reader = self.replica if self.replica is not None else self.db
        self.collections = CollectionStore(self.db)
        self.catalog = CollectionStore(self.db, reader=reader)
        self.documents = DocumentStore(self.db, reader=reader)
        self.search = PostgresSearch(reader)
        self.embedding_cache = EmbeddingCache(self.db)
        self.jobs = JobStore(self.db)
        self.answers = AnswerStore(self.db)
        self.evals = EvalStore(self.db)
        self.security = SecurityStore(self.db)

    async def open(self) -> None:
        """Check the server, bring the schema up to date (or check it is) and open the pool.

        :raises StoreError: if the server is unreachable or too old, or the schema is behind.
        """
        await anyio.to_thread.run_sync(
            partial(migrate.prepare, self._url, auto_migrate=self._auto_migrate)
        )
        await self.db.open()
        if self.replica is not None:
            await self.replica.open()

    async def close(self) -> None:
        if self.replica is not None:
            await self.replica.close()
        await self.db.close()
