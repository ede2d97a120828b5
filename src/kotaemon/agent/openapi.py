"""Tools from an OpenAPI 3 document: one :class:`~kotaemon.agent.tools.HttpTool` per chosen
operation, its path and query parameters (and JSON body properties) as the tool's schema.

Parameters named in ``identity`` are bound to the caller, as for any tool: they leave the schema
the model sees. Header and cookie parameters are not imported (credentials belong in the
operator's ``headers``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kotaemon.agent.tools import HttpTool
from kotaemon.core.errors import ConfigurationError

_METHODS = ("get", "post", "put", "patch", "delete")


def openapi_tools(
    document: Mapping[str, Any],
    *,
    base_url: str,
    operations: Sequence[str] | None = None,
    identity: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    scopes: Sequence[str] = ("chat",),
    timeout: float = 10.0,
) -> list[HttpTool]:
    """The tools of ``document``'s operations (all with an ``operationId``, or those named).

    :raises ConfigurationError: for a named operation the document does not have.
    """
    identity = dict(identity or {})
    found: dict[str, HttpTool] = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            operation = item.get(method)
            if not operation or "operationId" not in operation:
                continue
            name = re.sub(r"[^A-Za-z0-9_-]", "_", operation["operationId"])[:64]
            if operations is not None and name not in operations:
                continue
            schema = _schema(document, [*shared, *operation.get("parameters", [])], operation)
            bound = {p: a for p, a in identity.items() if p in schema["properties"]}
            for parameter in bound:
                del schema["properties"][parameter]
                schema["required"] = [r for r in schema.get("required", []) if r != parameter]
            found[name] = HttpTool(
                name=name,
                description=operation.get("description") or operation.get("summary") or name,
                url=base_url.rstrip("/") + path,
                method=method.upper(),
                headers=dict(headers or {}),
                parameters=schema,
                identity=bound,
                scopes=frozenset(scopes),
                timeout=timeout,
            )
    missing = set(operations or ()) - set(found)
    if missing:
        raise ConfigurationError(f"the OpenAPI document has no operations {sorted(missing)}")
    return list(found.values())


def _schema(
    document: Mapping[str, Any], parameters: list[dict[str, Any]], operation: Mapping[str, Any]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in (_resolve(document, p) for p in parameters):
        if parameter.get("in") not in ("path", "query"):
            continue
        spec = dict(_resolve(document, parameter.get("schema", {"type": "string"})))
        if parameter.get("description"):
            spec["description"] = parameter["description"]
        properties[parameter["name"]] = spec
        if parameter.get("required") or parameter.get("in") == "path":
            required.append(parameter["name"])
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body_schema = _resolve(document, body.get("schema", {}))
    for name, spec in body_schema.get("properties", {}).items():
        properties[name] = _resolve(document, spec)
    required += [r for r in body_schema.get("required", []) if r not in required]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (``#/components/…``)."""
    while isinstance(node, dict) and "$ref" in node:
        reference = node["$ref"]
        if not reference.startswith("#/"):
            raise ConfigurationError(f"only local $ref are supported, not {reference!r}")
        node = document
        for part in reference[2:].split("/"):
            node = node[part]
    return node
