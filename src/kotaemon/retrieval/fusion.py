"""Reciprocal rank fusion of ranked chunk lists."""

from __future__ import annotations

from collections.abc import Sequence

from kotaemon.core.schema import RetrievedChunk


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[RetrievedChunk], float]], *, k: int, limit: int
) -> list[RetrievedChunk]:
    """Fuse ``(ranking, weight)`` pairs: score = Σ weight / (k + rank), rank from 1.

    A chunk found by several rankings keeps each ranking's own score (dense and keyword).
    """
    fused: dict[str, float] = {}
    merged: dict[str, RetrievedChunk] = {}
    for ranking, weight in rankings:
        for rank, chunk in enumerate(ranking, start=1):
            fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + weight / (k + rank)
            seen = merged.get(chunk.chunk_id)
            merged[chunk.chunk_id] = (
                chunk
                if seen is None
                else seen.model_copy(
                    update={
                        "dense_score": seen.dense_score
                        if seen.dense_score is not None
                        else chunk.dense_score,
                        "keyword_score": seen.keyword_score
                        if seen.keyword_score is not None
                        else chunk.keyword_score,
                    }
                )
            )
    order = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:limit]
    return [merged[cid].model_copy(update={"score": fused[cid]}) for cid in order]
