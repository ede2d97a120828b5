"""The service with the agent configured against a fake CRM, over the sample knowledge base."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..conftest import ROOT
from ..fakes.tool_server import FakeToolServer
from ..server.conftest import fake_llm, kb_database_url  # noqa: F401


@pytest.fixture
def crm() -> Iterator[FakeToolServer]:
    with FakeToolServer() as server:
        yield server


@pytest.fixture
def agent_config(crm: FakeToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/agent.yaml, pointed at the fake CRM, with a short tool timeout."""
    monkeypatch.setenv("CRM_TOKEN", "crm-test-token")
    config = yaml.safe_load((ROOT / "examples" / "agent.yaml").read_text(encoding="utf-8"))
    tool = config["tools"][0]
    tool["url"] = f"{crm.url}/customers/{{customer_id}}/repayments"
    tool["timeout"] = 1
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path
