"""Conversations, the answers given in them (or alone), and users' feedback on answers.

Every answer is recorded with its question, text, citations and call log: conversations are
read back from it, feedback points at it, and the audit log builds on it.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from kotaemon.core.errors import NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import (
    Answer,
    Conversation,
    ConversationTurn,
    Feedback,
    Rating,
    Replay,
    Source,
)
from kotaemon.store.database import Database, is_uuid
from kotaemon.store.queries import query

#: Longest conversation title, taken from its first question.
TITLE_CHARS = 80


class AnswerStore:
    """Records answers and keeps conversations.

    Example::

        answers = AnswerStore(db)
        conversation = await answers.start_conversation(principal, "宽限期是几天？", None)
        await answers.record(principal, answer, conversation_id=conversation.id)
        turns = await answers.turns(principal, conversation.id)
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def start_conversation(
        self, principal: Principal, first_question: str, collections: list[str] | None
    ) -> Conversation:
        title = " ".join(first_question.split())
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 1] + "…"
        params = {"owner_id": principal.user_id, "title": title, "collections": collections}
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("insert_conversation"), params)).fetchone()
        assert row is not None
        return _conversation(row)

    async def conversation(self, principal: Principal, conversation_id: str) -> Conversation:
        """One of the principal's conversations.

        :raises NotFoundError: if it does not exist or belongs to someone else.
        """
        row = None
        if is_uuid(conversation_id):
            params = {"conversation_id": conversation_id, "owner_id": principal.user_id}
            async with self.db.connection() as conn:
                row = await (await conn.execute(query("select_conversation"), params)).fetchone()
        if row is None:
            raise _conversation_not_found(conversation_id)
        return _conversation(row)

    async def conversations(
        self, principal: Principal, *, limit: int = 50, offset: int = 0
    ) -> list[Conversation]:
        params = {"owner_id": principal.user_id, "limit": limit, "offset": offset}
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("list_conversations"), params)).fetchall()
        return [_conversation(r) for r in rows]

    async def delete_conversation(self, principal: Principal, conversation_id: str) -> None:
        """:raises NotFoundError: if the principal has no such conversation."""
        row = None
        if is_uuid(conversation_id):
            params = {"conversation_id": conversation_id, "owner_id": principal.user_id}
            async with self.db.connection() as conn:
                row = await (await conn.execute(query("delete_conversation"), params)).fetchone()
        if row is None:
            raise _conversation_not_found(conversation_id)

    async def turns(
        self, principal: Principal, conversation_id: str, *, limit: int = 100
    ) -> list[ConversationTurn]:
        """The newest ``limit`` turns of one of the principal's conversations, oldest first."""
        await self.conversation(principal, conversation_id)
        params = {"conversation_id": conversation_id, "limit": limit}
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("conversation_answers"), params)).fetchall()
        return [
            ConversationTurn(
                answer_id=str(r["id"]),
                question=r["question"],
                answer=r["text"],
                outcome=r["outcome"],
                citations=r["citations"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def record(
        self,
        principal: Principal,
        answer: Answer,
        *,
        conversation_id: str | None = None,
        idempotency_key: str | None = None,
        sources: list[Source] | None = None,
    ) -> bool:
        """Store an answer given to ``principal`` (as one more turn of a conversation).

        :param idempotency_key: the client's key; the answer and its ``sources`` are kept to
            replay it when the client asks again with the key.
        :returns: False when an answer was recorded under the same key already (nothing is
            stored: the client asked twice at once).
        """
        replay = (
            Jsonb(Replay(answer=answer, sources=sources or []).model_dump(mode="json"))
            if idempotency_key is not None
            else None
        )
        params: dict[str, Any] = {
            "id": answer.answer_id,
            "user_id": principal.user_id,
            "conversation_id": conversation_id,
            "question": answer.question,
            "search_query": answer.retrieval.query,
            "text": answer.text,
            "language": answer.language,
            "outcome": answer.outcome,
            "model": answer.model,
            "citations": Jsonb([c.model_dump(mode="json") for c in answer.citations]),
            "call_log": Jsonb([c.model_dump(mode="json") for c in answer.call_log]),
            "usage": Jsonb(answer.usage.model_dump(mode="json")),
            "idempotency_key": idempotency_key,
            "replay": replay,
        }
        async with self.db.transaction() as conn:
            inserted = await (await conn.execute(query("insert_answer"), params)).fetchone()
            if inserted is not None and conversation_id is not None:
                await conn.execute(query("touch_conversation"), params)
        return inserted is not None

    async def by_idempotency_key(self, principal: Principal, key: str) -> Replay | None:
        """The answer ``principal`` was given under ``key``, to give again (None: none yet)."""
        params = {"user_id": principal.user_id, "idempotency_key": key}
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("select_answer_by_key"), params)).fetchone()
        return Replay.model_validate(row["replay"]) if row and row["replay"] else None

    async def rate(
        self, principal: Principal, answer_id: str, rating: Rating, comment: str = ""
    ) -> Feedback:
        """Rate an answer given to ``principal``.

        :raises NotFoundError: if there is no such answer, or it was given to someone else.
        """
        owner = None
        if is_uuid(answer_id):
            async with self.db.connection() as conn:
                owner = await (
                    await conn.execute(query("select_answer_owner"), {"answer_id": answer_id})
                ).fetchone()
        if owner is None or owner["user_id"] != principal.user_id:
            raise NotFoundError(f"answer {answer_id!r} not found", code="answer_not_found")
        params = {
            "answer_id": answer_id,
            "user_id": principal.user_id,
            "rating": rating,
            "comment": comment,
        }
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("upsert_feedback"), params)).fetchone()
        assert row is not None
        return Feedback(**{**row, "answer_id": str(row["answer_id"])})


def _conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(**{**row, "id": str(row["id"])})


def _conversation_not_found(conversation_id: str) -> NotFoundError:
    return NotFoundError(
        f"conversation {conversation_id!r} not found; list yours with GET /v1/conversations",
        code="conversation_not_found",
    )
