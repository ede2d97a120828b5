"""The connection pool to one PostgreSQL server, and the one place driver errors become ours.

Every store module (collections, documents, search, jobs, answers, security) talks to the
database through a :class:`Database`: pooled autocommit connections with dict rows, pgvector
types, statement and lock timeouts, and ``psycopg`` errors turned into :class:`StoreError` (or
:class:`InvalidInputError` for a value PostgreSQL cannot hold).

An outage never hangs a request: a connection is waited for at most ``connect_timeout``; once
the server is found down, requests fail at once (503, ``Retry-After``) for a second before the
next try; pooled connections are checked before use, so the first requests after a restart do
not meet a dead connection.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, LiteralString, Protocol

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from kotaemon.core.errors import InvalidInputError, StoreError, StoreTimeoutError

log = logging.getLogger(__name__)

#: A pooled connection as the store modules use it: autocommit, rows as dicts.
Connection = psycopg.AsyncConnection[DictRow]
Statement = LiteralString | sql.Composed


class Reader(Protocol):
    """Where read-only statements run: a :class:`Database`, or a replica with the primary as
    its fallback (:class:`~kotaemon.store.replica.ReplicaReader`)."""

    async def fetch_all(self, statement: Statement, params: dict[str, Any]) -> list[DictRow]: ...


class Database:
    """A pool of connections to one server.

    Example::

        db = Database(url, pool_size=10, timeout=30)
        await db.open()
        async with db.connection() as conn:
            row = await (await conn.execute("SELECT 1 AS one")).fetchone()
        await db.close()

    :param timeout: the statement and lock timeout of every connection.
    :param connect_timeout: seconds to wait for a connection (a free one, or a new one).
    """

    #: Once the server is found down, requests fail at once for this long before a new try.
    RETRY_SECONDS = 1.0

    def __init__(
        self, url: str, *, pool_size: int = 10, timeout: float = 30.0, connect_timeout: float = 5.0
    ) -> None:
        self.timeout = timeout
        self._pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            # psycopg_pool retries a lost server with a doubling delay (1, 2, 4… s): give up
            # the series soon, so that the next request tries at once when the server is back.
            reconnect_timeout=max(5.0, 2 * connect_timeout),
            open=False,
            configure=self._configure,
            check=AsyncConnectionPool.check_connection,  # a restarted server broke them
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": max(2, math.ceil(connect_timeout)),  # libpq's, for new ones
            },
        )
        self._down_until: float | None = None

    async def open(self, *, wait: bool = True) -> None:
        """Open the pool and (with ``wait``) wait for its first connection.

        :raises StoreError: if the server cannot be reached in time.
        """
        try:
            await self._pool.open(wait=wait, timeout=self._pool.timeout)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            await self._pool.close()
            raise StoreError(
                f"cannot reach PostgreSQL ({exc}); check KOTAEMON_DATABASE_URL and that the "
                "server runs"
            ) from exc

    async def close(self) -> None:
        await self._pool.close()

    async def _configure(self, conn: Connection) -> None:
        await register_vector_async(conn)
        # Iterative scans keep filtered HNSW searches from coming back short.
        await conn.execute("SET hnsw.ef_search = 100")
        await conn.execute("SET hnsw.iterative_scan = relaxed_order")
        await limit_statements(conn, self.timeout)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; driver errors become ``StoreError``."""
        if self._down_until is not None and time.monotonic() < self._down_until:
            raise StoreError("the database is unavailable; retry shortly")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            if not self._pool.get_stats().get("pool_size"):  # no connection at all: it is down
                self._went_down()
            raise StoreError("no database connection in time; retry shortly") from exc
        except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable) as exc:
            raise StoreTimeoutError(
                "the database did not answer in time (KOTAEMON_DB_TIMEOUT); retry shortly"
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
            self._went_down()
            raise StoreError(f"database unavailable: {exc}") from exc
        except psycopg.Error as exc:
            log.exception("database error")
            raise StoreError(
                f"database error ({type(exc).__name__}); see the server log", code="store_error"
            ) from exc

        else:
            if self._down_until is not None:
                self._down_until = None
                log.warning("the database answers again")

    def _went_down(self) -> None:
        if self._down_until is None:
            log.warning("the database is unavailable; requests fail with 503 until it answers")
        self._down_until = time.monotonic() + self.RETRY_SECONDS

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def fetch_all(self, statement: Statement, params: dict[str, Any]) -> list[DictRow]:
        """The rows of one read-only statement."""
        async with self.connection() as conn:
            return await (await conn.execute(statement, params)).fetchall()


async def limit_statements(conn: Connection, seconds: float) -> None:
    """No statement or lock wait on ``conn`` may outlast ``seconds`` (0: no limit)."""
    milliseconds = sql.Literal(int(seconds * 1000))
    await conn.execute(sql.SQL("SET statement_timeout = {}").format(milliseconds))
    await conn.execute(sql.SQL("SET lock_timeout = {}").format(milliseconds))


def is_uuid(value: Any) -> bool:
    """Whether ``value`` is a UUID (an id from a URL may be anything)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
