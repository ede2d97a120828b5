"""``kotaemon worker``: runs queued ingestion jobs, at least once, idempotently.

A delivery marks its job running and counts the attempt, ingests the stored file, and records
the result. Bad files (unsupported, corrupt, too large, too slow to parse) fail at once with the
reason; passing failures (database, embedding server) are retried with backoff; a job whose
worker died under it is delivered again once that worker's heartbeats stop, and a job that
keeps killing workers fails after ``max_attempts``. Storing a document is one transaction keyed
by its name and content, so however often a job runs, the document ends with one set of chunks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
from procrastinate.exceptions import ProcrastinateException

from kotaemon.core.errors import EmbeddingError, KotaemonError, NotFoundError, StoreError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Collection
from kotaemon.ingest.pipeline import IngestPipeline
from kotaemon.ingest.queue import IngestQueue, RetryLater
from kotaemon.store.collections import CollectionStore
from kotaemon.store.jobs import JobRecord, JobStore

log = logging.getLogger(__name__)

#: Workers act for no user: they may write any collection a job names.
WORKER = Principal(user_id="kotaemon-worker", display_name="Ingestion worker", is_admin=True)
#: How often a worker deletes what outlived the retention settings.
HOUSEKEEPING_SECONDS = 3600.0
#: Failures worth retrying: the database or the embedding server may be back by then.
_PASSING = (StoreError, EmbeddingError)


class IngestJobRunner:
    """Runs one delivery of an ingestion job.

    Example::

        runner = IngestJobRunner(store.jobs, store.collections, pipeline)
        await runner.run(job_id)   # raises RetryLater for a failure worth retrying
    """

    def __init__(
        self, jobs: JobStore, collections: CollectionStore, pipeline: IngestPipeline
    ) -> None:
        self.jobs = jobs
        self.collections = collections
        self.pipeline = pipeline

    async def run(self, job_id: str) -> None:
        """:raises RetryLater: after a passing failure, while attempts remain."""
        record = await self.jobs.start(job_id)
        if record is None:
            log.info("job already ended; nothing to do", extra={"job_id": job_id})
            return
        job = record.job
        if job.attempts > job.max_attempts:
            await self.jobs.fail(
                job_id,
                "too_many_attempts",
                f"stopped after {job.max_attempts} attempts that ended without a result (a "
                "worker stopped while ingesting this file); check the file and upload it again",
            )
            return
        log.info(
            "ingesting",
            extra={"job_id": job_id, "source": job.source, "attempt": job.attempts},
        )
        try:
            collection = await self._collection(record)
            data = await self.jobs.file(record.content_hash)
            result = await self.pipeline.ingest_bytes(
                data,
                job.source,
                collection,
                force=job.kind == "reindex",
                metadata=record.metadata,
                keep_file=False,
                on_progress=partial(self.jobs.progress, job_id),
            )
        except _PASSING as exc:
            if job.attempts >= job.max_attempts:
                await self.jobs.fail(
                    job_id, exc.code, f"{exc.message} (after {job.attempts} attempts)"
                )
                return
            # With the database down too, the orphan sweep delivers the job again later.
            with contextlib.suppress(KotaemonError):
                await self.jobs.requeue(job_id, exc.code, exc.message)
            raise RetryLater(exc.message) from exc
        except KotaemonError as exc:  # the file or the request is at fault: retrying won't help
            log.warning("job failed", extra={"job_id": job_id, "code": exc.code})
            await self.jobs.fail(job_id, exc.code, exc.message)
            return
        except Exception as exc:  # e.g. the parser's process killed (out of memory): retry,
            log.exception("job attempt failed unexpectedly", extra={"job_id": job_id})
            if job.attempts >= job.max_attempts:  # and give up after max_attempts
                message = f"ingestion failed unexpectedly ({type(exc).__name__}); check the file"
                await self.jobs.fail(job_id, "ingest_crashed", message)
                return
            with contextlib.suppress(KotaemonError):
                await self.jobs.requeue(job_id, "ingest_crashed", type(exc).__name__)
            raise RetryLater(type(exc).__name__) from exc
        await self.jobs.succeed(
            job_id,
            result=result.status,
            document_id=result.document_id,
            chunk_count=result.chunk_count,
        )
        log.info("job succeeded", extra={"job_id": job_id, "result": result.status})

    async def _collection(self, record: JobRecord) -> Collection:
        found = await self.collections.visible(WORKER, [record.job.collection])
        if not found or found[0].id != record.collection_id:
            raise NotFoundError("the collection was deleted", code="collection_not_found")
        return found[0]


async def run_worker(
    queue: IngestQueue,
    runner: IngestJobRunner,
    *,
    concurrency: int,
    heartbeat_seconds: float,
    stalled_after_seconds: float,
    housekeeping: Callable[[], Awaitable[None]] | None = None,
    install_signal_handlers: bool = True,
    eval_handler: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Work until stopped, putting back in line the jobs of workers that died, and running
    ``housekeeping`` (retention) every hour; with ``eval_handler``, eval runs too."""
    name = f"{socket.gethostname()}-{os.getpid()}"
    async with anyio.create_task_group() as tg:
        tg.start_soon(_recover_stalled, queue, runner.jobs, stalled_after_seconds)
        if housekeeping is not None:
            tg.start_soon(_every, HOUSEKEEPING_SECONDS, housekeeping)
        log.info("worker started", extra={"worker": name, "concurrency": concurrency})
        await queue.work(
            runner.run,
            eval_handler=eval_handler,
            concurrency=concurrency,
            name=name,
            heartbeat_seconds=heartbeat_seconds,
            stalled_after_seconds=stalled_after_seconds,
            install_signal_handlers=install_signal_handlers,
        )
        tg.cancel_scope.cancel()
    log.info("worker stopped", extra={"worker": name})


async def _every(seconds: float, task: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await task()
        except KotaemonError as exc:
            log.warning("housekeeping failed: %s", exc)
        await anyio.sleep(seconds)


async def _recover_stalled(
    queue: IngestQueue, jobs: JobStore, stalled_after_seconds: float
) -> None:
    """Every so often, deliver again the jobs whose worker stopped sending heartbeats, and the
    unfinished jobs the queue no longer holds (so that no job waits forever)."""
    interval = max(stalled_after_seconds / 2, 0.5)
    while True:
        try:
            retried = await queue.retry_stalled(stalled_after_seconds)
            orphans = await jobs.orphaned(stalled_after_seconds * 2)
            await queue.enqueue(orphans)
        except (KotaemonError, ProcrastinateException) as exc:
            log.warning("could not check for stalled jobs: %s", exc)
        else:
            if retried or orphans:
                log.warning(
                    "re-delivering jobs", extra={"stalled": retried, "orphaned": len(orphans)}
                )
        await anyio.sleep(interval)
