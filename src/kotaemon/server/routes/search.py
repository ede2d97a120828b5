"""``POST /v1/search``: the chunks retrieval finds, with their scores (no LLM involved)."""

from __future__ import annotations

from fastapi import APIRouter

from kotaemon.server.deps import EngineDep, ReaderPrincipal
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post(
    "/search",
    summary="Find the chunks that match a query",
    responses=error_responses(400, 404, 409, 422, 502, *COMMON_ERRORS),
)
async def search(
    body: SearchRequest, engine: EngineDep, principal: ReaderPrincipal
) -> SearchResponse:
    result = await engine.retriever.arun(
        body.query,
        principal=principal,
        collections=body.collections,
        metadata_filter=body.filter,
        top_k=body.top_k,
        mode=body.mode,
    )
    return SearchResponse(chunks=result.chunks, top_dense_score=result.top_dense_score)
