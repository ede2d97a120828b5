"""Every knob of kotaemon, read from ``KOTAEMON_*`` environment variables (and a ``.env`` file).

Build one :class:`Settings` at start-up (``Settings()``), never at import time, and pass it down.
Secrets are :class:`~kotaemon.core.secrets.Secret`: they print redacted and refuse to serialise.
Every setting can also come from a mounted file: ``KOTAEMON_LLM_API_KEY_FILE=/run/secrets/key``.
A changed copy (a CLI flag, a test) comes from :meth:`Settings.replace`, which validates it like
the environment: no path skips the checks.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kotaemon.core.secrets import Secret
from kotaemon.retrieval.config import DEFAULTS as RETRIEVAL
from kotaemon.retrieval.config import Mode, Overfetch, RrfK, TopK, Weight

EmbeddingBackend = Literal["bundled", "openai"]


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("kotaemon", appauthor=False))


class Settings(BaseSettings):
    """Configuration of one kotaemon process."""

    model_config = SettingsConfigDict(
        env_prefix="KOTAEMON_", env_file=".env", extra="ignore", frozen=True
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: Secret | None = Field(
        default=None,
        description="PostgreSQL (with pgvector >= 0.8) URL; unset: an embedded server in data_dir.",
    )
    database_read_url: Secret | None = Field(
        default=None,
        description="A streaming replica for search, retrieval and listings (falls back to the "
        "primary when it is down); unset: everything reads from the primary.",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    db_timeout: Annotated[float, Field(gt=0)] = Field(
        default=30.0, description="Longest statement or lock wait."
    )
    db_connect_timeout: Annotated[float, Field(gt=0, le=120)] = Field(
        default=5.0,
        description="Longest wait for a database connection; beyond it (the database is down or "
        "overloaded) requests fail at once with 503 and Retry-After.",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Migrate the schema at start-up (under a lock); false: refuse to start "
        "until `kotaemon migrate` has run.",
    )

    # --- embeddings ----------------------------------------------------------------------------
    embedding_backend: EmbeddingBackend = "bundled"
    embedding_model: str = Field(
        default="multilingual-e5-small",
        description="Bundled: multilingual-e5-small. OpenAI-compatible: the server's model name.",
    )
    embedding_base_url: str | None = None
    embedding_api_key: Secret | None = None
    embedding_dim: Annotated[int, Field(ge=1, le=16000)] | None = Field(
        default=None, description="Dimension of an OpenAI-compatible model (probed when unset)."
    )
    embedding_batch_size: Annotated[int, Field(ge=1, le=2048)] = 32
    embedding_timeout: Annotated[float, Field(gt=0)] = 60.0
    embedding_threads: Annotated[int, Field(ge=1, le=256)] | None = Field(
        default=None,
        description="Threads of the bundled embedding engine; unset: the CPUs this process may "
        "use (its affinity and cgroup CPU quota), never the machine's core count.",
    )

    # --- ingestion -----------------------------------------------------------------------------
    chunk_size: Annotated[int, Field(ge=32, le=8192)] = 320
    chunk_overlap: Annotated[int, Field(ge=0, le=1024)] = 32
    max_file_bytes: Annotated[int, Field(ge=1)] = 50 * 2**20
    ingest_parse_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        default=120.0,
        description="Time a PDF, Word or HTML file may take to parse before it fails.",
    )
    ingest_max_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        default=3, description="Deliveries of an ingestion job before it fails for good."
    )
    max_upload_bytes: Annotated[int, Field(ge=1)] = Field(
        default=200 * 2**20, description="Largest upload request (all its files together)."
    )
    max_upload_files: Annotated[int, Field(ge=1, le=1000)] = 100

    # --- worker --------------------------------------------------------------------------------
    worker_concurrency: Annotated[int, Field(ge=1, le=64)] = Field(
        default=2, description="Ingestion jobs one worker process runs at a time."
    )
    worker_heartbeat_seconds: Annotated[float, Field(gt=0)] = 10.0
    worker_stalled_after_seconds: Annotated[float, Field(gt=0)] = Field(
        default=60.0,
        description="A worker silent this long is taken for dead and its jobs are run again.",
    )

    # --- retrieval -----------------------------------------------------------------------------
    top_k: TopK = RETRIEVAL.top_k
    retrieval_mode: Mode = RETRIEVAL.mode
    rrf_k: RrfK = RETRIEVAL.rrf_k
    dense_weight: Weight = RETRIEVAL.dense_weight
    keyword_weight: Weight = RETRIEVAL.keyword_weight
    overfetch: Overfetch = RETRIEVAL.overfetch
    split_languages: bool = Field(
        default=RETRIEVAL.split_languages,
        description="Rank each language of a multilingual collection apart in dense search.",
    )
    min_relevance: Annotated[float, Field(ge=-1, le=1)] | None = Field(
        default=None,
        description="Top dense similarity below which an answer says nothing relevant was found "
        "(default: the value calibrated for the embedding model).",
    )

    # --- LLM -----------------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL; unset: the extractive answerer."
    )
    llm_api_key: Secret | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: Annotated[float, Field(gt=0)] = 60.0
    llm_max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    llm_context_window: Annotated[int, Field(ge=512)] = 16384
    llm_max_output_tokens: Annotated[int, Field(ge=16)] = 1024
    llm_temperature: Annotated[float, Field(ge=0, le=2)] = 0.1

    # --- agent ---------------------------------------------------------------------------------
    agent_config: Path | None = Field(
        default=None,
        description="The tools and intents file (see examples/agent.yaml); unset: no tools.",
    )
    tool_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    agent_max_tool_rounds: Annotated[int, Field(ge=1, le=10)] = 2
    local_attributes: dict[str, str] = Field(
        default_factory=dict,
        description='Attributes of the local user under auth=none, e.g. {"customer_id": '
        '"C-1001"} for the demo.',
    )

    # --- observability -------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="json or text; unset: json for `serve` and `worker` (stdout), text for "
        "the other commands (stderr).",
    )
    redact_rag_records: bool | None = Field(
        default=None,
        description="Leave question, prompt and answer text out of the RAG record log; "
        "unset: redacted unless the service is local (bound to loopback).",
    )
    metrics_token: Secret | None = Field(
        default=None, description="When set, /metrics asks for `Authorization: Bearer <token>`."
    )

    # --- HTTP service ---------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `kotaemon serve` listens on.")
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    max_request_bytes: Annotated[int, Field(ge=1)] = Field(
        default=2**20, description="Larger request bodies get 413 request_too_large."
    )
    max_concurrent_requests: Annotated[int, Field(ge=1)] = Field(
        default=64,
        description="In-flight requests per process (health probes excluded); beyond it, "
        "503 overloaded with Retry-After.",
    )
    request_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        default=120.0,
        description="Time a request may take to start its response (504 request_timeout); "
        "streams start at once, so this bounds non-streaming requests.",
    )
    sse_heartbeat_seconds: Annotated[float, Field(gt=0)] = Field(
        default=15.0, description="Idle time after which an event stream sends `: ping`."
    )
    shutdown_drain_seconds: Annotated[float, Field(ge=0, le=600)] = Field(
        default=0.0,
        description="After SIGTERM, /readyz fails at once but the service keeps serving this "
        "long, so that load balancers take it out before it stops accepting connections.",
    )
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = Field(
        default=20.0,
        description="Then, how long in-flight requests and streams may finish before they are "
        "cancelled.",
    )
    worker_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=8001,
        description="`kotaemon worker` serves /healthz, /readyz and /metrics on this port "
        "(on KOTAEMON_HOST); 0: none.",
    )

    # --- security ------------------------------------------------------------------------------
    auth: Literal["none", "oidc"] = Field(
        default="none",
        description="none: every caller is the local admin (loopback only); oidc: bearer tokens "
        "from your identity provider, API keys and browser sessions.",
    )
    allow_public_without_auth: bool = Field(
        default=False, description="Serve auth=none on a non-loopback address (not advised)."
    )
    oidc_issuer: str | None = Field(
        default=None, description="The issuer URL; its /.well-known/openid-configuration is read."
    )
    oidc_audience: str | None = Field(
        default=None, description="The `aud` access tokens must carry (default: the client id)."
    )
    oidc_client_id: str | None = Field(default=None, description="For browser sign-in.")
    oidc_client_secret: Secret | None = None
    oidc_user_claim: str = "sub"
    oidc_groups_claim: str = Field(
        default="groups", description="Dotted paths reach nested claims: realm_access.roles."
    )
    oidc_roles_claim: str = Field(
        default="roles", description="Roles count as scopes (Entra ID app roles, Keycloak roles)."
    )
    oidc_scope_map: dict[str, str] = Field(
        default_factory=dict,
        description='kotaemon scope -> token scope or role, e.g. {"chat": "kotaemon.chat"}; '
        "unmapped scopes keep their own names.",
    )
    oidc_attribute_claims: dict[str, str] = Field(
        default_factory=dict,
        description='Principal attribute -> claim, e.g. {"customer_id": "customer_id"} (tools).',
    )
    oidc_admin_groups: list[str] = Field(
        default_factory=list, description="Members of these groups are admins."
    )
    oidc_clock_skew_seconds: Annotated[int, Field(ge=0, le=300)] = 60
    oidc_jwks_min_refresh_seconds: Annotated[float, Field(ge=0)] = Field(
        default=30.0, description="An unknown key id refetches the keys at most this often."
    )
    public_url: str | None = Field(
        default=None,
        description="The service's public base URL (for the sign-in redirect), e.g. "
        "https://chat.example.com",
    )
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 8.0
    redis_url: Secret | None = Field(
        default=None,
        description="Shared caches and rate limits across replicas; unset: in-process "
        "(single-replica mode).",
    )
    redis_timeout_seconds: Annotated[float, Field(gt=0, le=10)] = Field(
        default=0.1,
        description="Longest wait for Redis; beyond it Redis counts as down: caches are "
        "bypassed, rate limits follow KOTAEMON_RATE_LIMIT_FAIL_OPEN.",
    )
    cache_ttl_seconds: Annotated[float, Field(gt=0)] = Field(
        default=86400.0,
        description="How long cached query embeddings, search results and answers are kept "
        "(their keys make them exact: this only bounds memory).",
    )
    cache_max_bytes: Annotated[int, Field(ge=0)] = Field(
        default=64 * 2**20,
        description="Memory for the in-process caches (without Redis); with Redis, bound it "
        "with Redis's maxmemory and allkeys-lru.",
    )
    answer_cache: bool = Field(
        default=False,
        description="Cache whole answers to the same question over the same collection "
        "versions (answers that used tools or history are never cached).",
    )
    rate_limit_per_minute: Annotated[int, Field(ge=0)] = Field(
        default=120, description="Requests per principal per minute (0: no limit)."
    )
    rate_limit_ip_per_minute: Annotated[int, Field(ge=0)] = Field(
        default=600, description="Requests per client address per minute (0: no limit)."
    )
    rate_limit_fail_open: bool = Field(
        default=True,
        description="When Redis is down: let requests through (true) or refuse them (false).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) whose X-Forwarded-For is believed.",
    )
    retention_conversation_days: Annotated[int, Field(ge=1)] = 90
    retention_audit_days: Annotated[int, Field(ge=1)] = 365

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, validated like the environment (``model_copy`` is not).

        :raises pydantic.ValidationError: as ``Settings()`` would for the same values.
        """
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(_env_file=None, **{**current, **changes})

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copies are validated too (see :meth:`replace`)."""
        return self.replace(**(update or {}))

    @property
    def local_mode(self) -> bool:
        """A one-machine install: no authentication, and the service listens on loopback."""
        return self.auth == "none" and _is_loopback(self.host)

    @property
    def redacts_rag_records(self) -> bool:
        if self.redact_rag_records is not None:
            return self.redact_rag_records
        return not self.local_mode

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, values: dict[str, Any]) -> dict[str, Any]:
        """``KOTAEMON_X_FILE=/path`` sets ``x`` from the file (a mounted Kubernetes Secret)."""
        for key, path in os.environ.items():
            if key.startswith("KOTAEMON_") and key.endswith("_FILE"):
                name = key.removeprefix("KOTAEMON_").removesuffix("_FILE").lower()
                if name in cls.model_fields and name not in values:
                    try:
                        values[name] = Path(path).read_text(encoding="utf-8").strip()
                    except OSError as exc:
                        raise ValueError(f"{key}: cannot read {path} ({exc.strerror})") from exc
        return values

    @model_validator(mode="after")
    def _check_auth(self) -> Settings:
        if self.auth == "oidc" and not self.oidc_issuer:
            raise ValueError(
                "KOTAEMON_AUTH=oidc needs KOTAEMON_OIDC_ISSUER (e.g. "
                "https://keycloak.example.com/realms/acme)"
            )
        if self.auth == "oidc" and not (self.oidc_audience or self.oidc_client_id):
            raise ValueError(
                "KOTAEMON_AUTH=oidc needs KOTAEMON_OIDC_AUDIENCE (or KOTAEMON_OIDC_CLIENT_ID): "
                "without it, tokens the issuer signed for any other application would be accepted"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"KOTAEMON_TRUSTED_PROXIES: {proxy!r} is not an address or a network (CIDR)"
                ) from None
        if (
            self.auth == "none"
            and not _is_loopback(self.host)
            and not self.allow_public_without_auth
        ):
            raise ValueError(
                f"refusing to serve on {self.host} without authentication: set KOTAEMON_AUTH=oidc, "
                "bind to 127.0.0.1, or (behind a trusted gateway only) set "
                "KOTAEMON_ALLOW_PUBLIC_WITHOUT_AUTH=true"
            )
        return self

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_size ({self.chunk_size})"
            )
        if self.llm_max_output_tokens >= self.llm_context_window // 2:
            raise ValueError(
                f"llm_max_output_tokens ({self.llm_max_output_tokens}) must be under half of "
                f"llm_context_window ({self.llm_context_window}), to leave room for the sources"
            )
        if self.worker_heartbeat_seconds * 2 > self.worker_stalled_after_seconds:
            raise ValueError(
                f"worker_stalled_after_seconds ({self.worker_stalled_after_seconds:g}) must be "
                f"at least twice worker_heartbeat_seconds ({self.worker_heartbeat_seconds:g}), "
                "or live workers would be taken for dead"
            )
        if self.embedding_backend == "bundled" and self.embedding_model != "multilingual-e5-small":
            raise ValueError(
                f"the bundled backend has one model, multilingual-e5-small, not "
                f"{self.embedding_model!r}; for others set KOTAEMON_EMBEDDING_BACKEND=openai"
            )
        if self.embedding_backend == "openai" and not self.embedding_base_url:
            raise ValueError(
                "KOTAEMON_EMBEDDING_BACKEND=openai needs KOTAEMON_EMBEDDING_BASE_URL "
                "(e.g. http://localhost:8080/v1 for TEI)"
            )
        return self
