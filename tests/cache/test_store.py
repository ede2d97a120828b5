"""The in-process cache store: time to live, and the memory bound (least recently used out)."""

from __future__ import annotations

import pytest

from kotaemon.cache.store import MemoryCacheStore

pytestmark = pytest.mark.anyio


async def test_values_expire() -> None:
    store = MemoryCacheStore(max_bytes=1000)
    await store.set("gone", b"x", ttl=-1)  # already expired
    await store.set("kept", b"y", ttl=60)
    assert await store.get("gone") is None and await store.get("kept") == b"y"


async def test_the_least_recently_used_go_first_beyond_the_bound() -> None:
    store = MemoryCacheStore(max_bytes=10)
    await store.set("a", b"1234", ttl=60)
    await store.set("b", b"1234", ttl=60)
    assert await store.get("a") == b"1234"  # a is now the most recently used
    await store.set("c", b"1234", ttl=60)  # 12 bytes > 10: b goes
    assert await store.get("b") is None
    assert await store.get("a") == b"1234" and await store.get("c") == b"1234"
    await store.set("huge", b"x" * 11, ttl=60)  # larger than the whole bound: not kept
    assert await store.get("huge") is None and await store.get("c") == b"1234"
