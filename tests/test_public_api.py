"""Pins the public API: adding or removing a name is a deliberate change to this list."""

import kotaemon


def test_exported_members() -> None:
    assert sorted(kotaemon.__all__) == sorted(
        [
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
            "PromptTemplate",
            "Principal",
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
    )
    for name in kotaemon.__all__:
        assert hasattr(kotaemon, name), name
