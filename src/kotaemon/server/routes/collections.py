"""``/v1/collections``: list, create, inspect, change and delete the collections you may see."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from kotaemon.server.audit import audit
from kotaemon.server.deps import EngineDep, ReaderPrincipal, StoreDep, WriterPrincipal
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import (
    CollectionCreate,
    CollectionList,
    CollectionPublic,
    CollectionUpdate,
)

router = APIRouter(prefix="/collections", tags=["collections"])


@router.get(
    "",
    summary="List the collections you may read",
    responses=error_responses(*COMMON_ERRORS),
)
async def list_collections(store: StoreDep, principal: ReaderPrincipal) -> CollectionList:
    found = await store.catalog.visible(principal)
    return CollectionList(collections=[CollectionPublic.of(c) for c in found])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an empty collection, embedded with this server's model",
    responses=error_responses(400, 409, 422, *COMMON_ERRORS),
)
async def create_collection(
    body: CollectionCreate,
    engine: EngineDep,
    store: StoreDep,
    principal: WriterPrincipal,
    request: Request,
    response: Response,
) -> CollectionPublic:
    created = await store.collections.create(
        principal,
        body.name,
        model=engine.embedder.model,
        dim=engine.embedder.dim,
        description=body.description,
    )
    await audit(request, principal, "collection.create", resource=created.name)
    response.headers["Location"] = f"/v1/collections/{created.name}"
    return CollectionPublic.of(created)


@router.get(
    "/{name}",
    summary="Show one collection",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def get_collection(
    name: str, store: StoreDep, principal: ReaderPrincipal
) -> CollectionPublic:
    return CollectionPublic.of(await store.collections.get(principal, name))


@router.patch(
    "/{name}",
    summary="Change a collection's description",
    responses=error_responses(400, 403, 404, 422, *COMMON_ERRORS),
)
async def update_collection(
    name: str,
    body: CollectionUpdate,
    request: Request,
    store: StoreDep,
    principal: WriterPrincipal,
) -> CollectionPublic:
    updated = await store.collections.update(principal, name, description=body.description)
    await audit(request, principal, "collection.update", resource=name)
    return CollectionPublic.of(updated)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a collection with all its documents",
    responses=error_responses(403, 404, 422, *COMMON_ERRORS),
)
async def delete_collection(
    name: str, request: Request, store: StoreDep, principal: WriterPrincipal
) -> None:
    await store.collections.delete(principal, name)
    await audit(request, principal, "collection.delete", resource=name)
