"""``kotaemon worker`` in real processes: a worker killed mid-job, and the job runner's verdicts."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from kotaemon.core.schema import Collection
from kotaemon.engine import Engine
from kotaemon.ingest.queue import RetryLater
from kotaemon.ingest.worker import IngestJobRunner
from kotaemon.settings import Settings
from kotaemon.store.jobs import JobStore, NewFile

from ..conftest import make_settings
from ..fakes.openai_server import FakeOpenAIServer

DOCUMENT = "\n\n".join(
    f"## Rule {n}\n\nRepayments received within {n} days of the due date count as on time."
    for n in range(1, 9)
).encode()


def _worker_env(settings_env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")}
    return base | settings_env


def _settings_env(
    database_url: str, data_dir: Path, embeddings: FakeOpenAIServer
) -> dict[str, str]:
    return {
        "KOTAEMON_DATABASE_URL": database_url,
        "KOTAEMON_DATA_DIR": str(data_dir),
        "KOTAEMON_EMBEDDING_BACKEND": "openai",
        "KOTAEMON_EMBEDDING_BASE_URL": embeddings.base_url,
        "KOTAEMON_EMBEDDING_MODEL": "fake-embedding",
        "KOTAEMON_EMBEDDING_DIM": "8",
        "KOTAEMON_EMBEDDING_BATCH_SIZE": "2",
        "KOTAEMON_CHUNK_SIZE": "32",
        "KOTAEMON_CHUNK_OVERLAP": "0",
        "KOTAEMON_WORKER_HEARTBEAT_SECONDS": "0.5",
        "KOTAEMON_WORKER_STALLED_AFTER_SECONDS": "2",
    }


def _engine_settings(env: dict[str, str]) -> Settings:
    values = {k.removeprefix("KOTAEMON_").lower(): v for k, v in env.items()}
    url = values.pop("database_url")
    return make_settings(url, Path(values.pop("data_dir")), **values)


def _submit(settings: Settings, source: str, data: bytes, *, enqueue: bool = True) -> str:
    async def main() -> str:
        async with Engine(settings) as engine:
            collection = await engine.ensure_collection("kb")
            [job] = await engine.store.jobs.submit(
                collection,
                [_new_file(source, data, "text/markdown")],
                submitted_by="test",
                max_attempts=3,
            )
            if enqueue:
                await engine.queue.enqueue([job.id])
            return job.id

    return anyio.run(main)


def _job(database_url: str, job_id: str) -> dict[str, Any]:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        row = conn.execute("SELECT * FROM ingest_jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    return row


def _wait_for(condition: Any, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def embeddings() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(embedding_dim=8) as server:
        yield server


@pytest.mark.integration
def test_a_worker_killed_mid_job_is_replaced_and_the_document_has_one_set_of_chunks(
    database_url: str, tmp_path: Path, embeddings: FakeOpenAIServer
) -> None:
    env = _settings_env(database_url, tmp_path, embeddings)
    job_id = _submit(_engine_settings(env), "rules.md", DOCUMENT)
    embeddings.embedding_delay = 300  # the first worker hangs while embedding
    command = [sys.executable, "-m", "kotaemon", "worker"]
    first = subprocess.Popen(command, env=_worker_env(env), stdout=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _job(database_url, job_id)["stage"] == "embedding", "the first attempt")
        first.kill()
        first.wait()
    finally:
        first.kill()
    assert _job(database_url, job_id)["state"] == "running"  # as the dead worker left it

    embeddings.embedding_delay = 0
    second = subprocess.Popen(
        command, env=_worker_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(lambda: _job(database_url, job_id)["state"] == "succeeded", "the retry")
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=60)
    finally:
        second.kill()
    assert second.returncode == 0, stderr

    job = _job(database_url, job_id)
    assert (job["attempts"], job["result"]) == (2, "added")
    with psycopg.connect(database_url) as conn:
        [(documents, stored_chunks)] = conn.execute(
            "SELECT count(*), sum(chunk_count) FROM documents"
        ).fetchall()
        [(chunks, ordinals)] = conn.execute(
            "SELECT count(*), count(DISTINCT ordinal) FROM chunks"
        ).fetchall()
    assert documents == 1
    assert chunks == ordinals == stored_chunks == job["chunk_count"] > 1


@pytest.mark.integration
def test_a_job_the_queue_lost_is_delivered_again(
    database_url: str, tmp_path: Path, embeddings: FakeOpenAIServer
) -> None:
    env = _settings_env(database_url, tmp_path, embeddings)
    job_id = _submit(_engine_settings(env), "rules.md", DOCUMENT, enqueue=False)  # never queued
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE ingest_jobs SET updated_at = now() - interval '1 minute' WHERE id = %s",
            (job_id,),
        )
    worker = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "worker"],
        env=_worker_env(env),
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _job(database_url, job_id)["state"] == "succeeded", "the orphan sweep")
    finally:
        worker.kill()
        worker.wait()
    assert _job(database_url, job_id)["attempts"] == 1


async def _runner(engine: Engine) -> tuple[IngestJobRunner, JobStore, Collection]:
    collection = await engine.ensure_collection("kb")
    runner = IngestJobRunner(engine.store.jobs, engine.store.collections, engine.ingest)
    return runner, engine.store.jobs, collection


def _new_file(source: str, data: bytes, media_type: str = "text/plain") -> NewFile:
    return NewFile(source, data, hashlib.sha256(data).hexdigest(), media_type)


@pytest.mark.anyio
async def test_a_bad_file_fails_at_once_with_the_reason(engine: Engine) -> None:
    runner, jobs, collection = await _runner(engine)
    fake_pdf = b"%PDF-1.7\nthis is not really a PDF"
    [job] = await jobs.submit(
        collection, [_new_file("broken.pdf", fake_pdf)], submitted_by="t", max_attempts=3
    )
    await runner.run(job.id)
    ended = (await jobs.record(job.id)).job
    assert ended.state == "failed" and ended.attempts == 1
    assert ended.error is not None and ended.error.code == "corrupt_file"
    assert "broken.pdf" in ended.error.message


@pytest.mark.anyio
async def test_a_finished_job_delivered_again_does_nothing(engine: Engine) -> None:
    runner, jobs, collection = await _runner(engine)
    [job] = await jobs.submit(
        collection, [_new_file("a.txt", b"Late fees are 5%.")], submitted_by="t", max_attempts=3
    )
    await runner.run(job.id)
    await runner.run(job.id)  # at-least-once: a second delivery
    ended = (await jobs.record(job.id)).job
    assert (ended.state, ended.attempts, ended.result) == ("succeeded", 1, "added")
    [stored] = await engine.store.documents.in_collections([collection])
    assert stored.chunk_count == ended.chunk_count == 1


@pytest.mark.anyio
async def test_a_job_that_keeps_killing_workers_fails_after_max_attempts(engine: Engine) -> None:
    runner, jobs, collection = await _runner(engine)
    [job] = await jobs.submit(
        collection, [_new_file("a.txt", b"Late fees are 5%.")], submitted_by="t", max_attempts=2
    )
    for _ in range(2):  # two deliveries that died without a word
        assert await jobs.start(job.id) is not None
    await runner.run(job.id)
    ended = (await jobs.record(job.id)).job
    assert ended.state == "failed" and ended.error is not None
    assert ended.error.code == "too_many_attempts"


@pytest.mark.integration
def test_a_passing_failure_is_retried_then_fails_with_the_reason(
    database_url: str, tmp_path: Path, embeddings: FakeOpenAIServer
) -> None:
    settings = _engine_settings(_settings_env(database_url, tmp_path, embeddings))
    settings = settings.replace(embedding_timeout=5.0)

    async def main() -> None:
        async with Engine(settings) as engine:
            runner, jobs, collection = await _runner(engine)
            [job] = await jobs.submit(
                collection, [_new_file("a.txt", b"Fees.")], submitted_by="t", max_attempts=2
            )
            for _ in range(8):  # down for both attempts (each tries 4 times)
                embeddings.reply(status=503, headers={"Retry-After": "0"})
            with pytest.raises(RetryLater):
                await runner.run(job.id)
            waiting = (await jobs.record(job.id)).job
            assert waiting.state == "queued" and waiting.error is not None
            await runner.run(job.id)  # the last attempt: no more retries
            ended = (await jobs.record(job.id)).job
            assert ended.state == "failed" and ended.attempts == 2
            assert ended.error is not None and ended.error.code == "embedding_failed"

    anyio.run(main)
