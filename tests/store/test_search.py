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
            )
            written = await store.documents.write(target, document, [chunk])
            ids[passage.key] = written.document_id
        a, b = await store.collections.visible(owner, ["contract-a", "contract-b"])
        return Indexed(store.search, a, b, ids)
