"""Embedding models behind one interface: the bundled offline model, OpenAI-compatible servers."""

from kotaemon.embeddings.base import Embedder

__all__ = ["Embedder"]
