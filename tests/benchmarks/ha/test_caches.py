"""Cache hit rates of the harness: read from a real ``/metrics`` page format and added up over
replicas."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks.ha.caches import CacheTally, cache_counts, rows

PAGE = """\
# HELP kotaemon_cache_requests_total Cache look-ups.
# TYPE kotaemon_cache_requests_total counter
kotaemon_cache_requests_total{cache="query_embedding",result="hit"} 30.0
kotaemon_cache_requests_total{cache="query_embedding",result="miss"} 10.0
kotaemon_cache_requests_total{cache="retrieval",result="hit"} 5.0
kotaemon_cache_requests_total{cache="retrieval",result="error"} 2.0
# HELP kotaemon_cache_requests_created Cache look-ups.
# TYPE kotaemon_cache_requests_created gauge
kotaemon_cache_requests_created{cache="retrieval",result="hit"} 1.7e9
# HELP kotaemon_answers_total Answers.
# TYPE kotaemon_answers_total counter
kotaemon_answers_total{outcome="answered"} 99.0
"""


@contextmanager
def _metrics_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_only_the_cache_counters_are_read() -> None:
    assert cache_counts(PAGE) == {
        ("query_embedding", "hit"): 30,
        ("query_embedding", "miss"): 10,
        ("retrieval", "hit"): 5,
        ("retrieval", "error"): 2,
    }


def test_readings_of_several_replicas_add_up_and_a_silent_one_is_noted() -> None:
    tally = CacheTally()

    async def read_all(url: str) -> None:
        await tally.read("r1", url)
        await tally.read("r2", url)
        await tally.read("gone", "http://127.0.0.1:9")  # the discard port: nothing listens

    with _metrics_server() as url:
        asyncio.run(read_all(url))
    summary = tally.summary()
    assert summary["readings"] == 2 and summary["unreadable"] == ["gone: ConnectError"]
    assert summary["caches"]["query_embedding"] == {
        "hits": 60, "misses": 20, "errors": 0, "hit_rate_pct": 75.0
    }  # fmt: skip
    assert summary["caches"]["retrieval"]["hit_rate_pct"] == 100.0  # errors did not answer
    assert list(rows(summary)) == [
        ("query_embedding", "60", "20", "0", "75.0"),
        ("retrieval", "10", "0", "4", "100.0"),
    ]
