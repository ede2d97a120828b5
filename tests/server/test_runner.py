"""``kotaemon serve``: uvicorn settings, draining on SIGTERM, a graceful stop in a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from kotaemon.server.runner import build_server
from kotaemon.settings import Settings

from ..fakes.openai_server import FakeOpenAIServer


def test_server_follows_the_settings() -> None:
    settings = Settings(_env_file=None, port=8123, shutdown_grace_seconds=7.5)  # type: ignore[call-arg]
    server, _ = build_server(settings)
    assert (server.config.host, server.config.port) == ("127.0.0.1", 8123)
    assert server.config.timeout_graceful_shutdown == 8
    assert server.config.access_log is False  # the telemetry middleware logs requests


def test_a_shutdown_signal_starts_draining_at_once() -> None:
    server, app = build_server(Settings(_env_file=None))  # type: ignore[call-arg]
    assert not app.state.lifecycle.draining
    server.handle_exit(signal.SIGTERM, None)  # what uvicorn's signal handler calls
    assert app.state.lifecycle.draining and server.should_exit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.integration
def test_serve_finishes_in_flight_requests_on_sigterm(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")} | {
        "KOTAEMON_DATABASE_URL": kb_database_url,
        "KOTAEMON_DATA_DIR": str(tmp_path),
        "KOTAEMON_LLM_BASE_URL": fake_llm.base_url,
        "KOTAEMON_LLM_MAX_RETRIES": "0",
        "KOTAEMON_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_for_health(client, process)
            assert client.get("/readyz").status_code == 200

            fake_llm.reply("The late fee is 5% [1].", delay=2)
            answer = _ask_then_stop(client, process, fake_llm)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert answer.status_code == 200, (answer.text, stdout)
    assert answer.json()["text"].startswith("The late fee")
    assert process.returncode == 0, stderr
    assert "Application startup complete" in stdout and "Shutting down" in stdout
    assert stderr == ""


@pytest.mark.integration
def test_a_request_that_outlives_the_grace_period_is_told_to_retry(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Cancelled by the end of the shutdown before its response began: 503 shutting_down with
    Retry-After (a client or balancer may send it again), not uvicorn's bare 500."""
    port = _free_port()
    env = _serve_env(
        kb_database_url, tmp_path, KOTAEMON_LLM_BASE_URL=fake_llm.base_url,
        KOTAEMON_LLM_MAX_RETRIES="0", KOTAEMON_PORT=str(port),
        KOTAEMON_SHUTDOWN_GRACE_SECONDS="1",
    )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            _wait_for_health(client, process)
            fake_llm.reply("Too late [1].", delay=45)  # far beyond the grace period
            answer = _ask_then_stop(client, process, fake_llm)
        stdout, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert answer.status_code == 503, (answer.text, stdout)
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["error"]["code"] == "shutting_down"
    assert process.returncode == 0


def _ask_then_stop(
    client: httpx.Client, process: subprocess.Popen, fake_llm: FakeOpenAIServer
) -> httpx.Response:
    """Ask a question, send SIGTERM once the LLM holds it, and return the answer."""
    asked = len(fake_llm.chat_requests)
    answers: list[httpx.Response] = []
    question = {"question": "What is the late payment fee?"}
    request = threading.Thread(
        target=lambda: answers.append(client.post("/v1/chat", json=question))
    )
    request.start()
    while len(fake_llm.chat_requests) == asked and request.is_alive():
        time.sleep(0.02)  # until the request waits on the LLM
    process.send_signal(signal.SIGTERM)
    request.join()
    [answer] = answers
    return answer


def _wait_for_health(
    client: httpx.Client, process: subprocess.Popen, probe: str = "/healthz"
) -> None:
    """Until ``probe`` answers 200: a process that exits fails at once; the deadline is only a
    bound for a process that hangs."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kotaemon exited: {process.communicate()}")
        try:
            if client.get(probe).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"kotaemon did not answer {probe} with 200")


def test_a_public_address_without_authentication_is_refused() -> None:
    with pytest.raises(ValidationError, match="without authentication"):
        Settings(_env_file=None, host="0.0.0.0")  # type: ignore[call-arg]
    allowed = Settings(_env_file=None, host="0.0.0.0", allow_public_without_auth=True)  # type: ignore[call-arg]
    assert not allowed.local_mode and allowed.redacts_rag_records
    secured = Settings(
        _env_file=None,  # type: ignore[call-arg]
        host="0.0.0.0",
        auth="oidc",
        oidc_issuer="https://idp",
        oidc_audience="kotaemon",
    )
    assert secured.auth == "oidc"
    with pytest.raises(ValidationError, match="KOTAEMON_OIDC_ISSUER"):
        Settings(_env_file=None, auth="oidc")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="KOTAEMON_OIDC_AUDIENCE"):
        Settings(_env_file=None, auth="oidc", oidc_issuer="https://idp")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(_env_file=None, trusted_proxies=["10.0.0.0/33"])  # type: ignore[call-arg]


def _serve_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")} | {
        "KOTAEMON_DATABASE_URL": database_url,
        "KOTAEMON_DATA_DIR": str(tmp_path),
        **extra,
    }


@pytest.mark.integration
def test_after_sigterm_the_service_drains_then_stops(kb_database_url: str, tmp_path: Path) -> None:
    """Readiness fails at once, but requests are still served during the drain (load balancers
    take the replica out meanwhile); a second signal stops it without waiting for the drain."""
    port = _free_port()
    env = _serve_env(
        kb_database_url, tmp_path, KOTAEMON_PORT=str(port), KOTAEMON_SHUTDOWN_DRAIN_SECONDS="300"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_for_health(client, process)
            _wait_until(lambda: client.get("/readyz").status_code == 200)
            process.send_signal(signal.SIGTERM)
            _wait_until(lambda: client.get("/readyz").status_code == 503)
            served = client.post("/v1/search", json={"query": "late payment fee"})
            assert served.status_code == 200 and served.json()["chunks"]  # still serving
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)  # a second signal: stop now
            process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0


def _wait_until(condition: Callable[[], bool]) -> None:
    """Until ``condition`` holds (the event), with a safety net."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


@pytest.mark.integration
def test_the_worker_serves_its_probes_and_metrics(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = _serve_env(database_url, tmp_path, KOTAEMON_WORKER_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "worker"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_for_health(client, process, "/readyz")  # ready: its queue and store are up
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            assert "kotaemon_ingest_jobs" in metrics.text and "kotaemon_redis_up" in metrics.text
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
