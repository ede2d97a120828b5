"""Checks that :class:`FakeOpenAIServer` looks like the OpenAI API to the official client."""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from .openai_server import DEFAULT_REPLY, FakeOpenAIServer

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello 你好"}]  # 2 words + 2 CJK tokens
WEATHER_ARGS = {"month": "2026-10", "note": "雨天 rainy", "days": [1, 2, 3]}


@pytest.fixture
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def client(llm: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=llm.base_url, api_key="x", max_retries=0) as client:
        yield client


def _raw_request(
    llm: FakeOpenAIServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", llm.port, timeout=5)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_plain_completion(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply("Hello [1].")
    response = client.chat.completions.create(model="gpt-test", messages=MESSAGES)

    assert response.object == "chat.completion"
    assert response.model == "gpt-test"
    choice = response.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello [1]."
    assert choice.finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (4, 2)
    assert response.usage.total_tokens == 6

    [request] = llm.chat_requests
    assert request["json"]["messages"] == MESSAGES
    assert request["headers"]["authorization"] == "Bearer x"


def test_default_reply_when_queue_is_empty(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="m", messages=MESSAGES)
    llm.default_reply = "Something else."
    second = client.chat.completions.create(model="m", messages=MESSAGES)

    assert first.choices[0].message.content == DEFAULT_REPLY
    assert second.choices[0].message.content == "Something else."


def test_streamed_completion_with_usage(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    text = "Hello world, 你好世界！ The answer is 42 [1]."
    llm.reply(text)
    with client.chat.completions.create(
        model="gpt-test",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    ) as stream:
        chunks = list(stream)

    deltas = [c.choices[0].delta.content for c in chunks if c.choices]
    assert "".join(d or "" for d in deltas) == text
    assert len([d for d in deltas if d]) > 3
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert all(c.model == "gpt-test" and c.id == chunks[0].id for c in chunks)
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.prompt_tokens == 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream_without_include_usage_has_no_usage_chunk(
    llm: FakeOpenAIServer, client: openai.OpenAI
) -> None:
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)

    assert all(chunk.choices and chunk.usage is None for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == DEFAULT_REPLY


def test_streamed_tool_call(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply(tool_calls=[{"name": "get_weather", "arguments": WEATHER_ARGS}])
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)

    calls: dict[int, dict[str, str]] = {}
    fragments = 0
    for chunk in chunks:
        for fragment in chunk.choices[0].delta.tool_calls or []:
            fragments += 1
            call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += fragment.id or ""
            if fragment.function is not None:
                call["name"] += fragment.function.name or ""
                call["arguments"] += fragment.function.arguments or ""

    assert list(calls) == [0] and fragments > 2
    assert calls[0]["id"].startswith("call_")
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == WEATHER_ARGS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tool_call(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply(
        tool_calls=[
            {"name": "get_weather", "arguments": WEATHER_ARGS},
            {"name": "get_repayments", "arguments": '{"month": "2026-10"}', "id": "call_42"},
        ]
    )
    response = client.chat.completions.create(model="m", messages=MESSAGES)

    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    first, second = choice.message.tool_calls or []
    assert first.type == "function" and first.function.name == "get_weather"
    assert json.loads(first.function.arguments) == WEATHER_ARGS
    assert second.id == "call_42"
    assert json.loads(second.function.arguments) == {"month": "2026-10"}


def test_rate_limit_error(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply(status=429, headers={"Retry-After": "0"})
    llm.reply("after the error")

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "0"
    assert caught.value.code == "rate_limit_exceeded"

    response = client.chat.completions.create(model="m", messages=MESSAGES)
    assert response.choices[0].message.content == "after the error"


def test_error_reply_applies_to_embeddings(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply("The embedder is down.", status=503)

    with pytest.raises(openai.InternalServerError, match=r"The embedder is down\."):
        client.embeddings.create(model="m", input="text")
    assert len(client.embeddings.create(model="m", input="text").data) == 1


def test_embeddings_are_deterministic(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    texts = ["apple banana split", "Apple  BANANA split", "apple banana cherry", "dog house"]
    response = client.embeddings.create(model="embed-test", input=texts)  # base64 by default
    vectors = [item.embedding for item in response.data]

    assert response.model == "embed-test"
    assert [item.index for item in response.data] == [0, 1, 2, 3]
    assert all(len(v) == 8 and math.isclose(_cosine(v, v), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors[0] == vectors[1]
    assert response.usage.prompt_tokens == 11

    # Sharing words brings vectors closer on average; 64 dimensions make it reliable.
    wide_response = client.embeddings.create(model="m", input=texts, dimensions=64)
    wide = [item.embedding for item in wide_response.data]
    assert _cosine(wide[0], wide[2]) > 0.4 > _cosine(wide[0], wide[3])

    again = client.embeddings.create(model="m", input=texts[0], encoding_format="float")
    assert again.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)


def test_embedding_dimensions(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.embedding_dim = 16
    assert len(client.embeddings.create(model="m", input="x").data[0].embedding) == 16
    sized = client.embeddings.create(model="m", input="x", dimensions=4)
    assert len(sized.data[0].embedding) == 4


def test_models(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["fake-model"]


def test_api_key_is_checked() -> None:
    with FakeOpenAIServer(api_key="sk-test") as llm:
        with openai.OpenAI(base_url=llm.base_url, api_key="wrong", max_retries=0) as client:
            with pytest.raises(openai.AuthenticationError):
                client.chat.completions.create(model="m", messages=MESSAGES)
            with pytest.raises(openai.AuthenticationError):
                client.models.list()
        with openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0) as client:
            response = client.chat.completions.create(model="m", messages=MESSAGES)
            assert response.choices[0].message.content == DEFAULT_REPLY


def test_unknown_path_and_malformed_json(llm: FakeOpenAIServer) -> None:
    status, body = _raw_request(llm, "POST", "/v1/nope", b"{}")
    assert status == 404 and body["error"]["type"] == "invalid_request_error"

    status, body = _raw_request(llm, "POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and "message" in body["error"]
    assert [r["json"] for r in llm.requests] == [{}, None]


def test_delay_triggers_client_timeout(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply("slow", delay=600)  # far past the client's timeout; stopping the fake ends it
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.3).chat.completions.create(model="m", messages=MESSAGES)
    assert len(llm.chat_requests) == 1  # it reached the server, which never answered


def test_client_disconnect_mid_stream(llm: FakeOpenAIServer, client: openai.OpenAI) -> None:
    llm.reply("x" * 50, chunk_delay=0.05)
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        for index, _chunk in enumerate(stream):
            if index == 2:
                break

    assert llm.wait_for_disconnects(1, timeout=5.0)
    assert llm.disconnects == 1


def test_async_client_streams(llm: FakeOpenAIServer) -> None:
    async def stream_text() -> str:
        async with openai.AsyncOpenAI(base_url=llm.base_url, api_key="x", max_retries=0) as client:
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])

    llm.reply("异步 streaming works")
    assert asyncio.run(stream_text()) == "异步 streaming works"


def test_stop_is_prompt_with_open_connections() -> None:
    llm = FakeOpenAIServer().start()
    connection = http.client.HTTPConnection("127.0.0.1", llm.port, timeout=5)
    try:
        connection.request("GET", "/v1/models")
        assert connection.getresponse().read()  # the keep-alive connection stays open
        stopping = threading.Thread(target=llm.stop)
        stopping.start()
        stopping.join(timeout=60)  # a safety net: stop() must not wait for the idle client
        assert not stopping.is_alive()
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            connection.request("GET", "/v1/models")  # the server closed the connection
            connection.getresponse()
    finally:
        connection.close()
