"""Ingestion jobs and the stored files they read, in PostgreSQL.

A job row is the durable record of one ingestion: what to ingest (a file kept in ``files``, so
any worker on any machine can read it), how far it got, and how it ended. The queue
(:mod:`kotaemon.ingest.queue`) only delivers job ids; everything a client may ask about a job
lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from kotaemon.core.errors import NotFoundError
from kotaemon.core.schema import Collection, IngestJob, JobError, JobProgress, JobState
from kotaemon.store.database import Database, is_uuid
from kotaemon.store.queries import query


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job with what a worker needs beyond its public view."""

    job: IngestJob
    collection_id: str
    content_hash: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to queue: its name in the collection, bytes and sniffed media type."""

    source: str
    data: bytes
    content_hash: str
    media_type: str


class JobStore:
    """Creates, tracks and ends ingestion jobs.

    Example::

        jobs = JobStore(db)
        [job] = await jobs.submit(collection, [new_file], submitted_by="alice", max_attempts=3)
        record = await jobs.start(job.id)       # in the worker
        await jobs.succeed(job.id, result="added", document_id=..., chunk_count=12)
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def submit(
        self,
        collection: Collection,
        files: Sequence[NewFile],
        *,
        submitted_by: str,
        max_attempts: int,
        metadata: dict[str, Any] | None = None,
    ) -> list[IngestJob]:
        """Store the files and queue one job for each, all in one transaction."""
        ids = []
        async with self.db.transaction() as conn:
            for f in files:
                await conn.execute(
                    query("insert_file"),
                    {"content_hash": f.content_hash, "data": f.data, "size_bytes": len(f.data)},
                )
                row = await (
                    await conn.execute(
                        query("insert_job"),
                        {
                            "collection_id": collection.id,
                            "kind": "ingest",
                            "source": f.source,
                            "content_hash": f.content_hash,
                            "media_type": f.media_type,
                            "size_bytes": len(f.data),
                            "metadata": Jsonb(metadata or {}),
                            "submitted_by": submitted_by,
                            "max_attempts": max_attempts,
                        },
                    )
                ).fetchone()
                assert row is not None
                ids.append(str(row["id"]))
        return [(await self.record(job_id)).job for job_id in ids]

    async def submit_reindex(
        self,
        collection: Collection,
        *,
        submitted_by: str,
        max_attempts: int,
        document_id: str | None = None,
    ) -> list[IngestJob]:
        """Queue a re-index of one stored document, or of every document of the collection.

        :raises NotFoundError: if ``document_id`` names no document of the collection.
        """
        if document_id is not None:
            await self.document(collection, document_id)
        async with self.db.transaction() as conn:
            rows = await (
                await conn.execute(
                    query("insert_reindex_jobs"),
                    {
                        "collection_id": collection.id,
                        "document_id": document_id,
                        "submitted_by": submitted_by,
                        "max_attempts": max_attempts,
                    },
                )
            ).fetchall()
        return [(await self.record(str(r["id"]))).job for r in rows]

    async def document(self, collection: Collection, document_id: str) -> dict[str, Any]:
        """A stored document's id, source and content hash.

        :raises NotFoundError: if the collection has no such document (or the id is malformed).
        """
        row = None
        if is_uuid(document_id):
            async with self.db.connection() as conn:
                row = await (
                    await conn.execute(
                        query("find_document_by_id"),
                        {"document_id": document_id, "collection_id": collection.id},
                    )
                ).fetchone()
        if row is None:
            raise NotFoundError(
                f"document {document_id!r} not found in collection {collection.name!r}; list "
                f"them with GET /v1/collections/{collection.name}/documents",
                code="document_not_found",
            )
        return row

    async def record(self, job_id: str) -> JobRecord:
        """A job by id, with no permission check (for workers and just-created jobs).

        :raises NotFoundError: if there is no such job.
        """
        row = None
        if is_uuid(job_id):
            async with self.db.connection() as conn:
                row = await (await conn.execute(query("select_job"), {"job_id": job_id})).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id!r} not found", code="job_not_found")
        return _record(row)

    async def jobs(
        self, collection: Collection, *, state: JobState | None = None, limit: int = 100
    ) -> list[IngestJob]:
        """A collection's jobs, newest first."""
        async with self.db.connection() as conn:
            rows = await (
                await conn.execute(
                    query("list_jobs"),
                    {"collection_id": collection.id, "state": state, "limit": limit},
                )
            ).fetchall()
        return [_record(r).job for r in rows]

    async def file(self, content_hash: str) -> bytes:
        """A stored file's bytes.

        :raises NotFoundError: if the file is gone (its documents were deleted meanwhile).
        """
        async with self.db.connection() as conn:
            row = await (
                await conn.execute(query("file_data"), {"content_hash": content_hash})
            ).fetchone()
        if row is None:
            raise NotFoundError("the file is no longer stored", code="file_missing")
        return bytes(row["data"])

    # --- a worker's side ---------------------------------------------------------------------

    async def start(self, job_id: str) -> JobRecord | None:
        """Mark the job running and count the attempt; None if it has ended already."""
        async with self.db.connection() as conn:
            row = await (await conn.execute(query("start_job"), {"job_id": job_id})).fetchone()
        return await self.record(job_id) if row else None

    async def progress(self, job_id: str, stage: str, done: int = 0, total: int = 0) -> None:
        async with self.db.connection() as conn:
            await conn.execute(
                query("job_progress"),
                {"job_id": job_id, "stage": stage, "done": done, "total": total},
            )

    async def succeed(
        self, job_id: str, *, result: str, document_id: str | None, chunk_count: int
    ) -> None:
        await self._finish(
            job_id, "succeeded", result=result, document_id=document_id, chunk_count=chunk_count
        )

    async def fail(self, job_id: str, code: str, message: str) -> None:
        await self._finish(job_id, "failed", error_code=code, error_message=message)

    async def requeue(self, job_id: str, code: str, message: str) -> None:
        """Back to ``queued`` after a passing failure; the queue retries it later."""
        async with self.db.connection() as conn:
            await conn.execute(
                query("requeue_job"),
                {"job_id": job_id, "error_code": code, "error_message": message},
            )

    async def orphaned(self, older_than_seconds: float) -> list[str]:
        """Unfinished jobs with no delivery pending in the queue."""
        async with self.db.connection() as conn:
            rows = await (
                await conn.execute(query("orphaned_jobs"), {"seconds": older_than_seconds})
            ).fetchall()
        return [str(r["id"]) for r in rows]

    async def counts(self) -> dict[str, int]:
        """Jobs per state."""
        async with self.db.connection() as conn:
            rows = await (await conn.execute(query("count_jobs_by_state"))).fetchall()
        return {r["state"]: int(r["n"]) for r in rows}

    async def _finish(self, job_id: str, state: str, **fields: Any) -> None:
        params = {
            "job_id": job_id,
            "state": state,
            "result": None,
            "document_id": None,
            "chunk_count": None,
            "error_code": None,
            "error_message": None,
        }
        async with self.db.connection() as conn:
            await conn.execute(query("finish_job"), params | fields)


def _record(row: dict[str, Any]) -> JobRecord:
    error = (
        JobError(code=row["error_code"], message=row["error_message"] or "")
        if row["error_code"]
        else None
    )
    job = IngestJob(
        id=str(row["id"]),
        collection=row["collection"],
        kind=row["kind"],
        source=row["source"],
        media_type=row["media_type"],
        size_bytes=row["size_bytes"],
        state=row["state"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        progress=JobProgress(
            stage=row["stage"], done=row["progress_done"], total=row["progress_total"]
        ),
        result=row["result"],
        document_id=str(row["document_id"]) if row["document_id"] else None,
        chunk_count=row["chunk_count"],
        error=error,
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
    return JobRecord(job, str(row["collection_id"]), row["content_hash"], row["metadata"])
