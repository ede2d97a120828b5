"""Retention and erasure in the security store, on a real database."""

from __future__ import annotations

import psycopg
import pytest

from kotaemon.core.principal import Principal
from kotaemon.engine import Engine

pytestmark = pytest.mark.anyio


async def test_retention_deletes_only_what_is_old(engine: Engine, database_url: str) -> None:
    security = engine.store.security
    alice = Principal(user_id="alice")
    old = await engine.store.answers.start_conversation(alice, "old question", None)
    new = await engine.store.answers.start_conversation(alice, "new question", None)
    await security.audit(alice, "answer", details={"question": "old"})
    await security.audit(alice, "answer", details={"question": "new"})
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE conversations SET updated_at = now() - interval '100 days' WHERE id = %s",
            (old.id,),
        )
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        conn.execute(
            "UPDATE audit_events SET at = now() - interval '400 days' "
            "WHERE details->>'question' = 'old'"
        )
        conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    await engine.purge()  # 90 and 365 days by default
    kept = await engine.store.answers.conversations(alice)
    assert [c.id for c in kept] == [new.id]
    events = await security.audit_events(user_id="alice")
    assert [e.details["question"] for e in events] == ["new"]


async def test_erasure_keeps_the_audit_unless_asked(engine: Engine) -> None:
    security = engine.store.security
    bob = Principal(user_id="bob")
    await engine.store.answers.start_conversation(bob, "hello", None)
    await security.audit(bob, "answer")
    await security.erase_user("bob", include_audit=False)
    assert await engine.store.answers.conversations(bob) == []
    assert len(await security.audit_events(user_id="bob")) == 1
    await security.erase_user("bob", include_audit=True)
    assert await security.audit_events(user_id="bob") == []
