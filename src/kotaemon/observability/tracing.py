"""OpenTelemetry traces: one trace per request, a span per stage, W3C ``traceparent`` in and out.

Spans are always made, so every log line, response and answer carries a trace id; they are
exported only when an exporter is configured by the standard variables
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or
``OTEL_TRACES_EXPORTER=otlp|console``). Sampling follows ``OTEL_TRACES_SAMPLER`` and
``OTEL_TRACES_SAMPLER_ARG`` (default: every trace, or the caller's decision).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

log = logging.getLogger(__name__)

TRACER_NAME = "kotaemon"
_provider: TracerProvider | None = None


def setup_tracing(service_name: str = "kotaemon") -> TracerProvider:
    """Install the process's tracer provider (once; later calls return the same one)."""
    global _provider
    if _provider is not None:
        return _provider
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    _provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    processor = _exporting_processor()
    if processor is not None:
        _provider.add_span_processor(processor)
    trace.set_tracer_provider(_provider)
    return _provider


def _exporting_processor() -> SpanProcessor | None:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if exporter == "console":
        return BatchSpanProcessor(ConsoleSpanExporter())
    if exporter == "otlp" or (endpoint and exporter in ("", "otlp")):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        log.info("exporting traces over OTLP", extra={"endpoint": endpoint or "default"})
        return BatchSpanProcessor(OTLPSpanExporter())  # reads the OTEL_EXPORTER_OTLP_* variables
    return None


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_ids() -> tuple[str | None, str | None]:
    """The current trace and span ids, as hex (None outside a span)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def outgoing_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) for a call made inside the current span."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def incoming_context(headers: Mapping[str, str]) -> Context:
    """The caller's trace context from its ``traceparent`` header, if any."""
    return propagate.extract(headers)
