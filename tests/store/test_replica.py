"""A read replica for real: a streaming standby of a primary, both PostgreSQL servers of the
test's own. Search reads from the replica, what must see its own writes reads from the primary,
and a replica that is down costs no request."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kotaemon.core.secrets import Secret
from kotaemon.engine import Engine
from kotaemon.observability.metrics import REPLICA_FALLBACKS

from ..conftest import EVENT_TIMEOUT_SECONDS, make_settings
from ..postgres_servers import OwnServer, replay_caught_up

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[OwnServer, OwnServer, str, str]]:
    with OwnServer() as primary:
        url = primary.url("kotaemon")
        replica = primary.standby()
        read_url = url.replace(str(primary.sockets), str(replica.sockets)).replace(
            f"port={primary.port}", f"port={replica.port}"
        )
        try:
            yield primary, replica, url, read_url
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # the test may stop it
                replica.stop("immediate")


def _caught_up(url: str, read_url: str) -> None:
    """Wait until the standby has replayed the primary's writes (the event; a safety net)."""
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while not replay_caught_up(url, read_url):
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.02)


def _replay(read_url: str, action: str) -> None:
    with psycopg.connect(read_url, autocommit=True) as conn:
        conn.execute(f"SELECT pg_wal_replay_{action}()")


async def test_search_reads_the_replica_and_falls_back_to_the_primary(
    servers: tuple[OwnServer, OwnServer, str, str], tmp_path: Path
) -> None:
    _, replica, url, read_url = servers
    settings = make_settings(url, tmp_path, database_read_url=Secret(read_url))
    async with Engine(settings) as engine:
        collection = await engine.ensure_collection("kb")
        await engine.ingest.ingest_bytes(
            b"The grace period is three days.", "grace.txt", collection
        )
        _caught_up(url, read_url)
        found = await engine.retriever.arun("grace period", mode="keyword")
        assert [c.source for c in found.chunks] == ["grace.txt"]

        # With the replica's replay paused, a new document is on the primary only: the
        # documents' status (read-your-writes) sees it, search (the replica) does not yet.
        _replay(read_url, "pause")
        await engine.ingest.ingest_bytes(b"The annual fee is waived.", "fee.txt", collection)
        statuses = await engine.store.documents.with_status(collection)
        assert {row["source"] for row in statuses} == {"grace.txt", "fee.txt"}
        assert (await engine.retriever.arun("annual fee", mode="keyword")).chunks == []
        _replay(read_url, "resume")
        _caught_up(url, read_url)
        fee = await engine.retriever.arun("annual fee", mode="keyword")
        assert [c.source for c in fee.chunks] == ["fee.txt"]

        # The replica goes down: searches go on from the primary, counted.
        replica.stop("immediate")
        fallbacks = REPLICA_FALLBACKS._value.get()
        for _ in range(3):
            hit = await engine.retriever.arun("grace period", mode="keyword", top_k=1)
            assert [c.source for c in hit.chunks] == ["grace.txt"]
        assert REPLICA_FALLBACKS._value.get() >= fallbacks + 3
