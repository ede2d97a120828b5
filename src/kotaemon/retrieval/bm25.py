"""BM25 as a pgvector ``sparsevec``: saturated term frequencies per chunk, IDF on the query side.

The inner product of a chunk's vector with the query's IDF vector is exactly the chunk's BM25
score (ARCHITECTURE.md: same nDCG as a reference BM25). ``avgdl`` is the collection's average at
ingestion time; chunking keeps chunk lengths close, so the drift as a collection grows is small.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pgvector import SparseVector

from kotaemon.retrieval.tokenize import term_id, tokenize
from kotaemon.store.base import TERM_SPACE

K1 = 1.2
B = 0.75


@dataclass(frozen=True, slots=True)
class KeywordTerms:
    """The keyword side of one chunk: its distinct term ids and raw term frequencies."""

    tf: dict[int, int]
    length: int

    @classmethod
    def of(cls, text: str) -> KeywordTerms:
        tokens = tokenize(text)
        return cls(tf=dict(Counter(term_id(t) for t in tokens)), length=len(tokens))

    def bm25_vector(self, avgdl: float) -> SparseVector:
        """Saturated term frequencies ``tf·(k1+1) / (tf + k1·(1 − b + b·len/avgdl))``."""
        norm = K1 * (1 - B + B * self.length / max(avgdl, 1.0))
        weights = {t: tf * (K1 + 1) / (tf + norm) for t, tf in self.tf.items()}
        return SparseVector(weights, TERM_SPACE)


def query_terms(text: str) -> list[int]:
    """The distinct term ids of a query, sorted (the order sparsevec input needs)."""
    return sorted({term_id(t) for t in tokenize(text)})
