"""Eval runs (batch testing) and their per-question results, in PostgreSQL.

A run row holds what to ask (the question set, the collections, the options) and whose
permissions apply (the caller's principal), so that any worker can run it; each finished
question adds one result row at once, so a run killed halfway continues where it stopped and
never stores a question twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb

from kotaemon.core.errors import NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.store.database import Database, is_uuid
from kotaemon.store.queries import query

EvalState = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class EvalRunRecord:
    """A stored run: its set-up, how far it got (``done`` of ``total``) and how it ended."""

    id: str
    owner_id: str
    principal: Principal
    name: str
    collections: list[str]
    options: dict[str, Any]
    questions: list[dict[str, Any]]
    total: int
    done: int
    state: EvalState
    error_code: str | None
    error_message: str | None
    summary: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One question's result, at its place in the question set."""

    position: int
    question_id: str
    result: dict[str, Any]
    created_at: datetime


class EvalStore:
    """Creates eval runs, stores their results as they come, and ends them.

    Example::

        evals = EvalStore(db)
        run = await evals.create(alice, "docs", ["docs"], {}, questions)
        await evals.add_result(run.id, 0, "q1", {...})   # as each question finishes
        await evals.finish(run.id, summary={...})
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        principal: Principal,
        name: str,
        collections: Sequence[str],
        options: dict[str, Any],
        questions: Sequence[dict[str, Any]],
    ) -> EvalRunRecord:
        """Record a queued run of ``questions`` against ``collections``, for ``principal``."""
        params = {
            "owner_id": principal.user_id,
            "principal": Jsonb(principal.to_json()),
            "name": name,
            "collections": list(collections),
            "options": Jsonb(options),
            "questions": Jsonb(list(questions)),
            "total": len(questions),
        }
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("insert_eval_run"), params)).fetchone()
        assert row is not None
        return await self.record(str(row["id"]))

    async def get(self, principal: Principal, run_id: str) -> EvalRunRecord:
        """One of the principal's runs (an admin may read anyone's).

        :raises NotFoundError: if there is no such run, or it belongs to someone else.
        """
        run = await self.record(run_id)
        if run.owner_id != principal.user_id and not principal.is_admin:
            raise _not_found(run_id)
        return run

    async def record(self, run_id: str) -> EvalRunRecord:
        """A run by id, with no permission check (for workers and just-created runs).

        :raises NotFoundError: if there is no such run.
        """
        row = None
        if is_uuid(run_id):
            async with self.db.connection() as conn:
                row = await (
                    await conn.execute(query("select_eval_run"), {"run_id": run_id})
                ).fetchone()
        if row is None:
            raise _not_found(run_id)
        return _run(row)

    async def runs(self, principal: Principal, *, limit: int = 50) -> list[EvalRunRecord]:
        """The principal's runs, newest first, without their question sets or summaries."""
        params = {"owner_id": principal.user_id, "limit": limit}
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("list_eval_runs"), params)).fetchall()
        return [_run(r) for r in rows]

    async def start(self, run_id: str) -> bool:
        """Mark the run running; False if it has ended already (nothing left to do)."""
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("start_eval_run"), {"run_id": run_id})).fetchone()
        return row is not None

    async def reopen(self, run_id: str) -> None:
        """Let an ended run continue (``--resume`` of a failed run)."""
        async with self.db.connection() as conn:
            await conn.execute(query("reopen_eval_run"), {"run_id": run_id})

    async def add_result(
        self, run_id: str, position: int, question_id: str, result: dict[str, Any]
    ) -> bool:
        """Store one question's result; False if one was stored already (nothing changes)."""
        params = {
            "run_id": run_id,
            "position": position,
            "question_id": question_id,
            "result": Jsonb(result),
        }
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("insert_eval_result"), params)).fetchone()
        return row is not None

    async def results(self, run_id: str) -> list[StoredResult]:
        """The run's stored results, in question order."""
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("eval_results"), {"run_id": run_id})).fetchall()
        return [
            StoredResult(r["position"], r["question_id"], r["result"], r["created_at"])
            for r in rows
        ]

    async def done_positions(self, run_id: str) -> set[int]:
        """The places of the questions that have a result (a resume skips them)."""
        async with self.db.connection() as conn:
            rows = await (
                await conn.execute(query("eval_result_positions"), {"run_id": run_id})
            ).fetchall()
        return {int(r["position"]) for r in rows}

    async def finish(self, run_id: str, summary: dict[str, Any]) -> None:
        await self._end(run_id, "succeeded", summary=Jsonb(summary))

    async def fail(self, run_id: str, code: str, message: str) -> None:
        await self._end(run_id, "failed", error_code=code, error_message=message)

    async def _end(self, run_id: str, state: EvalState, **fields: Any) -> None:
        params = {"run_id": run_id, "state": state, "summary": None, "error_code": None}
        params |= {"error_message": None, **fields}
        async with self.db.connection() as conn:
            await conn.execute(query("finish_eval_run"), params)


def _run(row: dict[str, Any]) -> EvalRunRecord:
    return EvalRunRecord(
        id=str(row["id"]),
        owner_id=row["owner_id"],
        principal=Principal.from_json(row["principal"]),
        name=row["name"],
        collections=list(row["collections"]),
        options=row["options"],
        questions=row["questions"],
        total=row["total"],
        done=int(row["done"]),
        state=row["state"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        summary=row["summary"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def _not_found(run_id: str) -> NotFoundError:
    return NotFoundError(
        f"eval run {run_id!r} not found; list yours with GET /v1/evals or `kotaemon eval list`",
        code="eval_run_not_found",
    )
