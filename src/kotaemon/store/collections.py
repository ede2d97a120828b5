"""Collections, their embedding spaces and who may read or write them.

Every read takes the principal and filters inside SQL (``visible_collections``): an unknown
collection and one the caller may not see look the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from kotaemon.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection
from kotaemon.store.database import Connection, Database, Reader, limit_statements
from kotaemon.store.queries import composed, query

#: pgvector indexes (HNSW) take vectors of at most 2,000 dimensions.
MAX_INDEXED_DIM = 2000


class CollectionStore:
    """Creates, finds, shares and deletes collections.

    Example::

        collections = CollectionStore(db)
        policies = await collections.create(alice, "policies", model="m", dim=384)
        await collections.grant(alice, policies, grantee_kind="group", grantee="sales",
                                permission="read")
        visible = await collections.visible(bob)

    :param reader: where :meth:`visible` reads (a replica); default: ``db``, which sees every
        write at once.
    """

    def __init__(self, db: Database, *, reader: Reader | None = None) -> None:
        self.db = db
        self.reader: Reader = reader if reader is not None else db
        self._spaces: dict[str, tuple[int, int]] = {}

    # --- embedding spaces --------------------------------------------------------------------

    async def ensure_space(self, model: str, dim: int) -> int:
        """The id of ``model``'s vector space, registered with its HNSW index on first use.

        :raises ConfigurationError: if the model is registered with another dimension, or has
            more dimensions than pgvector can index.
        """
        if dim > MAX_INDEXED_DIM:
            raise ConfigurationError(
                f"embedding model {model} has {dim} dimensions; pgvector indexes at most "
                f"{MAX_INDEXED_DIM}: pick a smaller model or ask the server for fewer dimensions"
            )
        if model not in self._spaces:
            async with self.db.connection() as conn:
                await conn.execute(query("insert_space"), {"model": model, "dim": dim})
                row = await (await conn.execute(query("find_space"), {"model": model})).fetchone()
                assert row is not None
                await self._create_space_index(conn, row["id"], row["dim"])
            self._spaces[model] = (row["id"], row["dim"])
        space_id, known_dim = self._spaces[model]
        if known_dim != dim:
            raise ConfigurationError(
                f"embedding model {model} is registered with dimension {known_dim}, not {dim}"
            )
        return space_id

    async def _create_space_index(self, conn: Connection, space_id: int, dim: int) -> None:
        """Build a space's HNSW index without blocking writers (CONCURRENTLY, no time limit)."""
        index = f"chunks_embedding_space_{space_id}_idx"
        exists = await (await conn.execute(query("index_exists"), {"name": index})).fetchone()
        if exists:
            return
        await limit_statements(conn, 0)
        try:
            await conn.execute(composed("create_space_index", index=index, dim=dim, space=space_id))
        except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
            pass  # another process built it at the same moment
        finally:
            await limit_statements(conn, self.db.timeout)

    # --- collections -------------------------------------------------------------------------

    async def create(
        self,
        owner: Principal,
        name: str,
        *,
        model: str,
        dim: int,
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Collection:
        """Create a collection owned by ``owner`` whose chunks are embedded with ``model``.

        :raises ConflictError: if the name is taken.
        :raises InvalidInputError: if the name is not 1-64 letters, digits, ``_``, ``.``, ``-``.
        """
        space_id = await self.ensure_space(model, dim)
        params = {
            "name": name,
            "description": description,
            "owner_id": owner.user_id,
            "space_id": space_id,
            "metadata": Jsonb(metadata or {}),
        }
        try:
            async with self.db.transaction() as conn:
                await conn.execute(query("insert_collection"), params)
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(
                f"collection {name!r} already exists; pick another name", code="collection_exists"
            ) from exc
        except psycopg.errors.CheckViolation as exc:
            raise InvalidInputError(
                f"invalid collection name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit",
                code="invalid_collection_name",
            ) from exc
        return await self.get(owner, name)

    async def visible(
        self, principal: Principal, names: Sequence[str] | None = None, *, write: bool = False
    ) -> list[Collection]:
        """The collections ``principal`` may read (or write), optionally only those named."""
        params = {
            "names": list(names) if names is not None else None,
            "is_admin": principal.is_admin,
            "user_id": principal.user_id,
            "groups": sorted(principal.groups),
            "write": write,
        }
        rows = await self.reader.fetch_all(query("visible_collections"), params)
        return [
            Collection(
                id=str(r["id"]),
                name=r["name"],
                description=r["description"],
                owner_id=r["owner_id"],
                embedding_model=r["model"],
                dim=r["dim"],
                space_id=r["space_id"],
                chunk_count=r["chunk_count"],
                document_count=r["document_count"],
                version=r["version"],
                languages=r["languages"],
            )
            for r in rows
        ]

    async def get(self, principal: Principal, name: str, *, write: bool = False) -> Collection:
        """One collection by name. Unknown and invisible collections look the same.

        :raises NotFoundError: if there is no such collection the principal may see.
        """
        found = await self.visible(principal, [name], write=write)
        if not found:
            raise not_found(name)
        return found[0]

    async def writable(self, principal: Principal, name: str) -> Collection:
        """A collection the principal may add to.

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal may only read it.
        """
        try:
            return await self.get(principal, name, write=True)
        except NotFoundError:
            await self.get(principal, name)  # not found at all: that error
            raise PermissionDeniedError(
                f"you may read collection {name!r} but not change it; ask its owner for write "
                "access"
            ) from None

    async def update(self, principal: Principal, name: str, *, description: str) -> Collection:
        """Change a collection's description (its owner or an admin only).

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal does not own it.
        """
        target = await self.get(principal, name)
        _require_owner(principal, target, "change")
        async with self.db.transaction() as conn:
            await conn.execute(
                query("update_collection"),
                {"collection_id": target.id, "description": description},
            )
        return await self.get(principal, name)

    async def delete(self, principal: Principal, name: str) -> None:
        """Delete a collection with its documents and chunks (its owner or an admin only).

        :raises NotFoundError: if the principal cannot see it.
        :raises PermissionDeniedError: if the principal does not own it.
        """
        target = await self.get(principal, name)
        _require_owner(principal, target, "delete")
        async with self.db.transaction() as conn:
            await conn.execute(query("delete_collection"), {"collection_id": target.id})

    async def grant(
        self,
        principal: Principal,
        collection: Collection,
        *,
        grantee_kind: str,
        grantee: str,
        permission: str,
    ) -> None:
        """Let a user or group (``grantee_kind``) read or write ``collection``.

        :raises PermissionDeniedError: unless ``principal`` owns the collection or is an admin.
        """
        _require_owner(principal, collection, "share")
        if grantee_kind not in ("user", "group") or permission not in ("read", "write"):
            raise InvalidInputError("grantee_kind is user or group; permission is read or write")
        async with self.db.transaction() as conn:
            await conn.execute(
                query("grant_access"),
                {
                    "collection_id": collection.id,
                    "grantee_kind": grantee_kind,
                    "grantee": grantee,
                    "permission": permission,
                },
            )


def not_found(name: str) -> NotFoundError:
    return NotFoundError(
        f"collection {name!r} not found, or you may not read it; list the collections you can "
        "read to check the name",
        code="collection_not_found",
    )


def _require_owner(principal: Principal, collection: Collection, action: str) -> None:
    if not (principal.is_admin or collection.owner_id == principal.user_id):
        raise PermissionDeniedError(
            f"only the owner of collection {collection.name!r} or an admin may {action} it"
        )
