"""Tools imported from an OpenAPI document: the demo CRM's own, called over real HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from kotaemon.agent.config import load_agent_config
from kotaemon.agent.openapi import openapi_tools
from kotaemon.core.errors import ConfigurationError
from kotaemon.core.principal import Principal

from ..conftest import ROOT
from ..fakes.tool_server import FakeToolServer

pytestmark = pytest.mark.anyio

CUSTOMER = Principal(user_id="a", scopes=frozenset({"chat"}), attributes={"customer_id": "C-7"})


def crm_document() -> dict:
    sys.path.insert(0, str(ROOT / "examples" / "crm"))
    try:
        from server import create_app  # the demo CRM, as it describes itself
    finally:
        sys.path.pop(0)
    return create_app("token").openapi()


async def test_an_operation_becomes_a_tool_with_the_caller_bound(crm: FakeToolServer) -> None:
    [tool] = openapi_tools(
        crm_document(),
        base_url=crm.url,
        operations=["repayment_records"],
        identity={"customer_id": "customer_id"},
    )
    spec = tool.spec().parameters
    assert set(spec["properties"]) == {"month"} and spec["required"] == ["month"]
    assert "pattern" in spec["properties"]["month"]  # the CRM's own validation, kept
    data = await tool.invoke(CUSTOMER, {"month": "2026-11", "customer_id": "C-42"})
    assert data["customer_id"] == "C-7"
    assert crm.requests[0]["path"] == "/customers/C-7/repayments"
    await tool.close()
    with pytest.raises(ConfigurationError, match="no operations"):
        openapi_tools(crm_document(), base_url=crm.url, operations=["delete_everything"])


def test_the_configuration_file_imports_openapi_tools(tmp_path: Path) -> None:
    (tmp_path / "crm.json").write_text(yaml.safe_dump(crm_document()), encoding="utf-8")
    (tmp_path / "agent.yaml").write_text(
        yaml.safe_dump(
            {
                "openapi": [
                    {
                        "spec": "crm.json",
                        "base_url": "http://127.0.0.1:8100",
                        "operations": ["repayment_records"],
                        "identity": {"customer_id": "customer_id"},
                    }
                ],
                "intents": [
                    {"name": "billing", "examples": ["我的账单"], "tools": ["repayment_records"]}
                ],
            }
        ),
        encoding="utf-8",
    )
    config = load_agent_config(tmp_path / "agent.yaml")
    assert [t.name for t in config.tools] == ["repayment_records"]
    assert config.intents[0].tools == ("repayment_records",)
