"""Schemathesis against the service's own OpenAPI description, over real HTTP: generated
requests (valid and not) to every operation find no 5xx and no response that breaks the schema.
Bounded in examples per operation, so it runs in the suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kotaemon.server import create_app
from kotaemon.settings import Settings

from ..conftest import KNOWLEDGE_BASE, fresh_database
from ..fakes.openai_server import FakeOpenAIServer
from .conftest import LiveServer, ingest, live_server, server_settings

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_server(
    postgres_admin_url: str, fake_llm: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of its own: the generated requests create and delete what they like."""
    with fresh_database(postgres_admin_url) as url:
        data_dir: Path = tmp_path_factory.mktemp("fuzz")
        config = server_settings(url, data_dir, fake_llm, max_file_bytes=2**20)
        ingest(config, KNOWLEDGE_BASE / "en" / "fees.md", "bank")
        with live_server(config, with_worker=True) as live:
            yield live


# The description the server publishes at /openapi.json, built without starting anything;
# requests that fit it and requests that break it.
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]
schema.config.generation.update(modes=list(GenerationMode))


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same requests on every run: CI fails only on a real regression
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_fails_or_breaks_its_schema(
    case: schemathesis.Case, fuzz_server: LiveServer
) -> None:
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS, timeout=60)
