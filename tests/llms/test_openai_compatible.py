"""The OpenAI-compatible LLM backend against a real HTTP server."""

import pytest

from kotaemon.core.errors import LLMError
from kotaemon.core.secrets import Secret
from kotaemon.llms.base import ChatMessage, ToolSpec
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM

from ..fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.anyio

REPAYMENTS = ToolSpec(
    name="get_repayments",
    description="Repayment records of the signed-in customer",
    parameters={"type": "object", "properties": {"month": {"type": "string"}}},
)


_opened: list[OpenAICompatibleLLM] = []


def make_llm(server: FakeOpenAIServer, **kwargs) -> OpenAICompatibleLLM:
    llm = OpenAICompatibleLLM(base_url=server.base_url, model="fake-model", **kwargs)
    _opened.append(llm)
    return llm


@pytest.fixture(autouse=True)
async def close_async_clients():
    yield
    while _opened:
        await _opened.pop().close()


async def test_generate_and_usage(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("你好")
    response = await make_llm(fake_llm, max_retries=0).agenerate("打个招呼", max_tokens=20)
    assert response.text == "你好" and response.model == "fake-model"
    assert response.usage.prompt_tokens > 0
    assert fake_llm.chat_requests[-1]["json"]["max_tokens"] == 20


async def test_stream_yields_pieces_then_usage(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("The grace period is three days.")
    chunks = [c async for c in make_llm(fake_llm).astream([ChatMessage(role="user", content="q")])]
    assert len([c for c in chunks if c.text]) > 2
    assert "".join(c.text for c in chunks) == "The grace period is three days."
    assert chunks[-1].usage is not None and chunks[-1].finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls(fake_llm: FakeOpenAIServer, stream: bool) -> None:
    fake_llm.reply(tool_calls=[{"name": "get_repayments", "arguments": {"month": "2026-10"}}])
    llm = make_llm(fake_llm)
    if stream:
        chunks = [c async for c in llm.astream("last month?", tools=[REPAYMENTS])]
        calls = chunks[-1].tool_calls
    else:
        calls = (await llm.agenerate("last month?", tools=[REPAYMENTS])).tool_calls
    assert [(c.name, c.arguments) for c in calls] == [("get_repayments", {"month": "2026-10"})]
    sent = fake_llm.chat_requests[-1]["json"]["tools"][0]["function"]
    assert sent["name"] == "get_repayments" and sent["parameters"]["type"] == "object"


async def test_retries_rate_limits_and_server_errors(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply(status=429, headers={"Retry-After": "0"})
    fake_llm.reply(status=503, headers={"Retry-After": "0"})
    fake_llm.reply("ok")
    assert (await make_llm(fake_llm, max_retries=2).agenerate("hi")).text == "ok"
    assert len(fake_llm.chat_requests) == 3


async def test_gives_up_with_a_clear_error(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply(status=429, headers={"Retry-After": "0"})
    with pytest.raises(LLMError) as info:
        await make_llm(fake_llm, max_retries=0).agenerate("hi")
    assert info.value.code == "llm_rate_limited"


async def test_timeout(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("late", delay=2.0)
    with pytest.raises(LLMError) as info:
        await make_llm(fake_llm, max_retries=0, timeout=0.3).agenerate("hi")
    assert info.value.code == "llm_timeout"


async def test_api_key_is_sent_and_never_shown() -> None:
    with FakeOpenAIServer(api_key="sk-test-123") as server:
        llm = make_llm(server, api_key=Secret("sk-test-123"))
        assert (await llm.agenerate("hi")).text
        assert "sk-test-123" not in repr(llm)
        wrong = make_llm(server, api_key=Secret("sk-wrong"), max_retries=0)
        with pytest.raises(LLMError) as info:
            await wrong.agenerate("hi")
        assert info.value.code == "llm_auth" and "sk-wrong" not in str(info.value)
