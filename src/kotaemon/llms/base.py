"""The LLM interface: sync, async and streaming generation, with tool calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from kotaemon.core.component import BaseComponent
from kotaemon.core.schema import Usage
from kotaemon.core.sync import iterate_sync, run_sync


class ToolSpec(BaseModel):
    """A tool the model may call: name, description and JSON-Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any]


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None


class LLMResponse(BaseModel):
    """A finished generation. ``text`` is the answer; ``tool_calls`` what the model asked for."""

    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str
    finish_reason: str | None = None


class LLMChunk(BaseModel):
    """A piece of a streamed generation; the last carries tool calls, usage and finish reason."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None


Prompt = str | Sequence[ChatMessage]


class LLMInterface(BaseComponent):
    """A chat model. Backends implement :meth:`agenerate` and :meth:`astream`.

    Example::

        llm = OpenAICompatibleLLM(base_url="https://api.openai.com/v1", model="gpt-4o-mini",
                                  api_key=Secret(os.environ["OPENAI_API_KEY"]))
        print(llm.generate("Say hi").text)
        for chunk in llm.stream("Count to 3"):
            print(chunk.text, end="")
    """

    #: The model's name as the backend knows it.
    model: str = ""
    #: Tokens the model reads (prompt and answer together).
    context_window: int = 8192

    async def agenerate(
        self,
        prompt: Prompt,
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> LLMResponse:
        raise NotImplementedError

    def astream(
        self,
        prompt: Prompt,
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LLMChunk]:
        raise NotImplementedError

    def generate(self, prompt: Prompt, **kwargs: Any) -> LLMResponse:
        """Synchronous :meth:`agenerate`."""
        return run_sync(lambda: self.agenerate(prompt, **kwargs), name="generate")

    def stream(self, prompt: Prompt, **kwargs: Any) -> Iterator[LLMChunk]:
        """Synchronous :meth:`astream`."""
        return iterate_sync(self.astream(prompt, **kwargs), name="stream")

    async def arun(self, prompt: Prompt, **kwargs: Any) -> LLMResponse:
        return await self.agenerate(prompt, **kwargs)

    def run(self, prompt: Prompt, **kwargs: Any) -> LLMResponse:
        return self.generate(prompt, **kwargs)

    async def close(self) -> None:
        """Release connections (the engine calls it at exit)."""


def as_messages(prompt: Prompt) -> list[ChatMessage]:
    if isinstance(prompt, str):
        return [ChatMessage(role="user", content=prompt)]
    return list(prompt)
