"""Shared fixtures: a real embedded PostgreSQL (one per test session), a fresh database per test
cloned from a migrated template, the bundled embedding model and a fake OpenAI-compatible server.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import sql

from kotaemon.core.secrets import Secret
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.engine import Engine
from kotaemon.observability.logging import JsonFormatter
from kotaemon.observability.tracing import setup_tracing
from kotaemon.settings import Settings
from kotaemon.store import migrate
from kotaemon.store.embedded import _with_database, start_embedded_postgres

from .fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_BASE = ROOT / "examples" / "knowledge_base"
TEMPLATE = "kotaemon_template"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The embedded server's URL for the ``postgres`` database, with a migrated template.

    Its data lives outside pytest's temporary folders (which pytest prunes, and keeps private to
    root, while the server runs as its own user) and is deleted at exit.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="kotaemon-test-"))
    data_dir.chmod(0o755)
    url = start_embedded_postgres(data_dir, database=TEMPLATE, delete_on_exit=True)
    migrate.upgrade(url)
    return _with_database(url, "postgres")


@contextmanager
def fresh_database(admin_url: str, template: str = TEMPLATE) -> Iterator[str]:
    """A new database cloned from the migrated template (or ``template0``: an empty one),
    dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def embedder() -> BundledE5Embedder:
    return BundledE5Embedder()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=Secret(database_url),
        data_dir=tmp_path,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def engine(database_url: str, tmp_path: Path) -> AsyncIterator[Engine]:
    """An open engine on a fresh database, with the extractive answerer."""
    async with Engine(make_settings(database_url, tmp_path)) as opened:
        yield opened


#: How long a test waits for an event it knows will come (a safety net, never a pace).
EVENT_TIMEOUT_SECONDS = 60.0


class SpanCapture(InMemorySpanExporter):
    """Every finished span; :meth:`wait_for` blocks until a span arrives (a server ends its
    request span after the response has reached the client)."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = threading.Condition()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = super().export(spans)
        with self._arrived:
            self._arrived.notify_all()
        return result

    def wait_for(self, name: str, count: int = 1) -> list[ReadableSpan]:
        """The finished spans named ``name``, once ``count`` of them have ended."""

        def ended() -> list[ReadableSpan]:
            found = [s for s in self.get_finished_spans() if s.name == name]
            return found if len(found) >= count else []

        with self._arrived:
            found = self._arrived.wait_for(ended, timeout=EVENT_TIMEOUT_SECONDS)
        assert found, f"fewer than {count} spans {name!r} ended"
        return found


@pytest.fixture(scope="session")
def span_exporter() -> SpanCapture:
    """Every span of the test process lands here (the provider is the process's own)."""
    exporter = SpanCapture()
    setup_tracing().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: SpanCapture) -> SpanCapture:
    span_exporter.clear()
    return span_exporter


class LogCapture(logging.Handler):
    """The service's log lines, formatted as in production (one JSON object per line);
    :meth:`wait_for` blocks until a matching line is written (the access line is written after
    the response has reached the client)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self._lines: list[str] = []
        self._written = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._written:
            self._lines.append(line)
            self._written.notify_all()

    def getvalue(self) -> str:
        with self._written:
            return "\n".join(self._lines) + "\n" if self._lines else ""

    def lines(self) -> list[dict[str, Any]]:
        with self._written:
            return [json.loads(line) for line in self._lines]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first line (parsed) for which ``predicate`` holds, once it is written."""
        with self._written:
            found = self._written.wait_for(
                lambda: [x for x in map(json.loads, self._lines) if predicate(x)],
                timeout=EVENT_TIMEOUT_SECONDS,
            )
        assert found, "the log line never came"
        return found[0]


@pytest.fixture
def json_log() -> Iterator[LogCapture]:
    """What the service logs while the test runs, formatted as in production."""
    handler = LogCapture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the database are integration tests (``-m "not integration"`` skips them)."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
