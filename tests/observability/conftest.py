"""Spans captured by an in-memory exporter, and log lines captured as the service writes them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kotaemon.observability.logging import JsonFormatter
from kotaemon.observability.tracing import setup_tracing

# The service over the sample knowledge base, as the server tests have it.
from ..server.conftest import fake_llm, kb_database_url, kb_server  # noqa: F401


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
