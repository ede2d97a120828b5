"""MCP servers as tool sources, over stdio and streamable HTTP, with the official client and
server: tools are listed, the caller's identity is bound, and the call reaches the server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kotaemon.agent.mcp import McpSource
from kotaemon.core.errors import ConfigurationError
from kotaemon.core.principal import Principal

from ..conftest import ROOT

pytestmark = pytest.mark.anyio

SERVER = str(ROOT / "tests" / "fakes" / "mcp_server.py")
CUSTOMER = Principal(user_id="a", scopes=frozenset({"chat"}), attributes={"customer_id": "C-7"})


async def _check(source: McpSource, calls: Path) -> None:
    [tool] = await source.open()
    try:
        assert tool.name == "crm_repayment_records"
        assert set(tool.spec().parameters["properties"]) == {"month"}  # customer_id is bound
        data = await tool.invoke(CUSTOMER, {"month": "2026-11", "customer_id": "C-42"})
        assert data["customer_id"] == "C-7" and data["statement"]["status"] == "paid_on_time"
    finally:
        await source.close()
    assert [json.loads(line) for line in calls.read_text().splitlines()] == [
        {"customer_id": "C-7", "month": "2026-11"}
    ]


async def test_a_stdio_server(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    source = McpSource(
        "crm",
        command=[sys.executable, SERVER],
        env={"MCP_CALLS_FILE": str(calls)},
        identity={"customer_id": "customer_id"},
        tools=["repayment_records"],
    )
    await _check(source, calls)


async def test_a_streamable_http_server(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"MCP_CALLS_FILE": str(calls), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen([sys.executable, SERVER, "--http", str(port)], env=env)
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        source = McpSource(
            "crm", url=f"http://127.0.0.1:{port}/mcp", identity={"customer_id": "customer_id"}
        )
        await _check(source, calls)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_source_that_does_not_start_or_lacks_a_tool_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="did not start"):
        await McpSource("bad", command=[sys.executable, "-c", "import sys; sys.exit(3)"]).open()
    with pytest.raises(ConfigurationError, match="no tools"):
        await McpSource("crm", command=[sys.executable, SERVER], tools=["transfer_money"]).open()
    with pytest.raises(ConfigurationError, match="either command or url"):
        McpSource("both", command=["x"], url="http://y")
