"""The PostgreSQL search index passes the search contract."""

from __future__ import annotations

import hashlib

import pytest

from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.store.base import ChunkRecord, DocumentRecord

from .search_contract import PASSAGES, Indexed, SearchIndexContract

pytestmark = pytest.mark.anyio


class TestPostgresSearch(SearchIndexContract):
    @pytest.fixture
    async def indexed(self, engine: Engine) -> Indexed:
        store = engine.store
        owner = Principal.local()
        a = await store.collections.create(owner, "contract-a", model="test:4d", dim=4)
        b = await store.collections.create(owner, "contract-b", model="test:4d", dim=4)
        ids = {}
        for passage in PASSAGES:
            target = a if passage.collection == "a" else b
            chunk = ChunkRecord(
                text=passage.text,
                indexed_text=passage.text,
                ordinal=0,
                token_count=len(passage.text.split()),
                embedding=passage.vector,
            )
            document = DocumentRecord(
                source=f"{passage.key}.txt",
                title=passage.key,
                media_type="text/plain",
                content_hash=hashlib.sha256(passage.text.encode()).hexdigest(),
                size_bytes=len(passage.text),
                metadata=passage.metadata,
                language=passage.metadata["lang"],  # type: ignore[arg-type]
            )
            written = await store.documents.write(target, document, [chunk])
            ids[passage.key] = written.document_id
        a, b = await store.collections.visible(owner, ["contract-a", "contract-b"])
        return Indexed(store.search, a, b, ids)


async def test_a_collection_knows_the_languages_of_its_documents(engine: Engine) -> None:
    store = engine.store
    owner = Principal.local()
    collection = await store.collections.create(owner, "languages", model="test:4d", dim=4)
    for passage in PASSAGES[:3]:  # two English documents, one Chinese
        chunk = ChunkRecord(passage.text, passage.text, 0, 8, passage.vector)
        document = DocumentRecord(
            f"{passage.key}.txt", passage.key, "text/plain", passage.key, 1, {},
            language=passage.metadata["lang"],  # type: ignore[arg-type]
        )  # fmt: skip
        await store.documents.write(collection, document, [chunk])
    assert (await store.collections.get(owner, "languages")).languages == ["en", "zh"]
    await store.documents.delete(collection, source="zh.txt")
    assert (await store.collections.get(owner, "languages")).languages == ["en"]
    for n, source in enumerate(("grace.txt", "fee.txt")):  # both English ones become Chinese
        chunk = ChunkRecord(
            "信用卡还款宽限期为3天。", "信用卡还款宽限期为3天。", 0, 8, PASSAGES[2].vector
        )
        document = DocumentRecord(source, source, "text/plain", f"zh-{n}", 1, {}, language="zh")
        await store.documents.write(collection, document, [chunk])
        expected = ["en", "zh"] if source == "grace.txt" else ["zh"]
        assert (await store.collections.get(owner, "languages")).languages == expected
