"""The store against a real PostgreSQL: collections, permissions, versions and errors."""

import pytest

from kotaemon.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.store.postgres import PostgresStore

pytestmark = pytest.mark.anyio

ALICE = Principal(user_id="alice", groups=frozenset({"support"}))
BOB = Principal(user_id="bob", groups=frozenset({"sales"}))


async def test_collection_records_owner_and_embedding_model(engine: Engine) -> None:
    created = await engine.store.collections.create(ALICE, "policies", model="m:test", dim=4)
    assert created.owner_id == "alice"
    assert (created.embedding_model, created.dim) == ("m:test", 4)
    with pytest.raises(ConflictError, match="already exists"):
        await engine.store.collections.create(BOB, "policies", model="m:test", dim=4)


async def test_others_cannot_see_a_collection_until_granted(engine: Engine) -> None:
    store = engine.store
    assert store is not None
    col = await store.collections.create(ALICE, "private", model="m:test", dim=4)
    assert [c.name for c in await store.collections.visible(BOB)] == []
    with pytest.raises(NotFoundError):
        await store.collections.get(BOB, "private")
    with pytest.raises(PermissionDeniedError):
        await store.collections.grant(
            BOB, col, grantee_kind="user", grantee="bob", permission="write"
        )
    await store.collections.grant(
        ALICE, col, grantee_kind="group", grantee="sales", permission="read"
    )
    assert [c.name for c in await store.collections.visible(BOB)] == ["private"]
    with pytest.raises(NotFoundError):  # read access does not allow writing
        await store.collections.get(BOB, "private", write=True)
    with pytest.raises(PermissionDeniedError):
        await store.collections.delete(BOB, "private")
    admin = Principal(user_id="root", is_admin=True)
    assert [c.name for c in await store.collections.visible(admin)] == ["private"]


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "'; DROP TABLE chunks; --"])
async def test_invalid_collection_names_are_refused(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid collection name"):
        await engine.store.collections.create(ALICE, name, model="m:test", dim=4)


async def test_a_model_keeps_its_dimension(engine: Engine, database_url: str) -> None:
    await engine.store.collections.ensure_space("m:dim", 4)
    other_process = PostgresStore(database_url)  # no cached spaces: the database decides
    await other_process.open()
    try:
        with pytest.raises(ConfigurationError, match="dimension 4"):
            await other_process.collections.ensure_space("m:dim", 8)
        with pytest.raises(ConfigurationError, match="at most 2000"):
            await other_process.collections.ensure_space("openai:text-embedding-3-large", 3072)
    finally:
        await other_process.close()


async def test_unreachable_server_is_a_clear_error(tmp_path) -> None:
    store = PostgresStore(f"postgresql://nobody@/nodb?host={tmp_path}", timeout=2)
    with pytest.raises(StoreError, match="KOTAEMON_DATABASE_URL"):
        await store.open()
