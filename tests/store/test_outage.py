"""A PostgreSQL outage for real (a server of the test's own, stopped and started): requests fail
with 503 and Retry-After instead of hanging, /readyz fails, and the service recovers by itself
when the server is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kotaemon.core.errors import StoreError
from kotaemon.engine import Engine

from ..conftest import EVENT_TIMEOUT_SECONDS, make_settings
from ..fakes.openai_server import FakeOpenAIServer
from ..postgres_servers import OwnServer
from ..server.conftest import live_server, server_settings

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def server() -> Iterator[OwnServer]:
    with OwnServer() as own:
        yield own


async def test_the_store_fails_fast_and_recovers(server: OwnServer, tmp_path: Path) -> None:
    url = server.url("kotaemon")
    async with Engine(make_settings(url, tmp_path, db_connect_timeout=2)) as engine:
        engine.store.db.RETRY_SECONDS = 0  # no pause between tries: the test restarts at once
        collection = await engine.ensure_collection("kb")
        await engine.ingest.ingest_bytes(b"The grace period is three days.", "g.txt", collection)
        server.stop()
        for _ in range(2):
            with pytest.raises(StoreError) as failed:
                await engine.retriever.arun("grace period", mode="keyword")
            assert failed.value.status == 503 and failed.value.headers == {"Retry-After": "1"}
        server.start()
        found = await engine.retriever.arun("grace period", mode="keyword")  # no restart needed
        assert [c.source for c in found.chunks] == ["g.txt"]


def test_the_service_answers_503_with_retry_after_while_the_database_is_down(
    server: OwnServer, fake_llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    url = server.url("kotaemon")
    settings = server_settings(url, tmp_path, fake_llm, db_connect_timeout=2)
    with live_server(settings) as live, live.client() as http:
        assert http.get("/readyz").status_code == 200
        server.stop()
        not_ready = http.get("/readyz")
        assert not_ready.status_code == 503
        for _ in range(3):
            response = http.post("/v1/search", json={"query": "grace period"})
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.json()["error"]["code"].startswith("store_")
        server.start()  # the same service process throughout: no restart
        recovered = _until_ready(http)
        assert recovered.status_code == 200
        assert http.post("/v1/search", json={"query": "grace period"}).status_code == 200


def _until_ready(http: httpx.Client) -> httpx.Response:
    """The service tries the database again a second after it found it down: wait for
    readiness (the event), with a safety net."""
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while (response := http.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    return response
