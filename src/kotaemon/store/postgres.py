"""The PostgreSQL + pgvector store: the system of record, one module per responsibility.

=====================  ==========================================================
``collections``        collections, embedding spaces, access lists
``documents``          documents and chunks, written in one transaction each
``search``             dense and keyword search (the :class:`SearchIndex`)
``embedding_cache``    vectors by content hash, so no text is embedded twice
``jobs``               ingestion jobs and the stored files they read
``answers``            conversations, recorded answers, feedback
``security``           API keys, sessions, the audit log, retention
=====================  ==========================================================
"""

from __future__ import annotations

import anyio.to_thread

from kotaemon.store import migrate
from kotaemon.store.answers import AnswerStore
from kotaemon.store.collections import CollectionStore
from kotaemon.store.database import Database
from kotaemon.store.documents import DocumentStore
from kotaemon.store.embedding_cache import EmbeddingCache
from kotaemon.store.jobs import JobStore
from kotaemon.store.search import PostgresSearch
from kotaemon.store.security import SecurityStore


class PostgresStore:
    """Every part of the store over one connection pool.

    Example::

        store = PostgresStore(url)
        await store.open()          # checks versions, applies migrations, opens the pool
        visible = await store.collections.visible(Principal.local())
        await store.close()
    """

    def __init__(
        self, url: str, *, pool_size: int = 10, timeout: float = 30.0, auto_migrate: bool = True
    ) -> None:
        self._url = url
        self._auto_migrate = auto_migrate
        self.db = Database(url, pool_size=pool_size, timeout=timeout)
        self.collections = CollectionStore(self.db)
        self.documents = DocumentStore(self.db)
        self.search = PostgresSearch(self.db)
        self.embedding_cache = EmbeddingCache(self.db)
        self.jobs = JobStore(self.db)
        self.answers = AnswerStore(self.db)
        self.security = SecurityStore(self.db)

    async def open(self) -> None:
        """Check the server, bring the schema up to date (or check it is) and open the pool.

        :raises StoreError: if the server is unreachable or too old, or the schema is behind.
        """
        prepare = migrate.upgrade if self._auto_migrate else migrate.check_current
        await anyio.to_thread.run_sync(prepare, self._url)
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
