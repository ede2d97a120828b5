"""The answer cache (KOTAEMON_ANSWER_CACHE): the same question over the same collection
versions is answered again from the cache; a write, another caller's collections or tools make
a fresh answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from kotaemon.core.principal import Principal
from kotaemon.engine import Engine

from ..conftest import KNOWLEDGE_BASE, make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def cached_engine(database_url: str, tmp_path: Path):
    async with Engine(make_settings(database_url, tmp_path, answer_cache=True)) as engine:
        collection = await engine.ensure_collection("bank")
        await engine.ingest.arun(KNOWLEDGE_BASE / "en", collection)
        yield engine


async def test_the_same_question_is_answered_from_the_cache(cached_engine: Engine) -> None:
    first = await cached_engine.rag.arun("What is the late payment fee?")
    second = await cached_engine.rag.arun("What is the late payment fee?")
    assert not first.cached and second.cached
    assert second.text == first.text and second.citations == first.citations
    assert second.answer_id != first.answer_id  # a new answer, recorded on its own
    events = [e.type async for e in cached_engine.rag.astream("What is the late payment fee?")]
    assert events == ["sources", "delta", "done"]


async def test_a_write_makes_a_fresh_answer(cached_engine: Engine) -> None:
    await cached_engine.rag.arun("What is the late payment fee?")
    [collection] = await cached_engine.store.collections.visible(Principal.local(), ["bank"])
    await cached_engine.ingest.ingest_bytes(
        b"Late payment fee: none in May.", "may.txt", collection
    )
    assert not (await cached_engine.rag.arun("What is the late payment fee?")).cached


async def test_another_caller_does_not_get_an_answer_from_collections_they_cannot_read(
    cached_engine: Engine,
) -> None:
    assert (await cached_engine.rag.arun("What is the late payment fee?")).outcome == "answered"
    stranger = Principal(user_id="mallory", scopes=frozenset({"chat"}))
    answer = await cached_engine.rag.arun("What is the late payment fee?", principal=stranger)
    assert answer.outcome == "no_context" and not answer.cached
