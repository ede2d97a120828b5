"""The OpenAI-compatible API, driven by the official ``openai`` client over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import LiveServer

pytestmark = pytest.mark.integration

QUESTION = "What is the late payment fee?"


@pytest.fixture
def client(kb_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{kb_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_models_are_kotaemon_and_each_collection(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids[0] == "kotaemon" and "bank" in ids


def test_streamed_answer_with_citations_in_an_extra_field(
    client: openai.OpenAI, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("The late fee is 5% of the unpaid minimum payment [1].", chunk_delay=0.01)
    stream = client.chat.completions.create(
        model="bank",
        messages=[
            {"role": "system", "content": "You are a pirate."},  # ignored: kotaemon's own prompt
            {"role": "user", "content": QUESTION},
        ],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The late fee is 5% of the unpaid minimum payment [1]."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3
    assert chunks[0].choices[0].delta.role == "assistant"
    [last] = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert last.choices[0].finish_reason == "stop"
    [citation] = last.model_extra["citations"]  # type: ignore[index]
    assert citation["marker"] == 1 and citation["document"]
    extras = last.model_extra["kotaemon"]  # type: ignore[index]
    assert extras["outcome"] == "answered" and extras["answer_id"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    sent = fake_llm.chat_requests[-1]["json"]["messages"]
    assert "pirate" not in str(sent)


def test_plain_answer_and_history_from_the_messages(
    client: openai.OpenAI, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("What is the late payment fee of the credit card?")  # the rewrite
    fake_llm.reply("It is 5% [1].")
    completion = client.chat.completions.create(
        model="kotaemon",
        messages=[
            {"role": "user", "content": "Tell me about the credit card."},
            {"role": "assistant", "content": "It has an annual fee of 300 yuan [1]."},
            {"role": "user", "content": [{"type": "text", "text": "And the late fee?"}]},
        ],
    )
    assert completion.choices[0].message.content == "It is 5% [1]."
    assert completion.object == "chat.completion" and completion.model == "kotaemon"
    assert completion.model_extra["citations"][0]["marker"] == 1  # type: ignore[index]
    query = completion.model_extra["kotaemon"]["retrieval"]["query"]  # type: ignore[index]
    assert query == "What is the late payment fee of the credit card?"
    roles = [m["role"] for m in fake_llm.chat_requests[-1]["json"]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]


def test_errors_reach_the_client_as_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.chat.completions.create(
            model="no-such-collection", messages=[{"role": "user", "content": QUESTION}]
        )
    with pytest.raises(openai.UnprocessableEntityError, match="last message"):
        client.chat.completions.create(
            model="kotaemon", messages=[{"role": "assistant", "content": "Hello"}]
        )
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="kotaemon", messages=[])


def test_an_llm_failure_mid_stream_is_an_error_the_client_raises(
    client: openai.OpenAI, fake_llm: FakeOpenAIServer, kb_server: LiveServer
) -> None:
    fake_llm.reply(status=500)
    stream = client.chat.completions.create(
        model="kotaemon", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    with pytest.raises(openai.APIError, match="the LLM failed"):
        list(stream)
    raw = httpx.post(
        f"{kb_server.url}/v1/chat/completions",
        json={
            "model": "kotaemon",
            "messages": [{"role": "user", "content": QUESTION}],
            "stream": True,
        },
        timeout=30,
    )
    assert raw.text.endswith("data: [DONE]\n\n")
