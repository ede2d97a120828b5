"""BM25 in PostgreSQL: chunks as pgvector ``sparsevec``s of saturated term frequencies, the
query as IDF weights, and the per-collection statistics (document frequencies, lengths) that
every write keeps exact.

The inner product of a chunk's vector with the query's IDF vector is exactly the chunk's BM25
score (docs/architecture.md: same nDCG as a reference BM25). Tokens come from
:func:`kotaemon.core.tokenize.tokenize` and are hashed to term ids. ``avgdl`` is the collection's
average at ingestion time; chunking keeps chunk lengths close, so the drift as a collection grows
is small. Only the PostgreSQL backend knows this encoding: callers search with the query text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from typing import Any

from pgvector import SparseVector

from kotaemon.core.tokenize import tokenize
from kotaemon.store.database import Connection
from kotaemon.store.queries import query

#: Keyword term ids are hashes in [0, TERM_SPACE); pgvector's sparsevec allows 1e9 dimensions.
TERM_SPACE = 999_999_937
K1 = 1.2
B = 0.75


@lru_cache(maxsize=500_000)
def term_id(token: str) -> int:
    """A stable integer id for a token (a hash; collisions are negligible in 1e9 ids)."""
    return int.from_bytes(blake2b(token.encode(), digest_size=8).digest(), "big") % TERM_SPACE


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


# --- collection statistics: document frequencies and lengths, kept exact by every write -------


async def add_chunks(
    conn: Connection, collection_id: str, terms: Sequence[KeywordTerms], *, documents: int
) -> None:
    """Count new chunks (and ``documents`` new documents) into the collection's statistics."""
    df: Counter[int] = Counter()
    for chunk in terms:
        df.update(chunk.tf.keys())
    ids = sorted(df)
    await conn.execute(
        query("add_terms"),
        {"collection_id": collection_id, "terms": ids, "counts": [df[t] for t in ids]},
    )
    await add_counts(
        conn, collection_id, documents, len(terms), sum(chunk.length for chunk in terms)
    )


async def release_document(
    conn: Connection, collection_id: str, document_id: Any
) -> tuple[int, int]:
    """Take a document's chunks out of the statistics, and delete them.

    :returns: how many chunks and terms were removed.
    """
    params = {"collection_id": collection_id, "document_id": document_id}
    await conn.execute(query("release_document_terms"), params)
    row = await (await conn.execute(query("delete_chunks"), params)).fetchone()
    assert row is not None
    await add_counts(conn, collection_id, 0, -row["chunks"], -row["terms"])
    return int(row["chunks"]), int(row["terms"])


async def add_counts(
    conn: Connection, collection_id: str, documents: int, chunks: int, terms: int
) -> None:
    """Add to the collection's counts (negative numbers remove)."""
    await conn.execute(
        query("add_counts"),
        {"collection_id": collection_id, "documents": documents, "chunks": chunks, "terms": terms},
    )
