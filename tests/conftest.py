"""Shared fixtures: a real embedded PostgreSQL (one per test session), a fresh database per test
cloned from a migrated template, the bundled embedding model and a fake OpenAI-compatible server.
"""

from __future__ import annotations

import io
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
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


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """Every span of the test process lands here (the provider is the process's own)."""
    exporter = InMemorySpanExporter()
    setup_tracing().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    span_exporter.clear()
    return span_exporter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service logs while the test runs, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the database are integration tests (``-m "not integration"`` skips them)."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
