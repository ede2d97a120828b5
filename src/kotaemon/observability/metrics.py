"""The service's Prometheus metrics, in one registry, rendered at ``/metrics``.

``kotaemon serve`` runs one process per replica (scale out with replicas, not uvicorn
workers), so each scrape sees the whole process and no multiprocess mode is needed. Gauges of
shared state (``kotaemon_ingest_jobs``) are the same on every replica: aggregate them with
``max``, not ``sum``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

#: Request latencies from 5 ms to 2 minutes (streams last as long as the answer).
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_STAGE = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response (streams included).",
    ["method", "route"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight", "HTTP requests being served now.", registry=REGISTRY
)

LLM_REQUESTS = Counter(
    "kotaemon_llm_requests",
    "Calls to the LLM, by model and outcome (ok, or the error code).",
    ["model", "status"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "kotaemon_llm_tokens",
    "Tokens the LLM read (input) and wrote (output).",
    ["model", "type"],
    registry=REGISTRY,
)
LLM_DURATION = Histogram(
    "kotaemon_llm_request_duration_seconds",
    "Time of one LLM call, to its last token.",
    ["model"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
LLM_TTFT = Histogram(
    "kotaemon_llm_time_to_first_token_seconds",
    "Time from a streamed LLM call to its first token.",
    ["model"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
RETRIEVAL_DURATION = Histogram(
    "kotaemon_retrieval_duration_seconds",
    "Time of each retrieval stage: embed, dense, keyword, fuse.",
    ["stage"],
    buckets=_STAGE,
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "kotaemon_tool_calls",
    "Tool calls, by tool and status (ok, error, timeout, denied).",
    ["tool", "status"],
    registry=REGISTRY,
)
CACHE_REQUESTS = Counter(
    "kotaemon_cache_requests",
    "Cache look-ups, by cache (query_embedding, retrieval, answer, embedding) and result (hit, "
    "miss, error: the shared cache did not answer).",
    ["cache", "result"],
    registry=REGISTRY,
)
REDIS_UP = Gauge(
    "kotaemon_redis_up",
    "1 while the shared Redis answers (or none is configured), 0 during an outage.",
    registry=REGISTRY,
)
REDIS_OUTAGES = Counter(
    "kotaemon_redis_outages",
    "Redis outages noticed (each logged once; caches were bypassed meanwhile).",
    registry=REGISTRY,
)
REPLICA_FALLBACKS = Counter(
    "kotaemon_db_replica_fallbacks",
    "Reads meant for the read replica that ran on the primary (the replica was down).",
    registry=REGISTRY,
)
INGEST_JOBS = Gauge(
    "kotaemon_ingest_jobs",
    "Ingestion jobs by state (queued and running: the queue depth), across all replicas.",
    ["state"],
    registry=REGISTRY,
)
ANSWERS = Counter(
    "kotaemon_answers",
    "Answers given, by outcome: answered, no_context (nothing relevant found), error.",
    ["outcome"],
    registry=REGISTRY,
)
FEEDBACK = Counter(
    "kotaemon_feedback",
    "Ratings users gave answers: helpful or wrong.",
    ["rating"],
    registry=REGISTRY,
)

#: Every label value of the fixed label sets starts at zero, so dashboards and alert rules see
#: the series before the first event.
for _outcome in ("answered", "no_context", "error"):
    ANSWERS.labels(_outcome)
for _rating in ("helpful", "wrong"):
    FEEDBACK.labels(_rating)
for _state in ("queued", "running", "succeeded", "failed"):
    INGEST_JOBS.labels(_state)
for _stage in ("embed", "dense", "keyword", "fuse"):
    RETRIEVAL_DURATION.labels(_stage)


for _result in ("hit", "miss"):
    CACHE_REQUESTS.labels("embedding", _result)
REDIS_UP.set(1)


def declare_llm(model: str) -> None:
    """Start the LLM series of ``model`` at zero, so they exist before its first call."""
    LLM_REQUESTS.labels(model, "ok")
    for kind in ("input", "output"):
        LLM_TOKENS.labels(model, kind)
    LLM_DURATION.labels(model)
    LLM_TTFT.labels(model)


def render() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
