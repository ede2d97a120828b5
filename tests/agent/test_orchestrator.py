"""Tool planning: an intent's extractors fill the tools' arguments from the question, and a tool
whose required arguments are not all given is not called, offline or by a model (no warning
either: the answer asks for what is missing)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kotaemon.agent.config import load_agent_config
from kotaemon.agent.intents import Intent
from kotaemon.agent.orchestrator import MissingArguments, ToolPlanner, unchecked_notice
from kotaemon.agent.tools import PythonTool, ToolRegistry
from kotaemon.core.errors import ConfigurationError
from kotaemon.core.principal import Principal
from kotaemon.llms.base import LLMInterface
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM

from ..fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.anyio

CUSTOMER = Principal(user_id="alice", scopes=frozenset({"chat"}), attributes={"customer_id": "C-1"})
TODAY = date(2026, 12, 3)


def _planner(
    calls: list[dict[str, Any]], ask: dict[str, str] | None = None, llm: LLMInterface | None = None
) -> tuple[ToolPlanner, Intent]:
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
        ask=ask or {},
    )
    intent = Intent(
        name="billing",
        examples=("我的账单",),
        tools=("statement",),
        arguments={"statement": {"month": "month"}},
    )
    return ToolPlanner(ToolRegistry([tool]), llm=llm, today=lambda: TODAY), intent


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


async def test_without_its_required_arguments_a_tool_is_not_called_and_the_answer_asks() -> None:
    calls: list[dict[str, Any]] = []
    planner, intent = _planner(calls, ask={"zh": "（请告诉我是哪个月。）", "en": "(Which month?)"})
    outcome = await planner.run("我的账单还了吗？", CUSTOMER, intent=intent, language="zh")
    assert calls == [] and outcome.runs == [] and outcome.events == [] and outcome.records == []
    assert outcome.missing == [MissingArguments("statement", ("month",))]
    assert unchecked_notice(outcome, "zh") == "（请告诉我是哪个月。）\n"  # no "未能查询"
    assert unchecked_notice(outcome, "en") == "(Which month?)\n"
    outcome.asks.clear()  # a tool without an ask text: a generic request
    notice = unchecked_notice(outcome, "en")
    assert notice is not None and "please say month" in notice and "could not" not in notice


async def test_a_model_call_without_its_required_arguments_is_not_made(
    fake_llm: FakeOpenAIServer,
) -> None:
    calls: list[dict[str, Any]] = []
    model = OpenAICompatibleLLM(base_url=fake_llm.base_url, model="fake-model", max_retries=0)
    planner, _ = _planner(calls, llm=model)
    asked = len(fake_llm.chat_requests)  # the server is shared by the package's tests
    fake_llm.reply(tool_calls=[{"id": "c1", "name": "statement", "arguments": {}}])
    fake_llm.reply("")  # round 2: the model answers without the tool
    try:
        outcome = await planner.run("我的账单还了吗？", CUSTOMER, intent=None, language="zh")
    finally:
        await model.close()
    assert calls == [] and outcome.runs == [] and outcome.failures == []
    assert outcome.missing == [MissingArguments("statement", ("month",))]
    assert "未能查询" not in (unchecked_notice(outcome, "zh") or "")
    # The model hears why, for the call it asked for.
    told = fake_llm.chat_requests[asked + 1]["json"]["messages"][-1]
    assert told["role"] == "tool" and told["tool_call_id"] == "c1"
    assert "not called" in told["content"]


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


def test_an_ask_text_in_another_language_is_a_configuration_error(tmp_path: Path) -> None:
    text = TOOL + "    ask: {fr: Quel mois}\n"
    with pytest.raises(ConfigurationError, match=r"\['fr'\] are not languages"):
        load_agent_config(_config(tmp_path, text))
