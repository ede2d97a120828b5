"""One LLM call as the OpenTelemetry GenAI conventions describe it, and its Prometheus metrics.

The span is started without becoming the current one, so a streaming call may hold it across
``yield``; :meth:`LLMCall.headers` carries its ``traceparent`` to the model server.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from kotaemon.core.schema import Usage
from kotaemon.observability.metrics import LLM_DURATION, LLM_REQUESTS, LLM_TOKENS, LLM_TTFT
from kotaemon.observability.tracing import tracer


class LLMCall:
    """The span and metrics of one call to a chat model.

    Example::

        call = LLMCall("gpt-4o-mini", request, server="api.openai.com")
        try:
            response = await client.chat.completions.create(**request, extra_headers=call.headers())
        except Exception as exc:
            call.fail("llm_failed"); raise
        call.finish(usage=..., response_model=response.model, finish_reason="stop")
    """

    def __init__(self, model: str, request: dict[str, Any], *, server: str | None = None) -> None:
        self.model = model
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.request.max_tokens": request.get("max_tokens"),
            "gen_ai.request.temperature": request.get("temperature"),
        }
        if server:
            attributes["server.address"] = server
        self.span = tracer().start_span(
            f"chat {model}",
            kind=SpanKind.CLIENT,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        self._start = perf_counter()
        self._first_token: float | None = None

    def headers(self) -> dict[str, str]:
        """``traceparent`` naming this call's span, for the request to the model server."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(self.span))
        return carrier

    def first_token(self) -> None:
        if self._first_token is None:
            self._first_token = perf_counter()
            LLM_TTFT.labels(self.model).observe(self._first_token - self._start)

    def finish(
        self, *, usage: Usage | None, response_model: str | None, finish_reason: str | None
    ) -> None:
        LLM_REQUESTS.labels(self.model, "ok").inc()
        LLM_DURATION.labels(self.model).observe(perf_counter() - self._start)
        if usage is not None:
            LLM_TOKENS.labels(self.model, "input").inc(usage.prompt_tokens)
            LLM_TOKENS.labels(self.model, "output").inc(usage.completion_tokens)
            self.span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens)
            self.span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens)
        if response_model:
            self.span.set_attribute("gen_ai.response.model", response_model)
        if finish_reason:
            self.span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])
        self.span.end()

    def fail(self, code: str) -> None:
        LLM_REQUESTS.labels(self.model, code).inc()
        LLM_DURATION.labels(self.model).observe(perf_counter() - self._start)
        self.span.set_attribute("error.type", code)
        self.span.set_status(Status(StatusCode.ERROR, code))
        self.span.end()
