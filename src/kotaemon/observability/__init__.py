"""Metrics (Prometheus), logs (JSON lines with trace ids) and traces (OpenTelemetry).

Every stage of an answer has its own span, its own histogram and a line in the RAG record:
:func:`~kotaemon.observability.stages.stage` does all three.
"""
