"""A run killed with SIGKILL mid-run resumes where it stopped: finished questions are neither
asked again nor stored twice."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from ..conftest import EVENT_TIMEOUT_SECONDS, ROOT
from ..fakes.openai_server import FakeOpenAIServer
from .conftest import KOTAEMON, cli_env, kotaemon, write_jsonl

pytestmark = pytest.mark.integration

QUESTIONS = [
    "When is the payment due date?",
    "What is the late payment fee?",
    "How do I report a lost card?",
    "Will the bank ask for my PIN?",
    "What is the annual fee of the Gold card?",
    "How can I contact customer service?",
]


#: The run's name: its question file's stem (other tests of the package store runs too).
NAME = "resume-after-kill"


def _stored(url: str) -> list[tuple[int, str, object]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT x.position, x.result->>'answer', x.created_at FROM eval_results x "
            "JOIN eval_runs r ON r.id = x.run_id WHERE r.name = %s ORDER BY x.position",
            (NAME,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _wait_until(happened: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    """Until ``happened()`` (an event; the deadline is only a safety net)."""
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while not happened():
        assert process.poll() is None, "the run ended before it was killed"
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.05)


def test_a_killed_run_resumes_without_redoing_questions(
    bank_database: str, tmp_path: Path, fake_llm: FakeOpenAIServer
) -> None:
    url = bank_database
    rows = [{"id": f"q{i}", "question": q} for i, q in enumerate(QUESTIONS)]
    questions = write_jsonl(tmp_path / f"{NAME}.jsonl", rows)
    llm = {
        "KOTAEMON_LLM_BASE_URL": fake_llm.base_url,
        "KOTAEMON_LLM_MODEL": "fake-model",
        "KOTAEMON_LLM_MAX_RETRIES": "0",
        "KOTAEMON_MIN_RELEVANCE": "0",  # every question reaches the LLM
    }
    for n in range(3):
        fake_llm.reply(f"Answer {n} [1].")
    fake_llm.reply("never finished", stall_after=0)  # the fourth question hangs: no result
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [*KOTAEMON, "eval", "run", str(questions), "-c", "bank", "--concurrency", "1"],
            env=cli_env(url, tmp_path, **llm),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _wait_until(lambda: len(_stored(url)) >= 3, process)
            # and the fourth question is in flight, held by the fake LLM: killed mid-question
            _wait_until(lambda: len(fake_llm.chat_requests) >= 4, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    before = _stored(url)
    assert [answer for _, answer, _ in before] == [f"Answer {n} [1]." for n in range(3)]
    with psycopg.connect(url) as conn:
        [(run_id, state)] = conn.execute(
            "SELECT id::text, state FROM eval_runs WHERE name = %s", (NAME,)
        ).fetchall()
    assert state == "running"

    resumed = kotaemon(["eval", "run", "--resume", run_id], url, tmp_path, **llm)
    assert resumed.returncode == 0, resumed.stderr
    after = _stored(url)
    assert [p for p, _, _ in after] == list(range(len(QUESTIONS)))
    assert after[:3] == before  # the same rows: neither redone nor replaced
    asked = [r["json"]["messages"][-1]["content"] for r in fake_llm.chat_requests]
    for n, question in enumerate(QUESTIONS):
        times = sum(question in prompt for prompt in asked)
        assert times == (2 if n == 3 else 1), (question, times)  # the killed one twice
    with psycopg.connect(url) as conn:
        state = conn.execute("SELECT state FROM eval_runs WHERE id = %s", (run_id,)).fetchone()
    assert state == ("succeeded",)
