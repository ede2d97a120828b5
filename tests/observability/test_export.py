"""Traces leave the process over OTLP when the standard variables say so, and not otherwise."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration


class _Collector(ThreadingHTTPServer):
    """An OTLP/HTTP endpoint that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_spans_are_exported_over_otlp_http(
    database_url: str, tmp_path: Path, collector: _Collector
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOTAEMON_", "OTEL_"))} | {
        "KOTAEMON_DATABASE_URL": database_url,
        "KOTAEMON_DATA_DIR": str(tmp_path),
        "KOTAEMON_PORT": str(port),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}",
        "OTEL_SERVICE_NAME": "kotaemon-export-test",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(600):
                try:
                    trace_id = client.get("/v1/collections").headers["x-trace-id"]
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.communicate()
                    time.sleep(0.1)
        process.send_signal(signal.SIGTERM)  # a clean stop flushes the batch of spans
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    posts = [(path, kind, body) for path, kind, body in collector.received if path == "/v1/traces"]
    assert posts, collector.received
    assert all(kind == "application/x-protobuf" for _, kind, _ in posts)
    payload = b"".join(body for _, _, body in posts)
    assert bytes.fromhex(trace_id) in payload  # the request's trace went out
    assert b"kotaemon-export-test" in payload and b"GET /v1/collections" in payload
