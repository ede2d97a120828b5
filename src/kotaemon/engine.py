"""Wires the parts together from :class:`~kotaemon.settings.Settings`: store, embedder, LLM,
retriever, RAG and ingest pipelines. The CLI and the service both start here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

import anyio.to_thread

from kotaemon.agent.config import load_agent_config
from kotaemon.agent.intents import IntentRouter
from kotaemon.agent.mcp import McpSource
from kotaemon.agent.orchestrator import ToolPlanner
from kotaemon.agent.tools import ToolRegistry
from kotaemon.core.errors import ConflictError, NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection
from kotaemon.core.sync import run_sync
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.embeddings.openai_compatible import OpenAICompatibleEmbedder
from kotaemon.ingest.pipeline import IngestPipeline
from kotaemon.ingest.queue import IngestQueue
from kotaemon.ingest.worker import IngestJobRunner, run_worker
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM
from kotaemon.observability.metrics import declare_llm
from kotaemon.pipelines.rag import RAGPipeline
from kotaemon.retrieval.retriever import RetrievalConfig, VectorDBRetriever
from kotaemon.settings import Settings
from kotaemon.store.answers import AnswerStore
from kotaemon.store.embedded import start_embedded_postgres
from kotaemon.store.jobs import JobStore
from kotaemon.store.postgres import PostgresStore
from kotaemon.store.security import SecurityStore

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "default"


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "openai":
        assert settings.embedding_base_url is not None  # checked by Settings
        return OpenAICompatibleEmbedder(
            base_url=settings.embedding_base_url,
            model=settings.embedding_model,
            api_key=settings.embedding_api_key,
            dim=settings.embedding_dim,
            batch_size=settings.embedding_batch_size,
            timeout=settings.embedding_timeout,
        )
    return BundledE5Embedder(batch_size=settings.embedding_batch_size)


def build_llm(settings: Settings) -> OpenAICompatibleLLM | None:
    """The configured LLM, or None for the offline extractive answerer."""
    if not settings.llm_base_url:
        return None
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
    """

    def __init__(self, settings: Settings, *, with_agent: bool = True) -> None:
        self.settings = settings
        self.with_agent = with_agent
        self.embedder = build_embedder(settings)
        self.llm = build_llm(settings)
        self.store: PostgresStore | None = None
        self._queue: IngestQueue | None = None
        self.planner: ToolPlanner | None = None
        self._mcp_sources: list[McpSource] = []

    async def open(self) -> Engine:
        """Start or reach the database, migrate it, open the job queue, load the embedding model.

        :raises KotaemonError: if any part fails; what was opened is closed again.
        """
        url = await database_url(self.settings)
        self.store = PostgresStore(
            url,
            pool_size=self.settings.db_pool_size,
            timeout=self.settings.db_timeout,
            auto_migrate=self.settings.auto_migrate,
        )
        await self.store.open()
        try:
            self._queue = IngestQueue(url, max_attempts=self.settings.ingest_max_attempts)
            await self._queue.open()
            await self.embedder.open()
            self.planner = await self._open_planner()
        except BaseException:
            await self.close()
            raise
        if self.llm is None:
            log.info("no LLM configured (KOTAEMON_LLM_BASE_URL unset): answers are extractive")
        else:
            declare_llm(self.llm.model)
        return self

    async def _open_planner(self) -> ToolPlanner | None:
        """The tools and intents of ``KOTAEMON_AGENT_CONFIG`` (None without one)."""
        if self.settings.agent_config is None or not self.with_agent:
            return None
        config = load_agent_config(
            self.settings.agent_config, default_timeout=self.settings.tool_timeout_seconds
        )
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
        if self._queue is not None:
            await self._queue.close()
        if self.store is not None:
            await self.store.close()

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

    def _store(self) -> PostgresStore:
        if self.store is None:
            raise RuntimeError("Engine is not open: use `async with Engine(settings) as engine`")
        return self.store

    @property
    def answers(self) -> AnswerStore:
        return AnswerStore(self._store())

    @property
    def jobs(self) -> JobStore:
        return JobStore(self._store())

    @property
    def queue(self) -> IngestQueue:
        if self._queue is None:
            raise RuntimeError("Engine is not open: use `async with Engine(settings) as engine`")
        return self._queue

    async def work(self, *, install_signal_handlers: bool = True) -> None:
        """Run queued ingestion jobs until stopped (``kotaemon worker``)."""
        s = self.settings
        await run_worker(
            self.queue,
            IngestJobRunner(self.jobs, self._store(), self.ingest),
            concurrency=s.worker_concurrency,
            heartbeat_seconds=s.worker_heartbeat_seconds,
            stalled_after_seconds=s.worker_stalled_after_seconds,
            housekeeping=self.purge,
            install_signal_handlers=install_signal_handlers,
        )

    async def purge(self) -> None:
        """Delete conversations, answers, sessions and audit rows past their retention."""
        await SecurityStore(self._store()).purge(
            conversation_days=self.settings.retention_conversation_days,
            audit_days=self.settings.retention_audit_days,
        )

    @property
    def retriever(self) -> VectorDBRetriever:
        s = self.settings
        config = RetrievalConfig(
            top_k=s.top_k,
            mode=s.retrieval_mode,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            keyword_weight=s.keyword_weight,
            overfetch=s.overfetch,
        )
        return VectorDBRetriever(
            self._store(), self.embedder, principal=self.local_principal, config=config
        )

    @property
    def rag(self) -> RAGPipeline:
        return RAGPipeline(
            self.retriever,
            self.llm,
            min_relevance=self.settings.min_relevance,
            max_output_tokens=self.settings.llm_max_output_tokens,
            redact_records=self.settings.redacts_rag_records,
            planner=self.planner,
        )

    @property
    def ingest(self) -> IngestPipeline:
        return IngestPipeline(
            self._store(),
            self.embedder,
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
            max_file_bytes=self.settings.max_file_bytes,
            parse_timeout=self.settings.ingest_parse_timeout_seconds,
        )

    async def ensure_collection(self, name: str, principal: Principal | None = None) -> Collection:
        """The collection ``name``, created with this engine's embedding model if missing."""
        principal = principal or Principal.local()
        store = self._store()
        try:
            return await store.writable_collection(principal, name)
        except NotFoundError:
            pass
        try:
            return await store.create_collection(
                principal, name, model=self.embedder.model, dim=self.embedder.dim
            )
        except ConflictError:  # created by a concurrent process meanwhile
            return await store.collection(principal, name, write=True)
