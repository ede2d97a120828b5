"""The LLM judge, against the fake OpenAI-compatible server: its prompt, and its verdicts."""

from __future__ import annotations

import pytest

from kotaemon.eval.judge import AnswerJudge
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM

from ..fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.anyio


async def test_verdicts_and_prompt(fake_llm: FakeOpenAIServer) -> None:
    llm = OpenAICompatibleLLM(base_url=fake_llm.base_url, model="fake-model", max_retries=0)
    judge = AnswerJudge(llm)
    try:
        fake_llm.reply("Yes.")
        fake_llm.reply("no")
        fake_llm.reply("Perhaps")
        fake_llm.reply("overloaded", status=500)
        verdicts = [await judge.judge("宽限期是几天？", ["3天", "三天"], "宽限期为3天 [1]。")
                    for _ in range(4)]  # fmt: skip
    finally:
        await llm.close()
    assert verdicts == [True, False, None, None]  # no yes/no, or a failure: not judged
    prompt = fake_llm.chat_requests[0]["json"]["messages"][-1]["content"]
    assert "QUESTION: 宽限期是几天？" in prompt and "EXPECTED: 3天 | 三天" in prompt
    assert "ANSWER: 宽限期为3天 [1]。" in prompt and prompt.startswith(judge.prompt[:40])
