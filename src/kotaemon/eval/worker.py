"""Eval runs in ``kotaemon worker``: the API queues a run, a worker asks its questions.

A delivery runs what is left of the run (each stored result is kept), so a worker killed
mid-run costs only the questions in flight: the queue delivers the run again and it continues.
"""

from __future__ import annotations

import logging

from kotaemon.core.errors import EmbeddingError, KotaemonError, NotFoundError, StoreError
from kotaemon.eval.runner import EvalRunner
from kotaemon.ingest.queue import RetryLater

log = logging.getLogger(__name__)


class EvalJobRunner:
    """Runs one delivery of an eval run.

    Example::

        jobs = EvalJobRunner(EvalRunner(engine.rag, engine.store.evals, engine.llm))
        await jobs.run(run_id)   # raises RetryLater when the database or embedder is away
    """

    def __init__(self, runner: EvalRunner) -> None:
        self.runner = runner

    async def run(self, run_id: str) -> None:
        """:raises RetryLater: after a passing failure (the stored results are kept)."""
        try:
            await self.runner.execute(run_id)
        except NotFoundError as exc:
            if exc.code == "eval_run_not_found":
                log.info("eval run deleted; nothing to do", extra={"run_id": run_id})
                return
            await self.runner.evals.fail(run_id, exc.code, exc.message)
        except (StoreError, EmbeddingError) as exc:
            raise RetryLater(exc.message) from exc
        except KotaemonError as exc:
            log.warning("eval run failed", extra={"run_id": run_id, "code": exc.code})
            await self.runner.evals.fail(run_id, exc.code, exc.message)
