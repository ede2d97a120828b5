"""The durable ingestion queue: procrastinate on kotaemon's own PostgreSQL (no extra broker).

The queue delivers job ids at least once; the job rows (:mod:`kotaemon.store.jobs`) say what to
do and record how it went.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import procrastinate
import procrastinate.exceptions
from procrastinate.psycopg_connector import PsycopgConnector
from procrastinate.types import JSONValue

from kotaemon.core.errors import StoreError

QUEUE = "ingest"
TASK = "kotaemon.ingest"
#: Eval runs (batch testing) share the workers, on a queue of their own.
EVAL_QUEUE = "eval"
EVAL_TASK = "kotaemon.eval"

#: ``handler(job_id)``: runs one delivery of a job.
JobHandler = Callable[[str], Awaitable[None]]


class RetryLater(Exception):
    """Raised by a job handler for a passing failure: the queue delivers the job again later."""


class IngestQueue:
    """Puts ingestion jobs in line and hands them to workers.

    Example::

        queue = IngestQueue(database_url, max_attempts=3)
        await queue.open()
        await queue.enqueue(["1f0c…"])                 # api side
        await queue.work(handler, concurrency=2)       # worker side, until cancelled
    """

    def __init__(self, url: str, *, max_attempts: int, pool_size: int = 4) -> None:
        # A pool of its own: procrastinate opens its LISTEN connection with the pool's settings.
        connector = PsycopgConnector(conninfo=url, min_size=1, max_size=pool_size)
        self.app = procrastinate.App(connector=connector)
        # The job rows count attempts and decide when to give up; the queue only spaces them.
        retry = procrastinate.RetryStrategy(
            max_attempts=max_attempts + 2, exponential_wait=2, retry_exceptions=[RetryLater]
        )
        self._task = self.app.task(name=TASK, queue=QUEUE, pass_context=True, retry=retry)(_deliver)
        self._eval_task = self.app.task(
            name=EVAL_TASK, queue=EVAL_QUEUE, pass_context=True, retry=retry
        )(_deliver_eval)

    async def open(self) -> None:
        try:
            await self.app.open_async()
        except procrastinate.exceptions.ConnectorException as exc:
            raise StoreError(f"the job queue is unavailable ({exc}); retry shortly") from exc

    async def close(self) -> None:
        await self.app.close_async()

    async def enqueue(self, job_ids: Sequence[str]) -> None:
        """Queue deliveries of these jobs.

        :raises StoreError: if the queue cannot be reached.
        """
        if not job_ids:
            return
        try:
            deliveries: list[dict[str, JSONValue]] = [{"job_id": job_id} for job_id in job_ids]
            await self._task.batch_defer_async(*deliveries)
        except procrastinate.exceptions.ConnectorException as exc:
            raise StoreError(f"the job queue is unavailable ({exc}); retry shortly") from exc

    async def enqueue_eval(self, run_id: str) -> None:
        """Queue a delivery of an eval run.

        :raises StoreError: if the queue cannot be reached.
        """
        try:
            await self._eval_task.defer_async(run_id=run_id)
        except procrastinate.exceptions.ConnectorException as exc:
            raise StoreError(f"the job queue is unavailable ({exc}); retry shortly") from exc

    async def work(
        self,
        handler: JobHandler,
        *,
        eval_handler: JobHandler | None = None,
        concurrency: int,
        name: str,
        heartbeat_seconds: float,
        stalled_after_seconds: float,
        install_signal_handlers: bool,
    ) -> None:
        """Run jobs until cancelled (or, with signal handlers, until SIGTERM or Ctrl-C).

        :param eval_handler: runs eval runs too (``handler(run_id)``); None: ingestion only.
        """
        await self.app.run_worker_async(
            queues=[QUEUE, EVAL_QUEUE] if eval_handler is not None else [QUEUE],
            concurrency=concurrency,
            name=name,
            additional_context={"handler": handler, "eval_handler": eval_handler},
            install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=heartbeat_seconds,
            stalled_worker_timeout=stalled_after_seconds,
        )

    async def retry_stalled(self, stalled_after_seconds: float) -> int:
        """Deliver again the jobs of workers that stopped sending heartbeats (killed mid-job).

        :returns: how many jobs were put back in line.
        """
        stalled = [
            job
            for queue in (QUEUE, EVAL_QUEUE)
            for job in await self.app.job_manager.get_stalled_jobs(
                queue=queue, seconds_since_heartbeat=stalled_after_seconds
            )
        ]
        retried = 0
        for job in stalled:
            try:
                await self.app.job_manager.retry_job(job)
            except procrastinate.exceptions.ConnectorException:
                continue  # another worker retried it first
            retried += 1
        return retried


async def _deliver(context: procrastinate.JobContext, job_id: str) -> Any:
    handler: JobHandler = context.additional_context["handler"]
    await handler(job_id)


async def _deliver_eval(context: procrastinate.JobContext, run_id: str) -> Any:
    handler: JobHandler = context.additional_context["eval_handler"]
    await handler(run_id)
