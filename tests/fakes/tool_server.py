"""A real HTTP server standing in for a business system (a CRM), for the agent tests.

It records every request, can hold its answers (``delay``), can wait for a signal before
answering (to prove that a tool call and retrieval overlap), and answers repayment records like
``examples/crm/server.py`` (or a scripted ``reply``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class FakeToolServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        self.reply: Any = None
        #: Set by the test when retrieval has started; answers wait for it when ``hold`` is on.
        self.retrieval_started = threading.Event()
        self.hold = False
        self.saw_retrieval_before_answering: bool | None = None
        self.started = threading.Event()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeToolServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.retrieval_started.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, customer_id: str, month: str) -> Any:
        if self.reply is not None:
            return self.reply
        return {
            "customer_id": customer_id,
            "month": month,
            "statement": {
                "due_date": f"{month}-25",
                "paid_on": f"{month}-20",
                "paid_amount": 3200.0,
                "status": "paid_on_time",
            },
        }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        fake: FakeToolServer = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        fake.requests.append(
            {"path": unquote(url.path), "raw_path": url.path, "query": query,
             "headers": {k.lower(): v for k, v in self.headers.items()}}
        )  # fmt: skip
        fake.started.set()
        if fake.hold:
            fake.saw_retrieval_before_answering = fake.retrieval_started.wait(10)
        if fake.delay and fake._stop.wait(fake.delay):
            return
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "customers":
            self._json(404, {"error": "not found"})
            return
        self._json(200, fake.answer(unquote(parts[1]), query.get("month", "")))

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # the client gave up (a timeout test)
            self.wfile.write(body)
