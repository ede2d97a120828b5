"""Reads from a streaming replica, with the primary as the fallback.

Search, chat retrieval and listings read from ``KOTAEMON_DATABASE_READ_URL`` when it is set;
everything that writes, or must see its own write (a job's status right after its upload, a
conversation just appended), uses the primary. When the replica fails, the read is run again on
the primary and the replica is left alone for a moment (``retry_seconds``), so an outage of the
replica costs no request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from psycopg.rows import DictRow

from kotaemon.core.errors import StoreError
from kotaemon.observability.metrics import REPLICA_FALLBACKS
from kotaemon.store.database import Database, Statement

log = logging.getLogger(__name__)


class ReplicaReader:
    """Runs read-only statements on the replica, else on the primary.

    Example::

        reader = ReplicaReader(primary, Database(read_url, timeout=30))
        rows = await reader.fetch_all("SELECT …", {"id": 1})
    """

    def __init__(self, primary: Database, replica: Database, *, retry_seconds: float = 5.0) -> None:
        self.primary = primary
        self.replica = replica
        self.retry_seconds = retry_seconds
        self._down_until: float | None = None

    async def open(self) -> None:
        """Open the replica's pool without waiting: a replica that is down costs no start-up."""
        await self.replica.open(wait=False)

    async def close(self) -> None:
        await self.replica.close()

    async def fetch_all(self, statement: Statement, params: dict[str, Any]) -> list[DictRow]:
        if self._down_until is None or time.monotonic() >= self._down_until:
            try:
                rows = await self.replica.fetch_all(statement, params)
            except StoreError as exc:
                self._fell_back(exc)
            else:
                if self._down_until is not None:
                    self._down_until = None
                    log.warning("the read replica answers again; reads go back to it")
                return rows
        REPLICA_FALLBACKS.inc()
        return await self.primary.fetch_all(statement, params)

    def _fell_back(self, exc: StoreError) -> None:
        if self._down_until is None:
            log.warning(
                "the read replica is unavailable; reading from the primary",
                extra={"error": exc.message},
            )
        self._down_until = time.monotonic() + self.retry_seconds
