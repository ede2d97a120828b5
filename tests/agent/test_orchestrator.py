"""Offline tool planning: an intent's extractors fill the tools' arguments from the question, and
a tool whose required arguments the question does not give is not called (no warning either)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kotaemon.agent.config import load_agent_config
from kotaemon.agent.intents import Intent
from kotaemon.agent.orchestrator import ToolPlanner, unchecked_notice
from kotaemon.agent.tools import PythonTool, ToolRegistry
from kotaemon.core.errors import ConfigurationError
from kotaemon.core.principal import Principal

pytestmark = pytest.mark.anyio

CUSTOMER = Principal(user_id="alice", scopes=frozenset({"chat"}), attributes={"customer_id": "C-1"})
TODAY = date(2026, 12, 3)


def _planner(calls: list[dict[str, Any]]) -> tuple[ToolPlanner, Intent]:
    async def statement(month: str, customer_id: str) -> dict[str, str]:
        calls.append({"month": month, "customer_id": customer_id})
        return {"month": month, "status": "paid_on_time"}

    tool = PythonTool(
        name="statement",
        description="The caller's statement of one month",
        parameters={
            "type": "object",
            "properties": {"month": {"type": "string"}},
            "required": ["month"],
        },
        identity={"customer_id": "customer_id"},
        function=statement,
    )
    intent = Intent(
        name="billing",
        examples=("我的账单",),
        tools=("statement",),
        arguments={"statement": {"month": "month"}},
    )
    return ToolPlanner(ToolRegistry([tool]), today=lambda: TODAY), intent


@pytest.mark.parametrize(
    ("question", "month"),
    [("我上个月的账单还了吗？", "2026-11"), ("Did I pay my statement for October?", "2026-10")],
)
async def test_the_intent_fills_the_arguments_from_the_question(question: str, month: str) -> None:
    calls: list[dict[str, Any]] = []
    planner, intent = _planner(calls)
    outcome = await planner.run(question, CUSTOMER, intent=intent, language="zh")
    assert calls == [{"month": month, "customer_id": "C-1"}]
    assert [r.status for r in outcome.records] == ["ok"]


async def test_without_its_required_arguments_a_tool_is_not_called_and_nothing_is_missing() -> None:
    calls: list[dict[str, Any]] = []
    planner, intent = _planner(calls)
    outcome = await planner.run("信用卡有哪些费用？", CUSTOMER, intent=intent, language="zh")
    assert calls == [] and outcome.runs == [] and outcome.events == []
    assert unchecked_notice(outcome, "zh") is None  # no "未能查询" warning


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TOOL = """
tools:
  - name: statement
    description: A statement
    url: http://127.0.0.1:1/{customer_id}
    parameters: {type: object, properties: {month: {type: string}}, required: [month]}
    identity: {customer_id: customer_id}
"""


@pytest.mark.parametrize(
    ("intents", "message"),
    [
        ("arguments: {statement: {month: weekday}}", "extractor 'weekday'"),
        ("arguments: {statement: {day: month}}", "no parameter 'day'"),
        ("arguments: {other: {month: month}}", "not one of its tools"),
    ],
)
def test_bad_intent_arguments_are_configuration_errors(
    tmp_path: Path, intents: str, message: str
) -> None:
    text = (
        TOOL
        + f"intents:\n  - name: billing\n    tools: [statement]\n    examples: [x]\n    {intents}\n"
    )
    with pytest.raises(ConfigurationError, match=message):
        load_agent_config(_config(tmp_path, text))


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        ("prompts: {system: {fr: Bonjour}}", "'fr' is not a language"),
        ("prompts: {system: {en: 'Hello {name}'}}", "has fields"),
        ("prompts: {greeting: {en: Hi}}", "unknown kinds"),
    ],
)
def test_bad_prompts_are_configuration_errors(tmp_path: Path, prompts: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_agent_config(_config(tmp_path, prompts + "\n"))


def test_the_demo_configuration_carries_its_own_persona(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", "t")
    root = Path(__file__).resolve().parents[2]
    config = load_agent_config(root / "examples" / "agent.yaml")
    assert (
        "Harbor Bank" in config.system_prompts["en"] and "海港银行" in config.system_prompts["zh"]
    )
    assert config.intents[0].arguments == {"repayment_records": {"month": "month"}}
