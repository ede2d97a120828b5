"""Tools on their own: identity binding, schema checks, URL escaping, secrets, timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kotaemon.agent.tools import HttpTool, PythonTool, ToolError, ToolRegistry
from kotaemon.core.errors import ConfigurationError, InvalidInputError, PermissionDeniedError
from kotaemon.core.principal import Principal

from ..fakes.tool_server import FakeToolServer

pytestmark = pytest.mark.anyio

CUSTOMER = Principal(user_id="alice", scopes=frozenset({"chat"}), attributes={"customer_id": "C-1"})
MONTH = {
    "type": "object",
    "properties": {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
    "required": ["month"],
    "additionalProperties": False,
}


@pytest.fixture
def crm() -> Iterator[FakeToolServer]:
    with FakeToolServer() as server:
        yield server


def _tool(crm: FakeToolServer, **extra: object) -> HttpTool:
    options = {
        "name": "repayments",
        "description": "Repayment records",
        "url": f"{crm.url}/customers/{{customer_id}}/repayments",
        "parameters": MONTH,
        "identity": {"customer_id": "customer_id"},
        "headers": {"Authorization": "Bearer ${env:TEST_CRM_TOKEN}"},
    } | extra
    return HttpTool(**options)  # type: ignore[arg-type]


async def test_identity_comes_from_the_principal_never_the_model(
    crm: FakeToolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_CRM_TOKEN", "crm-secret-1")
    tool = _tool(crm)
    assert "customer_id" not in str(tool.spec().parameters)  # the model is not even told
    data = await tool.invoke(CUSTOMER, {"month": "2026-11", "customer_id": "C-42"})
    assert data["customer_id"] == "C-1"
    [request] = crm.requests
    assert request["path"] == "/customers/C-1/repayments" and request["query"] == {
        "month": "2026-11"
    }
    assert request["headers"]["authorization"] == "Bearer crm-secret-1"
    assert "crm-secret-1" not in repr(tool)
    await tool.close()


async def test_model_values_are_validated_and_escaped(
    crm: FakeToolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_CRM_TOKEN", "t")
    tool = _tool(crm, url=f"{crm.url}/customers/{{customer_id}}/repayments")
    for bad in (
        {"month": "2026-11/../../admin"},
        {"month": 202611},
        {},
        {"month": "2026-11", "x": 1},
    ):
        with pytest.raises(InvalidInputError):
            await tool.invoke(CUSTOMER, bad)
    assert crm.requests == []
    odd = Principal(
        user_id="bob", scopes=frozenset({"chat"}), attributes={"customer_id": "../x?y#z"}
    )
    await tool.invoke(odd, {"month": "2026-11"})
    assert crm.requests[0]["raw_path"] == "/customers/..%2Fx%3Fy%23z/repayments"
    await tool.close()


async def test_a_caller_without_the_attribute_or_scope_is_denied(crm: FakeToolServer) -> None:
    tool = _tool(crm, headers={})
    stranger = Principal(user_id="carol", scopes=frozenset({"chat"}))
    with pytest.raises(PermissionDeniedError, match="customer_id"):
        await tool.invoke(stranger, {"month": "2026-11"})
    reader = Principal(user_id="dave", attributes={"customer_id": "C-9"})
    with pytest.raises(PermissionDeniedError, match="chat"):
        await tool.invoke(reader, {"month": "2026-11"})
    assert crm.requests == []
    await tool.close()


async def test_server_errors_and_slowness_are_tool_errors(crm: FakeToolServer) -> None:
    broken = _tool(crm, headers={}, url=f"{crm.url}/nowhere/{{customer_id}}")
    with pytest.raises(ToolError, match="HTTP 404"):
        await broken.invoke(CUSTOMER, {"month": "2026-11"})
    crm.delay = 2
    slow = _tool(crm, headers={}, timeout=0.2)
    with pytest.raises(ToolError) as caught:
        await slow.invoke(CUSTOMER, {"month": "2026-11"})
    assert caught.value.code == "tool_timeout"
    await broken.close()
    await slow.close()


def test_configuration_mistakes_are_named() -> None:
    with pytest.raises(ConfigurationError, match="not set"):
        HttpTool(name="t", description="d", url="http://x", headers={"A": "${env:NO_SUCH_VAR_1}"})
    with pytest.raises(ConfigurationError, match="identity"):
        HttpTool(
            name="t", description="d", url="http://x", parameters=MONTH, identity={"month": "m"}
        )
    with pytest.raises(ConfigurationError, match="tool name"):
        PythonTool(name="no spaces allowed", description="d")
    registry = ToolRegistry([PythonTool(name="a", description="d")])
    with pytest.raises(ConfigurationError, match="two tools"):
        registry.register(PythonTool(name="a", description="d"))


async def test_python_tools_and_secret_arguments_in_the_call_log() -> None:
    async def lookup(order: str, api_key: str) -> dict:
        return {"order": order, "status": "shipped"}

    tool = PythonTool(
        name="orders",
        description="Order status",
        parameters={"type": "object", "properties": {"order": {"type": "string"},
                    "api_key": {"type": "string"}}},
        function=lookup,
    )  # fmt: skip
    assert await tool.invoke(CUSTOMER, {"order": "A1", "api_key": "k"}) == {
        "order": "A1",
        "status": "shipped",
    }
    assert tool.redacted({"order": "A1", "api_key": "k"}) == {
        "order": "A1",
        "api_key": "[redacted]",
    }


async def test_a_crashing_tool_is_an_error_in_the_call_log_not_a_failed_answer() -> None:
    from kotaemon.agent.intents import Intent
    from kotaemon.agent.orchestrator import ToolPlanner

    async def broken() -> dict:
        raise RuntimeError("bug in the tool")

    planner = ToolPlanner(
        ToolRegistry([PythonTool(name="broken", description="d", function=broken)])
    )
    outcome = await planner.run(
        "q", CUSTOMER, intent=Intent(name="i", examples=("q",), tools=("broken",)), language="en"
    )
    [record] = outcome.records
    assert record.status == "error" and "RuntimeError" in (record.error or "")
    assert outcome.evidence() == [] and outcome.failures
