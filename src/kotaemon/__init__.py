"""kotaemon: a production-grade RAG agent framework and service.

The public API (pinned by tests/test_public_api.py)::

    from kotaemon import (BaseComponent, LLMInterface, VectorDBRetriever, PromptTemplate,
                          RAGPipeline, Engine, Settings)

Names load on first use: ``import kotaemon.cli`` (every ``kotaemon`` command) does not pay for
the OpenAI client or the store unless it uses them, which keeps start-up short.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "Answer": "kotaemon.core.schema",
    "BaseComponent": "kotaemon.core.component",
    "BundledE5Embedder": "kotaemon.embeddings.bundled",
    "ChatMessage": "kotaemon.llms.base",
    "Citation": "kotaemon.core.schema",
    "Collection": "kotaemon.core.schema",
    "DeltaEvent": "kotaemon.core.schema",
    "DoneEvent": "kotaemon.core.schema",
    "Embedder": "kotaemon.embeddings.base",
    "Engine": "kotaemon.engine",
    "ErrorEvent": "kotaemon.core.schema",
    "ExtractiveAnswerer": "kotaemon.llms.extractive",
    "IngestPipeline": "kotaemon.ingest.pipeline",
    "KotaemonError": "kotaemon.core.errors",
    "LLMInterface": "kotaemon.llms.base",
    "LLMResponse": "kotaemon.llms.base",
    "OpenAICompatibleEmbedder": "kotaemon.embeddings.openai_compatible",
    "OpenAICompatibleLLM": "kotaemon.llms.openai_compatible",
    "PostgresStore": "kotaemon.store.postgres",
    "Principal": "kotaemon.core.principal",
    "PromptTemplate": "kotaemon.core.prompt",
    "RAGPipeline": "kotaemon.pipelines.rag",
    "RetrievalConfig": "kotaemon.retrieval.config",
    "RetrievedChunk": "kotaemon.core.schema",
    "Secret": "kotaemon.core.secrets",
    "Settings": "kotaemon.settings",
    "SourcesEvent": "kotaemon.core.schema",
    "ToolEndEvent": "kotaemon.core.schema",
    "ToolResult": "kotaemon.core.schema",
    "ToolSpec": "kotaemon.llms.base",
    "ToolStartEvent": "kotaemon.core.schema",
    "VectorDBRetriever": "kotaemon.retrieval.retriever",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kotaemon' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from kotaemon.core.component import BaseComponent as BaseComponent
    from kotaemon.core.errors import KotaemonError as KotaemonError
    from kotaemon.core.principal import Principal as Principal
    from kotaemon.core.prompt import PromptTemplate as PromptTemplate
    from kotaemon.core.schema import (
        Answer as Answer,
    )
    from kotaemon.core.schema import (
        Citation as Citation,
    )
    from kotaemon.core.schema import (
        Collection as Collection,
    )
    from kotaemon.core.schema import (
        DeltaEvent as DeltaEvent,
    )
    from kotaemon.core.schema import (
        DoneEvent as DoneEvent,
    )
    from kotaemon.core.schema import (
        ErrorEvent as ErrorEvent,
    )
    from kotaemon.core.schema import (
        RetrievedChunk as RetrievedChunk,
    )
    from kotaemon.core.schema import (
        SourcesEvent as SourcesEvent,
    )
    from kotaemon.core.schema import (
        ToolEndEvent as ToolEndEvent,
    )
    from kotaemon.core.schema import (
        ToolResult as ToolResult,
    )
    from kotaemon.core.schema import (
        ToolStartEvent as ToolStartEvent,
    )
    from kotaemon.core.secrets import Secret as Secret
    from kotaemon.embeddings.base import Embedder as Embedder
    from kotaemon.embeddings.bundled import BundledE5Embedder as BundledE5Embedder
    from kotaemon.embeddings.openai_compatible import (
        OpenAICompatibleEmbedder as OpenAICompatibleEmbedder,
    )
    from kotaemon.engine import Engine as Engine
    from kotaemon.ingest.pipeline import IngestPipeline as IngestPipeline
    from kotaemon.llms.base import ChatMessage as ChatMessage
    from kotaemon.llms.base import LLMInterface as LLMInterface
    from kotaemon.llms.base import LLMResponse as LLMResponse
    from kotaemon.llms.base import ToolSpec as ToolSpec
    from kotaemon.llms.extractive import ExtractiveAnswerer as ExtractiveAnswerer
    from kotaemon.llms.openai_compatible import OpenAICompatibleLLM as OpenAICompatibleLLM
    from kotaemon.pipelines.rag import RAGPipeline as RAGPipeline
    from kotaemon.retrieval.config import RetrievalConfig as RetrievalConfig
    from kotaemon.retrieval.retriever import VectorDBRetriever as VectorDBRetriever
    from kotaemon.settings import Settings as Settings
    from kotaemon.store.postgres import PostgresStore as PostgresStore
