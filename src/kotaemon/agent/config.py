"""The agent's configuration file (``KOTAEMON_AGENT_CONFIG``): tools, their answer templates,
the intents of the offline router and the assistant's prompts. Only the operator writes it:
tools, URLs, headers and prompts come from here, never from a request. See
``examples/agent.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kotaemon.agent.extractors import EXTRACTORS
from kotaemon.agent.intents import DEFAULT_THRESHOLD, Intent
from kotaemon.agent.mcp import McpSource
from kotaemon.agent.openapi import openapi_tools
from kotaemon.agent.templates import AnswerTemplate, TemplateCase
from kotaemon.agent.tools import HttpTool, Tool
from kotaemon.core.errors import ConfigurationError
from kotaemon.core.language import LANGUAGES
from kotaemon.core.prompt import fixed_prompts

_TOOL_KEYS = {"name", "kind", "description", "url", "method", "headers", "parameters",
              "identity", "scopes", "timeout", "answer", "ask"}  # fmt: skip


_PROMPT_KINDS = {"system", "planner"}


@dataclass(frozen=True)
class AgentConfig:
    tools: list[Tool]
    mcp_sources: list[McpSource]
    templates: dict[str, AnswerTemplate]
    intents: list[Intent]
    router_threshold: float
    #: The answer's system prompt by language (the assistant's role); empty: the default.
    system_prompts: dict[str, str]
    #: What the tool-choosing model is told by language; empty: the default.
    planner_prompts: dict[str, str]


def load_agent_config(path: Path, *, default_timeout: float = 10.0) -> AgentConfig:
    """:raises ConfigurationError: naming the file and what is wrong in it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read the agent configuration {path}: {exc}") from exc
    try:
        tools: list[Tool] = []
        templates: dict[str, AnswerTemplate] = {}
        for entry in document.get("tools", []):
            unknown = set(entry) - _TOOL_KEYS
            if unknown:
                raise ValueError(f"tool {entry.get('name')}: unknown keys {sorted(unknown)}")
            if entry.get("kind", "http") != "http":
                raise ValueError(f"tool {entry.get('name')}: kind must be http")
            tools.append(_http_tool(entry, default_timeout))
            if "answer" in entry:
                templates[entry["name"]] = AnswerTemplate(
                    tuple(
                        TemplateCase(
                            when=case.get("when", {}),
                            text={k: v for k, v in case.items() if k != "when"},
                        )
                        for case in entry["answer"]
                    )
                )
        for entry in document.get("openapi", []):
            tools.extend(_openapi_tools(entry, path.parent, default_timeout))
        sources = [_mcp_source(entry, default_timeout) for entry in document.get("mcp", [])]
        names = {t.name for t in tools} | {
            f"{source.name}_{tool}" for source in sources for tool in source.tools or ()
        }
        intents = [_intent(entry, names, tools) for entry in document.get("intents", [])]
        threshold = float(document.get("router", {}).get("threshold", DEFAULT_THRESHOLD))
        prompts = _prompts(document.get("prompts", {}))
    except (KeyError, TypeError, ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    return AgentConfig(
        tools,
        sources,
        templates,
        intents,
        threshold,
        system_prompts=prompts.get("system", {}),
        planner_prompts=prompts.get("planner", {}),
    )


def _prompts(entry: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``prompts: {system: {en: …, zh: …}, planner: {…}}``, each checked."""
    unknown = set(entry) - _PROMPT_KINDS
    if unknown:
        raise ValueError(f"prompts: unknown kinds {sorted(unknown)}; use system or planner")
    prompts = {kind: {str(k): str(v) for k, v in texts.items()} for kind, texts in entry.items()}
    for kind, texts in prompts.items():
        fixed_prompts(texts, f"prompts.{kind}")  # raises on a bad language or a field
    return prompts


def _http_tool(entry: dict[str, Any], default_timeout: float) -> HttpTool:
    return HttpTool(
        name=entry["name"],
        description=entry["description"],
        url=entry["url"],
        method=entry.get("method", "GET"),
        headers=entry.get("headers", {}),
        parameters=entry.get("parameters", {"type": "object", "properties": {}}),
        identity=entry.get("identity", {}),
        scopes=frozenset(entry.get("scopes", ["chat"])),
        timeout=float(entry.get("timeout", default_timeout)),
        ask=_ask(entry),
    )


def _ask(entry: dict[str, Any]) -> dict[str, str]:
    """``ask: {zh: …, en: …}``, the text shown as it is written."""
    texts = {str(k): str(v) for k, v in entry.get("ask", {}).items()}
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"tool {entry['name']}: ask: {unknown} are not languages; use en or zh")
    return texts


def _openapi_tools(entry: dict[str, Any], folder: Path, default_timeout: float) -> list[Tool]:
    """Tools from an OpenAPI document next to the configuration (``spec: crm.json``)."""
    spec_path = folder / entry["spec"]
    try:
        document = yaml.safe_load(spec_path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the OpenAPI document {spec_path}: {exc}") from exc
    return list(
        openapi_tools(
            document,
            base_url=entry["base_url"],
            operations=entry.get("operations"),
            identity=entry.get("identity", {}),
            headers=entry.get("headers", {}),
            scopes=entry.get("scopes", ["chat"]),
            timeout=float(entry.get("timeout", default_timeout)),
        )
    )


def _mcp_source(entry: dict[str, Any], default_timeout: float) -> McpSource:
    command = entry.get("command")
    return McpSource(
        name=entry["name"],
        command=[str(part) for part in command] if command else None,
        url=entry.get("url"),
        env={k: str(v) for k, v in entry.get("env", {}).items()},
        identity=entry.get("identity", {}),
        tools=entry.get("tools"),
        scopes=frozenset(entry.get("scopes", ["chat"])),
        timeout=float(entry.get("timeout", default_timeout)),
    )


def _intent(entry: dict[str, Any], names: set[str], tools: list[Tool]) -> Intent:
    missing = set(entry.get("tools", [])) - names
    if missing:
        raise ValueError(f"intent {entry['name']}: no tools named {sorted(missing)}")
    collections = entry.get("collections")
    arguments = {
        str(tool): {str(p): str(e) for p, e in params.items()}
        for tool, params in entry.get("arguments", {}).items()
    }
    declared = {t.name: t for t in tools}  # MCP tools are known only once their server runs
    for tool, params in arguments.items():
        if tool not in entry.get("tools", []):
            raise ValueError(f"intent {entry['name']}: arguments for {tool}, not one of its tools")
        for parameter, extractor in params.items():
            if extractor not in EXTRACTORS:
                raise ValueError(
                    f"intent {entry['name']}: {tool}.{parameter} names the extractor "
                    f"{extractor!r}; known: {sorted(EXTRACTORS)}"
                )
            known = declared[tool].parameters.get("properties", {}) if tool in declared else None
            if known is not None and parameter not in known:
                raise ValueError(f"intent {entry['name']}: {tool} has no parameter {parameter!r}")
    return Intent(
        name=entry["name"],
        examples=tuple(entry["examples"]),
        keywords=tuple(entry.get("keywords", [])),
        tools=tuple(entry.get("tools", [])),
        collections=tuple(collections) if collections else None,
        arguments=arguments,
        threshold=float(entry["threshold"]) if "threshold" in entry else None,
    )
