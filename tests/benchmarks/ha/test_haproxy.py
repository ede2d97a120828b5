"""The harness's HAProxy configuration: valid for the installed HAProxy, and retrying exactly
what it says it retries, checked with a real HAProxy in front of two small HTTP servers."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from benchmarks.ha.haproxy import HAProxy, check_config, render_config, summarize_log
from benchmarks.ha.processes import HarnessError, free_port


class _Replica(BaseHTTPRequestHandler):
    """Ready to health checks; counts the POSTs it received. ``crash`` closes the connection
    without answering them, as a replica killed mid-request does."""

    protocol_version = "HTTP/1.1"
    crash = False
    received: Counter[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received[self.path] += 1
        if self.crash:
            self.close_connection = True
            return
        self._answer()

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # HAProxy resets its health-check connections as soon as it has the status


@contextmanager
def _replica(*, crash: bool) -> Iterator[tuple[int, Counter[str]]]:
    received: Counter[str] = Counter()
    handler = type("Handler", (_Replica,), {"crash": crash, "received": received})
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _balancer(servers: list[tuple[str, int]], run_dir: Path) -> Iterator[HAProxy]:
    haproxy = HAProxy(servers, free_port(), run_dir)
    haproxy.start()
    try:
        haproxy.wait_ready(10)
        yield haproxy
    finally:
        haproxy.stop()


def _post(url: str, headers: dict[str, str] | None = None) -> int:
    # A connection per request: after a 502 HAProxy may close the client's connection.
    return httpx.post(url, json={"question": "?"}, headers=headers, timeout=10).status_code


def test_the_configuration_passes_haproxy_check(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    servers = [("r1", 8101), ("r2", 8102), ("r3", 8103)]
    config.write_text(render_config(8100, servers, stats_socket=tmp_path / "stats.sock"))
    check_config(config)  # raises with HAProxy's own message
    text = config.read_text()
    assert "option httpchk GET /readyz" in text
    assert "retry-on conn-failure empty-response" in text
    assert all(f"server {name} 127.0.0.1:{port} check" in text for name, port in servers)


def test_a_broken_configuration_is_reported_with_haproxys_words(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_config(8100, [("r1", 8101)]) + "    retry-on sometimes\n")
    with pytest.raises(HarnessError, match="sometimes"):
        check_config(config)
    with pytest.raises(ValueError, match="at least one server"):
        render_config(8100, [])


def test_a_replica_that_refuses_connections_costs_no_request(tmp_path: Path) -> None:
    with _replica(crash=False) as (port, received):
        servers = [("gone", free_port()), ("up", port)]  # nothing listens on "gone"'s port
        with _balancer(servers, tmp_path) as haproxy:
            statuses = [_post(f"{haproxy.url}/v1/chat") for _ in range(6)]
    assert statuses == [200] * 6  # even a chat: a refused connect sent nothing to replay
    assert received["/v1/chat"] == 6


def test_a_request_a_replica_dropped_is_replayed_only_if_replaying_changes_nothing(
    tmp_path: Path,
) -> None:
    with (
        _replica(crash=True) as (bad, dropped),
        _replica(crash=False) as (good, answered),
        _balancer([("crashing", bad), ("healthy", good)], tmp_path) as haproxy,
    ):
        searches = [_post(f"{haproxy.url}/v1/search") for _ in range(6)]
        chats = [_post(f"{haproxy.url}/v1/chat") for _ in range(6)]
        log = haproxy.summary()
    assert searches == [200] * 6  # read-only: replayed on the healthy replica
    assert dropped["/v1/search"] >= 1 and answered["/v1/search"] == 6
    assert 502 in chats  # a chat records an answer: never replayed, the client is told
    assert chats.count(502) == dropped["/v1/chat"]
    assert answered["/v1/chat"] == chats.count(200)
    assert log["errors"] == {"502 SH-- POST /v1/chat": chats.count(502)}
    assert log["redispatched"] == dropped["/v1/search"]


def test_a_dropped_chat_with_an_idempotency_key_is_replayed(tmp_path: Path) -> None:
    with (
        _replica(crash=True) as (bad, dropped),
        _replica(crash=False) as (good, answered),
        _balancer([("crashing", bad), ("healthy", good)], tmp_path) as haproxy,
    ):
        chats = [_post(f"{haproxy.url}/v1/chat", {"Idempotency-Key": f"key-{n}"}) for n in range(6)]
    assert chats == [200] * 6  # the service answers a key once: replaying is safe
    assert dropped["/v1/chat"] >= 1 and answered["/v1/chat"] == 6


def test_the_request_log_is_summarized_per_replica_with_retries_and_errors() -> None:
    lines = [
        "[WARNING] Server replicas/r1 is DOWN",
        '{"server":"r1","method":"POST","path":"/v1/chat","status":200,"term":"----","retries":"0"}',
        '{"server":"r2","method":"POST","path":"/v1/chat","status":200,"term":"----","retries":"+1"}',
        '{"server":"r2","method":"POST","path":"/v1/chat","status":502,"term":"SH--","retries":"0"}',
        '{"server":"r3","method":"POST","path":"/v1/chat","status":200,"term":"SD--","retries":"2"}',
    ]
    summary = summarize_log(lines)
    assert summary["requests"] == 4
    assert summary["per_server"] == {"r1": 1, "r2": 2, "r3": 1}
    assert (summary["retried"], summary["redispatched"]) == (2, 1)
    assert summary["errors"] == {"502 SH-- POST /v1/chat": 1, "200 SD-- POST /v1/chat": 1}
