"""Chat models behind the OpenAI API: OpenAI, Azure OpenAI, vLLM, Ollama, DeepSeek, Qwen…"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import openai

from kotaemon.core.errors import LLMError, LLMRateLimitedError, LLMTimeoutError
from kotaemon.core.schema import Usage
from kotaemon.core.secrets import Secret
from kotaemon.llms.base import (
    ChatMessage,
    LLMChunk,
    LLMInterface,
    LLMResponse,
    Prompt,
    ToolCall,
    ToolSpec,
    as_messages,
)
from kotaemon.observability.genai import LLMCall


class OpenAICompatibleLLM(LLMInterface):
    """Any server speaking ``POST /chat/completions``. Retries 429 and 5xx with backoff.

    :param base_url: e.g. ``https://api.openai.com/v1``, ``http://localhost:11434/v1`` (Ollama).
    :param timeout: seconds for one request (streams: between chunks).
    :param max_retries: retries on 408/409/429/5xx and connection errors, with exponential backoff.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: Secret | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        context_window: int = 16384,
        max_output_tokens: int = 1024,
        temperature: float = 0.1,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key.reveal() if api_key else "not-needed",
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )

    def __repr__(self) -> str:
        url = self._client.base_url  # credentials in the URL are not shown
        return (
            f"OpenAICompatibleLLM(base_url='{url.scheme}://{url.host}{url.path}', "
            f"model={self.model!r})"
        )

    async def close(self) -> None:
        await self._client.close()

    def _request(
        self,
        prompt: Prompt,
        tools: Sequence[ToolSpec],
        max_tokens: int | None,
        temperature: float | None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [_to_openai(m) for m in as_messages(prompt)],
            "max_tokens": max_tokens or self.max_output_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        if tools:
            request["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        return request

    async def agenerate(
        self,
        prompt: Prompt,
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> LLMResponse:
        request = self._request(prompt, tools, max_tokens, temperature)
        span = LLMCall(self.model, request, server=self._client.base_url.host)
        try:
            completion = await self._client.chat.completions.create(
                **request, extra_headers=span.headers()
            )
        except openai.APIError as exc:
            error = _llm_error(exc)
            span.fail(error.code)
            raise error from exc
        except BaseException:
            span.fail("cancelled")
            raise
        choice = completion.choices[0]
        usage = completion.usage
        response = LLMResponse(
            text=choice.message.content or "",
            tool_calls=[
                ToolCall(
                    id=c.id, name=c.function.name, arguments=_parse_arguments(c.function.arguments)
                )
                for c in choice.message.tool_calls or []
                if c.type == "function"
            ],
            usage=Usage(
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            ),
            model=completion.model or self.model,
            finish_reason=choice.finish_reason,
        )
        span.finish(
            usage=response.usage, response_model=response.model, finish_reason=choice.finish_reason
        )
        return response

    async def astream(
        self,
        prompt: Prompt,
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LLMChunk]:
        request = self._request(prompt, tools, max_tokens, temperature)
        span = LLMCall(self.model, request, server=self._client.base_url.host)
        calls: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        finish_reason: str | None = None
        response_model: str | None = None
        try:
            stream = await self._client.chat.completions.create(
                **request,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=span.headers(),
            )
            async with stream:
                async for chunk in stream:
                    response_model = chunk.model or response_model
                    if chunk.usage:
                        usage = Usage(
                            prompt_tokens=chunk.usage.prompt_tokens,
                            completion_tokens=chunk.usage.completion_tokens,
                        )
                    for choice in chunk.choices:
                        finish_reason = choice.finish_reason or finish_reason
                        for call in choice.delta.tool_calls or []:
                            slot = calls.setdefault(
                                call.index, {"id": "", "name": "", "arguments": ""}
                            )
                            slot["id"] = call.id or slot["id"]
                            if call.function:
                                slot["name"] += call.function.name or ""
                                slot["arguments"] += call.function.arguments or ""
                        if choice.delta.content:
                            span.first_token()
                            yield LLMChunk(text=choice.delta.content)
        except openai.APIError as exc:
            error = _llm_error(exc)
            span.fail(error.code)
            raise error from exc
        except BaseException:  # the consumer went away (GeneratorExit) or a cancellation
            span.fail("cancelled")
            raise
        span.finish(usage=usage, response_model=response_model, finish_reason=finish_reason)
        yield LLMChunk(
            tool_calls=[
                ToolCall(id=c["id"], name=c["name"], arguments=_parse_arguments(c["arguments"]))
                for _, c in sorted(calls.items())
            ],
            usage=usage,
            finish_reason=finish_reason,
        )


def _to_openai(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": json.dumps(c.arguments, ensure_ascii=False),
                },
            }
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def _parse_arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise LLMError(f"the model sent tool arguments that are not JSON: {raw[:200]!r}") from exc
    if not isinstance(value, dict):
        raise LLMError("the model sent tool arguments that are not a JSON object")
    return value


def _llm_error(exc: openai.APIError) -> LLMError:
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeoutError(
            "the LLM did not answer in time; raise KOTAEMON_LLM_TIMEOUT or retry"
        )
    if isinstance(exc, openai.AuthenticationError):
        return LLMError("the LLM refused the API key; check KOTAEMON_LLM_API_KEY", code="llm_auth")
    if isinstance(exc, openai.RateLimitError):
        return LLMRateLimitedError("the LLM is rate-limiting us; retry later")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("cannot reach the LLM; check KOTAEMON_LLM_BASE_URL", code="llm_unreachable")
    status = getattr(exc, "status_code", None)
    return LLMError(f"the LLM failed (HTTP {status}): {exc.message}", code="llm_failed")
