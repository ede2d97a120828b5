"""MCP servers as tool sources, through the official ``mcp`` client: a command launched over
stdio, or a streamable-HTTP URL. Only the operator's configuration names them; a request never
can.

Each remote tool becomes a :class:`~kotaemon.agent.tools.Tool` named ``<source>_<tool>``. The
source's ``identity`` binds parameters to the caller as for any tool: they are taken out of the
schema the model sees and filled from the principal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import jsonschema

from kotaemon.agent.tools import Tool, ToolError
from kotaemon.core.errors import ConfigurationError

if TYPE_CHECKING:  # the client loads only for a configured MCP source (it takes a while)
    from mcp import Client

log = logging.getLogger(__name__)


def _client_errors() -> tuple[type[BaseException], ...]:
    """What the MCP client raises when a server fails, hangs up or breaks the protocol."""
    from mcp.client.streamable_http import StreamableHTTPError
    from mcp.shared.exceptions import MCPError

    return (
        MCPError,
        StreamableHTTPError,
        OSError,
        TimeoutError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        httpx.HTTPError,
    )


@dataclass
class McpTool(Tool):
    """One tool of an MCP server."""

    remote_name: str = ""
    client: Client | None = field(default=None, repr=False)

    async def call(self, arguments: dict[str, Any]) -> Any:
        assert self.client is not None
        try:
            result = await self.client.call_tool(
                self.remote_name, arguments, read_timeout_seconds=self.timeout
            )
        except Exception as exc:  # the client raises transport and protocol errors of its own
            raise ToolError(
                f"tool {self.name}: the MCP server failed ({type(exc).__name__})"
            ) from exc
        if result.is_error:
            raise ToolError(f"tool {self.name}: the MCP server reported an error")
        if result.structured_content is not None:
            return result.structured_content
        return "\n".join(getattr(block, "text", "") for block in result.content).strip()


@dataclass
class McpSource:
    """An MCP server and the tools taken from it.

    Example::

        source = McpSource("crm", command=["python", "crm_mcp.py"],
                           identity={"customer_id": "customer_id"})
        tools = await source.open()      # list_tools, once
        ...
        await source.close()
    """

    name: str
    command: Sequence[str] | None = None
    url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    tools: Sequence[str] | None = None  # an allow-list of remote tool names
    scopes: frozenset[str] = frozenset({"chat"})
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ConfigurationError(f"MCP source {self.name}: give either command or url")
        self._stack = AsyncExitStack()

    async def open(self) -> list[Tool]:
        """Connect and list the tools (the allowed ones).

        :raises ConfigurationError: if the server cannot be reached or lacks an allowed tool.
        """
        from mcp import Client, StdioServerParameters

        if self.command is not None:
            target: Any = StdioServerParameters(
                command=self.command[0], args=list(self.command[1:]), env=self.env or None
            )
        else:
            target = self.url
        failures: tuple[type[BaseException], ...] = (*_client_errors(), ExceptionGroup)
        try:
            client = await self._stack.enter_async_context(
                Client(target, read_timeout_seconds=self.timeout)
            )
            listed = (await client.list_tools()).tools
        except failures as exc:
            await self._stack.aclose()
            raise ConfigurationError(
                f"MCP source {self.name} did not start or answer ({type(exc).__name__}: {exc})"
            ) from exc
        wanted = set(self.tools) if self.tools is not None else None
        try:
            missing = (wanted or set()) - {t.name for t in listed}
            if missing:
                raise ConfigurationError(f"MCP source {self.name} has no tools {sorted(missing)}")
            return [self._tool(t, client) for t in listed if wanted is None or t.name in wanted]
        except (ConfigurationError, jsonschema.SchemaError) as exc:
            await self._stack.aclose()  # the server process goes with the failed source
            if isinstance(exc, ConfigurationError):
                raise
            raise ConfigurationError(f"MCP source {self.name}: a tool's schema is invalid") from exc

    def _tool(self, remote: Any, client: Client) -> McpTool:
        schema = dict(remote.input_schema or {"type": "object", "properties": {}})
        properties = dict(schema.get("properties", {}))
        bound = {p: a for p, a in self.identity.items() if p in properties}
        for parameter in bound:
            del properties[parameter]
        schema["properties"] = properties
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r not in bound]
        schema.pop("title", None)
        return McpTool(
            name=re.sub(r"[^A-Za-z0-9_-]", "_", f"{self.name}_{remote.name}")[:64],
            description=remote.description or remote.name,
            parameters=schema,
            identity=bound,
            scopes=self.scopes,
            timeout=self.timeout,
            remote_name=remote.name,
            client=client,
        )

    async def close(self) -> None:
        await self._stack.aclose()
