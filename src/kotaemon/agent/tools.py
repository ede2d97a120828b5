"""Tools the agent may call, each with JSON-Schema parameters, the scopes it needs, a timeout,
and the parameters that identify the caller.

Identity binding: a parameter bound to a principal attribute (``customer_id`` from a token
claim) is filled from the principal, never by the model or the question: it is left out of the
schema the model sees, and a value the model sends anyway is discarded. Values the model does
fill are validated against the schema, and escaped into URLs.

Example::

    tool = HttpTool(
        name="repayments", description="The caller's repayment records",
        url="http://crm:8100/customers/{customer_id}/repayments",
        parameters={"type": "object", "properties": {"month": {"type": "string"}}},
        identity={"customer_id": "customer_id"},
    )
    result = await tool.invoke(principal, {"month": "2026-11"})
"""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from string import Formatter
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema

from kotaemon.core.errors import (
    ConfigurationError,
    InvalidInputError,
    KotaemonError,
    PermissionDeniedError,
)
from kotaemon.core.principal import Principal
from kotaemon.core.secrets import Secret
from kotaemon.llms.base import ToolSpec
from kotaemon.observability.tracing import outgoing_headers

log = logging.getLogger(__name__)

_SECRET_NAME = re.compile(r"token|secret|password|passwd|api[_-]?key|authorization", re.I)
_ENV_REFERENCE = re.compile(r"\$\{env:([A-Z0-9_]+)\}")


class ToolError(KotaemonError):
    """The tool failed: its server answered with an error, or could not be reached."""

    code = "tool_failed"


@dataclass
class Tool(ABC):
    """A callable capability with a schema; subclasses implement :meth:`call`."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    #: Parameter name -> principal attribute that fills it.
    identity: dict[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset({"chat"})
    timeout: float = 10.0
    #: What the answer tells the user, by language, when a question needs this tool but does
    #: not give its required arguments ("which month?"); empty: a generic request.
    ask: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.name):
            raise ConfigurationError(f"tool name {self.name!r}: use 1-64 letters, digits, _ or -")
        jsonschema.Draft202012Validator.check_schema(self.parameters)
        overlap = set(self.identity) & set(self.parameters.get("properties", {}))
        if overlap:
            raise ConfigurationError(
                f"tool {self.name}: {sorted(overlap)} are filled from the caller's identity and "
                "must not be in the parameters the model fills"
            )

    def spec(self) -> ToolSpec:
        """What the model is told: the parameters it may fill (never the identity ones)."""
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def redacted(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Arguments as the call log shows them: secret-looking values hidden."""
        return {k: "[redacted]" if _SECRET_NAME.search(k) else v for k, v in arguments.items()}

    def bind(self, principal: Principal, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments to call with: the model's, validated, plus the caller's identity.

        :raises PermissionDeniedError: if the caller lacks a scope or an identity attribute.
        :raises InvalidInputError: if the model's arguments break the schema.
        """
        missing = [s for s in self.scopes if not principal.has_scope(s)]
        if missing:
            raise PermissionDeniedError(
                f"tool {self.name} needs the {missing[0]!r} scope", code="tool_denied"
            )
        given = {k: v for k, v in arguments.items() if k not in self.identity}
        if len(given) != len(arguments):
            log.warning(
                "ignoring identity arguments the model tried to set",
                extra={"tool": self.name, "arguments": sorted(set(arguments) - set(given))},
            )
        try:
            jsonschema.validate(given, self.parameters)
        except jsonschema.ValidationError as exc:
            raise InvalidInputError(
                f"tool {self.name}: arguments do not fit its schema ({exc.message})",
                code="tool_arguments_invalid",
            ) from None
        bound = dict(given)
        for parameter, attribute in self.identity.items():
            value = principal.attributes.get(attribute)
            if value is None:
                raise PermissionDeniedError(
                    f"tool {self.name} needs your {attribute}, which your sign-in does not carry",
                    code="tool_denied",
                )
            bound[parameter] = value
        return bound

    async def invoke(self, principal: Principal, arguments: Mapping[str, Any]) -> Any:
        """Bind, then call; the result is JSON-like data."""
        return await self.call(self.bind(principal, arguments))

    @abstractmethod
    async def call(self, arguments: dict[str, Any]) -> Any:
        """Call with arguments that :meth:`bind` returned; the result is JSON-like data."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


@dataclass
class PythonTool(Tool):
    """A tool backed by an async Python function taking the arguments as keywords."""

    function: Callable[..., Awaitable[Any]] | None = None

    async def call(self, arguments: dict[str, Any]) -> Any:
        assert self.function is not None
        return await self.function(**arguments)


@dataclass
class HttpTool(Tool):
    """A tool that is one HTTP request, declared in configuration.

    ``url`` is a template whose ``{placeholders}`` are filled with arguments (percent-escaped);
    the other arguments go in the query string (GET, DELETE) or a JSON body. Header values may
    name environment variables, ``Bearer ${env:CRM_TOKEN}``: they are read once, kept as
    secrets, and never logged.
    """

    url: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.method = self.method.upper()
        self._path_fields = {f for _, f, _, _ in Formatter().parse(self.url) if f}
        self._headers = {name: Secret(_resolve_env(value)) for name, value in self.headers.items()}
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)

    async def call(self, arguments: dict[str, Any]) -> Any:
        path = {k: quote(str(v), safe="") for k, v in arguments.items() if k in self._path_fields}
        missing = self._path_fields - set(path)
        if missing:
            raise InvalidInputError(
                f"tool {self.name}: no value for {sorted(missing)[0]!r} in its URL",
                code="tool_arguments_invalid",
            )
        rest = {k: v for k, v in arguments.items() if k not in self._path_fields}
        url = self.url.format(**path)
        headers = {k: v.reveal() for k, v in self._headers.items()} | outgoing_headers()
        in_query = self.method in ("GET", "DELETE")
        try:
            response = await self._client.request(
                self.method,
                url,
                headers=headers,
                params=rest if in_query else None,
                json=None if in_query else rest,
            )
        except httpx.TimeoutException as exc:
            raise ToolError(
                f"tool {self.name} did not answer in time", code="tool_timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise ToolError(f"tool {self.name} is unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ToolError(f"tool {self.name} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:  # not JSON, or not UTF-8: the text as the server sent it
            return response.content.decode(response.encoding or "utf-8", errors="replace")

    async def close(self) -> None:
        await self._client.aclose()


def _resolve_env(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigurationError(f"a tool header names ${{env:{name}}}, which is not set")
        return os.environ[name]

    return _ENV_REFERENCE.sub(replace, value)


class ToolRegistry:
    """The tools of this deployment, by name."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools or []:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ConfigurationError(f"two tools are named {tool.name!r}")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def available(self, principal: Principal) -> list[Tool]:
        """The tools ``principal`` may call."""
        return [t for t in self._tools.values() if all(principal.has_scope(s) for s in t.scopes)]

    async def close(self) -> None:
        for tool in self._tools.values():
            await tool.close()
