"""Wires the parts together from :class:`~kotaemon.settings.Settings`: store, embedder, LLM,
retriever, RAG and ingest pipelines, built once when the engine opens. The CLI and the service
both start here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import anyio.to_thread

from kotaemon.agent.config import AgentConfig, load_agent_config
from kotaemon.agent.intents import IntentRouter
from kotaemon.agent.mcp import McpSource
from kotaemon.agent.orchestrator import ToolPlanner
from kotaemon.agent.tools import ToolRegistry
from kotaemon.cache.cache import Cache
from kotaemon.cache.embeddings import CachedEmbedder
from kotaemon.cache.redis import SharedRedis
from kotaemon.cache.store import CacheStore, MemoryCacheStore, RedisCacheStore
from kotaemon.core.errors import ConflictError, NotFoundError
from kotaemon.core.principal import Principal, require_principal
from kotaemon.core.schema import Collection
from kotaemon.core.sync import run_sync
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.eval.runner import EvalRunner
from kotaemon.eval.worker import EvalJobRunner
from kotaemon.ingest.pipeline import IngestPipeline
from kotaemon.ingest.queue import IngestQueue
from kotaemon.ingest.worker import IngestJobRunner, run_worker
from kotaemon.llms.base import LLMInterface
from kotaemon.observability.metrics import declare_llm
from kotaemon.pipelines.rag import RAGPipeline
from kotaemon.retrieval.config import RetrievalConfig
from kotaemon.retrieval.retriever import VectorDBRetriever
from kotaemon.settings import Settings
from kotaemon.store.embedded import start_embedded_postgres
from kotaemon.store.postgres import PostgresStore

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "default"
T = TypeVar("T")


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (uncached: see :class:`Engine` for the cached one)."""
    if settings.embedding_backend == "openai":
        from kotaemon.embeddings.openai_compatible import OpenAICompatibleEmbedder  # openai: slow

        assert settings.embedding_base_url is not None  # checked by Settings
        return OpenAICompatibleEmbedder(
            base_url=settings.embedding_base_url,
            model=settings.embedding_model,
            api_key=settings.embedding_api_key,
            dim=settings.embedding_dim,
            batch_size=settings.embedding_batch_size,
            timeout=settings.embedding_timeout,
        )
    return BundledE5Embedder(
        batch_size=settings.embedding_batch_size, threads=settings.embedding_threads
    )


def build_llm(settings: Settings) -> LLMInterface | None:
    """The configured LLM, or None for the offline extractive answerer."""
    if not settings.llm_base_url:
        return None
    from kotaemon.llms.openai_compatible import OpenAICompatibleLLM  # the openai client is slow

    return OpenAICompatibleLLM(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        context_window=settings.llm_context_window,
        max_output_tokens=settings.llm_max_output_tokens,
        temperature=settings.llm_temperature,
    )


async def database_url(settings: Settings) -> str:
    """The configured database, or the embedded server's (started if need be)."""
    if settings.database_url:
        return settings.database_url.reveal()
    data_dir: Path = settings.data_dir
    log.info("KOTAEMON_DATABASE_URL unset: using the embedded PostgreSQL in %s", data_dir)
    return await anyio.to_thread.run_sync(start_embedded_postgres, data_dir)


class Engine:
    """Everything one process needs, opened once and closed at exit.

    Example::

        async with Engine(Settings()) as engine:
            collection = await engine.ensure_collection("default")
            await engine.ingest.arun(Path("docs"), collection)
            answer = await engine.rag.arun("宽限期是几天？")

    :param settings: the configuration (default: ``Settings()``, from the environment);
        ``overrides`` change single settings and are validated like the environment.
    :param local_user: calls that pass no principal run as the local user (one-machine use:
        the CLI and scripts). The service passes False, so that such a call fails instead.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        with_agent: bool = True,
        local_user: bool = True,
        **overrides: object,
    ) -> None:
        settings = settings if settings is not None else Settings()
        self.settings = settings.replace(**overrides) if overrides else settings
        self.with_agent = with_agent
        self.default_principal = (
            Principal.local(self.settings.local_attributes) if local_user else None
        )
        s = self.settings
        #: The deployment's Redis (caches, rate limits); None: in-process (single-replica mode).
        self.redis = (
            SharedRedis(s.redis_url.reveal(), timeout=s.redis_timeout_seconds)
            if s.redis_url is not None
            else None
        )
        cache_store: CacheStore = (
            RedisCacheStore(self.redis)
            if self.redis is not None
            else MemoryCacheStore(s.cache_max_bytes)
        )
        ttl = s.cache_ttl_seconds
        self.embedder: Embedder = CachedEmbedder(
            build_embedder(s), Cache("query_embedding", cache_store, ttl=ttl)
        )
        self.retrieval_cache = Cache("retrieval", cache_store, ttl=ttl)
        self.answer_cache = Cache("answer", cache_store, ttl=ttl) if s.answer_cache else None
        self.llm = build_llm(s)
        self._store: PostgresStore | None = None
        self._queue: IngestQueue | None = None
        self._retriever: VectorDBRetriever | None = None
        self._rag: RAGPipeline | None = None
        self._ingest: IngestPipeline | None = None
        self.planner: ToolPlanner | None = None
        self._mcp_sources: list[McpSource] = []

    async def open(self) -> Engine:
        """Start or reach the database, migrate it, open the job queue, load the embedding model
        and build the pipelines.

        :raises KotaemonError: if any part fails; what was opened is closed again.
        """
        s = self.settings
        url = await database_url(s)
        store = PostgresStore(
            url,
            read_url=s.database_read_url.reveal() if s.database_read_url else None,
            pool_size=s.db_pool_size,
            timeout=s.db_timeout,
            connect_timeout=s.db_connect_timeout,
            auto_migrate=s.auto_migrate,
        )
        await store.open()
        self._store = store
        try:
            self._queue = IngestQueue(url, max_attempts=s.ingest_max_attempts)
            await self._queue.open()
            await self.embedder.open()
            config = (
                load_agent_config(s.agent_config, default_timeout=s.tool_timeout_seconds)
                if s.agent_config is not None
                else None
            )
            self.planner = await self._open_planner(config)
            self._build(store, config)
        except BaseException:
            await self.close()
            raise
        if self.redis is None:
            log.info(
                "KOTAEMON_REDIS_URL unset: caches are kept in this process (single-replica mode)"
            )
        if self.llm is None:
            log.info("no LLM configured (KOTAEMON_LLM_BASE_URL unset): answers are extractive")
        else:
            declare_llm(self.llm.model)
        return self

    def _build(self, store: PostgresStore, config: AgentConfig | None) -> None:
        """The retriever and the pipelines, once: every request shares them."""
        s = self.settings
        self._retriever = VectorDBRetriever(
            store.catalog,
            store.search,
            self.embedder,
            principal=self.default_principal,
            config=RetrievalConfig(
                top_k=s.top_k,
                mode=s.retrieval_mode,
                rrf_k=s.rrf_k,
                dense_weight=s.dense_weight,
                keyword_weight=s.keyword_weight,
                overfetch=s.overfetch,
                split_languages=s.split_languages,
            ),
            cache=self.retrieval_cache,
        )
        self._rag = RAGPipeline(
            self._retriever,
            self.llm,
            min_relevance=s.min_relevance,
            max_output_tokens=s.llm_max_output_tokens,
            redact_records=s.redacts_rag_records,
            planner=self.planner,
            system_prompts=config.system_prompts if config else None,
            answer_cache=self.answer_cache,
        )
        self._ingest = IngestPipeline(
            store.documents,
            store.embedding_cache,
            self.embedder,
            chunk_size=s.chunk_size,
            chunk_overlap=s.chunk_overlap,
            max_file_bytes=s.max_file_bytes,
            parse_timeout=s.ingest_parse_timeout_seconds,
        )

    async def _open_planner(self, config: AgentConfig | None) -> ToolPlanner | None:
        """The tools and intents of ``KOTAEMON_AGENT_CONFIG`` (None without one)."""
        if config is None or not self.with_agent:
            return None
        tools = list(config.tools)
        try:
            for source in config.mcp_sources:
                tools += await source.open()
                self._mcp_sources.append(source)
        except BaseException:
            await ToolRegistry(config.tools).close()
            raise
        router = None
        if self.llm is None and config.intents:
            router = IntentRouter(config.intents, self.embedder, threshold=config.router_threshold)
            await router.open()
        log.info("agent tools loaded", extra={"tools": [t.name for t in tools]})
        return ToolPlanner(
            ToolRegistry(tools),
            router=router,
            llm=self.llm,
            templates=config.templates,
            max_rounds=self.settings.agent_max_tool_rounds,
            prompts=config.planner_prompts,
        )

    @property
    def local_principal(self) -> Principal:
        """The one user of a local install (``auth=none``), with the configured attributes."""
        return Principal.local(self.settings.local_attributes)

    async def close(self) -> None:
        if self.planner is not None:
            await self.planner.registry.close()
        for source in reversed(self._mcp_sources):
            await source.close()
        if self.llm is not None:
            await self.llm.close()
        await self.embedder.close()
        if self.redis is not None:
            await self.redis.close()
        if self._queue is not None:
            await self._queue.close()
        if self._store is not None:
            await self._store.close()

    def start(self) -> Engine:
        """Synchronous :meth:`open`, for scripts and notebooks (pair it with :meth:`stop`)."""
        return run_sync(self.open, name="start")

    def stop(self) -> None:
        run_sync(self.close, name="stop")

    async def __aenter__(self) -> Engine:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _opened(self, part: T | None) -> T:
        if part is None:
            raise RuntimeError("Engine is not open: use `async with Engine(settings) as engine`")
        return part

    @property
    def store(self) -> PostgresStore:
        return self._opened(self._store)

    @property
    def retriever(self) -> VectorDBRetriever:
        return self._opened(self._retriever)

    @property
    def rag(self) -> RAGPipeline:
        return self._opened(self._rag)

    @property
    def ingest(self) -> IngestPipeline:
        return self._opened(self._ingest)

    @property
    def queue(self) -> IngestQueue:
        return self._opened(self._queue)

    async def work(self, *, install_signal_handlers: bool = True) -> None:
        """Run queued ingestion jobs and eval runs until stopped (``kotaemon worker``)."""
        s = self.settings
        evals = EvalJobRunner(EvalRunner(self.rag, self.store.evals, self.llm))
        await run_worker(
            self.queue,
            IngestJobRunner(self.store.jobs, self.store.collections, self.ingest),
            concurrency=s.worker_concurrency,
            heartbeat_seconds=s.worker_heartbeat_seconds,
            stalled_after_seconds=s.worker_stalled_after_seconds,
            housekeeping=self.purge,
            install_signal_handlers=install_signal_handlers,
            eval_handler=evals.run,
        )

    async def purge(self) -> None:
        """Delete conversations, answers, sessions and audit rows past their retention."""
        await self.store.security.purge(
            conversation_days=self.settings.retention_conversation_days,
            audit_days=self.settings.retention_audit_days,
        )

    async def ensure_collection(self, name: str, principal: Principal | None = None) -> Collection:
        """The collection ``name``, created with this engine's embedding model if missing.

        :param principal: who creates or writes it (default: the engine's default principal).
        """
        owner = require_principal(principal if principal is not None else self.default_principal)
        collections = self.store.collections
        try:
            return await collections.writable(owner, name)
        except NotFoundError:
            pass
        try:
            return await collections.create(
                owner, name, model=self.embedder.model, dim=self.embedder.dim
            )
        except ConflictError:  # created by a concurrent process meanwhile
            return await collections.get(owner, name, write=True)
