"""kotaemon: a production-grade RAG agent framework and service.

The public API (pinned by tests/test_public_api.py)::

    from kotaemon import (BaseComponent, LLMInterface, VectorDBRetriever, PromptTemplate,
                          RAGPipeline, Engine, Settings)
"""

from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import KotaemonError
from kotaemon.core.principal import Principal
from kotaemon.core.prompt import PromptTemplate
from kotaemon.core.schema import (
    Answer,
    Citation,
    Collection,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    RetrievedChunk,
    SourcesEvent,
    ToolEndEvent,
    ToolResult,
    ToolStartEvent,
)
from kotaemon.core.secrets import Secret
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.embeddings.openai_compatible import OpenAICompatibleEmbedder
from kotaemon.engine import Engine
from kotaemon.ingest.pipeline import IngestPipeline
from kotaemon.llms.base import ChatMessage, LLMInterface, LLMResponse, ToolSpec
from kotaemon.llms.extractive import ExtractiveAnswerer
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM
from kotaemon.pipelines.rag import RAGPipeline
from kotaemon.retrieval.config import RetrievalConfig
from kotaemon.retrieval.retriever import VectorDBRetriever
from kotaemon.settings import Settings
from kotaemon.store.postgres import PostgresStore

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "BaseComponent",
    "BundledE5Embedder",
    "ChatMessage",
    "Citation",
    "Collection",
    "DeltaEvent",
    "DoneEvent",
    "Embedder",
    "Engine",
    "ErrorEvent",
    "ExtractiveAnswerer",
    "IngestPipeline",
    "KotaemonError",
    "LLMInterface",
    "LLMResponse",
    "OpenAICompatibleEmbedder",
    "OpenAICompatibleLLM",
    "PostgresStore",
    "Principal",
    "PromptTemplate",
    "RAGPipeline",
    "RetrievalConfig",
    "RetrievedChunk",
    "Secret",
    "Settings",
    "SourcesEvent",
    "ToolEndEvent",
    "ToolResult",
    "ToolSpec",
    "ToolStartEvent",
    "VectorDBRetriever",
    "__version__",
]
