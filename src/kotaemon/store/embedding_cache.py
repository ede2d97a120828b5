"""Embeddings already computed, by embedding space and content hash (in PostgreSQL, so they
survive restarts and a Redis flush, and every replica and worker shares them)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pgvector import Vector

from kotaemon.store.database import Database
from kotaemon.store.queries import query


class EmbeddingCache:
    """Vectors by ``(space, sha256 of the text)``: the same text is never embedded twice.

    Example::

        cache = EmbeddingCache(db)
        found = await cache.get(space_id, [digest])
        await cache.put(space_id, {digest: vector})
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, space_id: int, hashes: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        async with self.db.connection() as conn:
            rows = await (
                await conn.execute(
                    query("cached_embeddings"), {"space_id": space_id, "hashes": list(hashes)}
                )
            ).fetchall()
        return {bytes(r["content_hash"]): r["embedding"].to_numpy() for r in rows}

    async def put(self, space_id: int, items: dict[bytes, np.ndarray]) -> None:
        if not items:
            return
        async with self.db.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                query("cache_embedding"),
                [
                    {"space_id": space_id, "content_hash": h, "embedding": Vector(v)}
                    for h, v in items.items()
                ],
            )
