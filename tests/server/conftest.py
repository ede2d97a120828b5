"""Real uvicorn servers in background threads, talking over HTTP to the test and the fake LLM.

The sample knowledge base is ingested once for the package (``kb_database_url``); every server
of the package that needs it shares that database, as replicas of the service would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from kotaemon.engine import Engine
from kotaemon.server.runner import Server, build_server
from kotaemon.settings import Settings

from ..conftest import KNOWLEDGE_BASE, fresh_database, make_settings
from ..fakes.openai_server import FakeOpenAIServer

STARTUP_TIMEOUT_SECONDS = 120.0


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    server: Server
    settings: Settings

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def server_settings(database_url: str, data_dir: Path, llm: FakeOpenAIServer, **overrides: Any):
    """Settings for a test server: the fake LLM without retries, a short shutdown grace."""
    values: dict[str, Any] = {
        "llm_base_url": llm.base_url,
        "llm_model": "fake-model",
        "llm_max_retries": 0,
        "shutdown_grace_seconds": 5,
        # The suites send hundreds of requests a minute from one address; limits are tested
        # on servers of their own.
        "rate_limit_per_minute": 0,
        "rate_limit_ip_per_minute": 0,
    }
    return make_settings(database_url, data_dir, **(values | overrides))


@contextmanager
def live_server(settings: Settings, *, with_worker: bool = False) -> Iterator[LiveServer]:
    """``kotaemon serve``'s server, on a free loopback port, run in a thread until exit."""
    server, app = build_server(settings, with_worker=with_worker)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by the fixture, not lost in the thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="kotaemon-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            raise RuntimeError(f"the test server did not start: {failure!r}")
        time.sleep(0.02)
    live = LiveServer(f"http://127.0.0.1:{sock.getsockname()[1]}", app, server, settings)
    try:
        with live.client() as client:
            assert client.get("/healthz").status_code == 200
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()
    assert not thread.is_alive(), "the test server did not stop"
    assert not failure, failure


def ingest(settings: Settings, path: Path, collection: str) -> None:
    """Ingest through the engine API, on an event loop of its own (in a worker thread)."""

    async def main() -> None:
        async with Engine(settings) as engine:
            target = await engine.ensure_collection(collection)
            results = await engine.ingest.arun(path, target)
            assert all(r.status != "failed" for r in results), results

    failure: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="kotaemon-test-ingest")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture(scope="package")
def fake_llm() -> Iterator[FakeOpenAIServer]:
    """One fake LLM for the package's servers (each test consumes the replies it queues)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="package")
def kb_database_url(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding the sample knowledge base in collection ``bank``."""
    with fresh_database(postgres_admin_url) as url:
        settings = make_settings(url, tmp_path_factory.mktemp("ingest"))
        ingest(settings, KNOWLEDGE_BASE, "bank")
        yield url


@pytest.fixture(scope="package")
def kb_server(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The service over the sample knowledge base, with a short SSE heartbeat."""
    settings = server_settings(
        kb_database_url, tmp_path_factory.mktemp("kb"), fake_llm, sse_heartbeat_seconds=0.2
    )
    with live_server(settings) as live:
        yield live


@pytest.fixture(scope="package")
def upload_server(
    postgres_admin_url: str, fake_llm: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The service with an ingestion worker in the process, on a database of its own."""
    with fresh_database(postgres_admin_url) as url:
        settings = server_settings(
            url, tmp_path_factory.mktemp("uploads"), fake_llm, max_file_bytes=2**20
        )
        with live_server(settings, with_worker=True) as live:
            yield live


@pytest.fixture
def client(kb_server: LiveServer) -> Iterator[httpx.Client]:
    with kb_server.client() as http:
        yield http


@dataclass
class SSEStream:
    """A parsed ``text/event-stream``: the events in order, and how many pings came."""

    events: list[tuple[str, Any]]
    pings: int

    @property
    def types(self) -> list[str]:
        return [kind for kind, _ in self.events]


def parse_sse(raw: str) -> SSEStream:
    events: list[tuple[str, Any]] = []
    pings = 0
    assert raw.endswith("\n\n"), "the stream must end on a frame boundary"
    for frame in raw.split("\n\n")[:-1]:
        if frame == ": ping":
            pings += 1
            continue
        kind, data = frame.split("\n")
        assert kind.startswith("event: ") and data.startswith("data: "), frame
        events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return SSEStream(events, pings)


def error_of(response: httpx.Response) -> dict[str, str]:
    """The ``error`` object of a JSON error response (checking the envelope)."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]
