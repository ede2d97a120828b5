"""A real HTTP server that speaks (a small part of) the OpenAI API, for tests.

Kotaemon's tests must exercise the whole client stack -- the ``openai`` package, its HTTP
transport, timeouts, retries, streaming -- so instead of mocking the client they point it at
:class:`FakeOpenAIServer`: a standard-library ``ThreadingHTTPServer`` bound to ``127.0.0.1``
on a free port and served from a daemon thread.  Tests script its answers and inspect the
requests it received::

    with FakeOpenAIServer() as llm:
        llm.reply("Hello [1].")
        client = openai.OpenAI(base_url=llm.base_url, api_key="x", max_retries=0)
        ...
        assert llm.chat_requests[0]["json"]["messages"][-1]["content"] == "Hi"

Endpoints, all under ``/v1``:

* ``POST /chat/completions`` -- scripted (or default) answers, plain JSON or a
  ``text/event-stream`` of chunks, with text or tool calls and ``stream_options.include_usage``;
* ``POST /embeddings`` -- deterministic, unit-length bag-of-words vectors
  (``encoding_format`` ``float`` or ``base64``, as the ``openai`` client asks by default);
* ``GET /models`` -- a single ``fake-model``.

Scripted replies (:meth:`FakeOpenAIServer.reply`) are consumed in FIFO order by chat
completions; an error reply (``status >= 400``) at the head of the queue is consumed by the
next request to any endpoint.  Unknown paths get 404, malformed JSON 400, and a missing or
wrong ``Authorization`` header 401 when the server has an ``api_key``.

The module depends on the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import urlsplit

__all__ = ["DEFAULT_REPLY", "FAKE_MODEL", "FakeOpenAIServer", "RecordedRequest", "count_tokens"]

DEFAULT_REPLY = "This is a fake answer [1]."
FAKE_MODEL = "fake-model"
STREAM_PIECE_CHARS = 4  # characters of content per streamed delta
ARGUMENT_PIECE_CHARS = 8  # characters of tool-call arguments per streamed fragment
CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_WORD_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")  # a CJK character, or a run of other word chars


class RecordedRequest(TypedDict):
    """One request as the server received it."""

    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-case names
    json: Any  # the decoded body; None when empty or malformed


@dataclass(frozen=True)
class ToolCall:
    """A scripted function call, with its arguments already JSON-encoded."""

    id: str
    name: str
    arguments: str

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> ToolCall:
        arguments = spec.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        return cls(spec.get("id") or _new_id("call"), spec["name"], arguments)

    def as_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class ScriptedReply:
    """What the server answers to one request; see :meth:`FakeOpenAIServer.reply`."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    finish_reason: str | None = None
    stall_after: int | None = None

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def finish(self) -> str:
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")

    @property
    def completion_tokens(self) -> int:
        texts = [self.content or "", *(call.arguments for call in self.tool_calls)]
        return sum(count_tokens(text) for text in texts)


# --------------------------------------------------------------------------- pure helpers


def count_tokens(text: str) -> int:
    """Fake token count: whitespace-separated words plus CJK characters."""
    return len(_CJK_RE.findall(text)) + len(_CJK_RE.sub(" ", text).split())


def embed_text(text: str, dim: int) -> list[float]:
    """A deterministic unit vector: the normalised sum of one hashed vector per word.

    Identical texts (up to case and spacing) give identical vectors, and texts sharing words
    are closer *on average*: with few dimensions unrelated words can collide by chance.
    """
    vector = [0.0] * dim
    for word in _WORD_RE.findall(text.lower()) or [""]:
        digest = hashlib.shake_256(word.encode()).digest(2 * dim)
        for i in range(dim):
            vector[i] += int.from_bytes(digest[2 * i : 2 * i + 2], "big") / 32767.5 - 1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _pieces(text: str, size: int) -> list[str]:
    """Split on code points (never inside a UTF-8 sequence), ``size`` characters at a time."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _message_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _prompt_tokens(messages: Sequence[Any]) -> int:
    return sum(count_tokens(_message_text(message)) for message in messages)


def _error_payload(status: int, message: str | None = None) -> dict[str, Any]:
    phrase = BaseHTTPRequestHandler.responses.get(status, ("Error",))[0]
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status == 401:
        kind, code = "invalid_request_error", "invalid_api_key"
    else:
        kind, code = ("server_error" if status >= 500 else "invalid_request_error"), None
    return {"error": {"message": message or phrase, "type": kind, "param": None, "code": code}}


def _completion_payload(reply: ScriptedReply, model: str, prompt_tokens: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [call.as_openai() for call in reply.tool_calls]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish}
    return {
        "id": _new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [choice],
        "usage": _usage(prompt_tokens, reply.completion_tokens),
    }


class _Chunks:
    """Builds the ``chat.completion.chunk`` objects of one streamed answer."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.base = {
            "id": _new_id("chatcmpl"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk = {**self.base, "choices": [choice]}
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def usage(self, usage: dict[str, int]) -> dict[str, Any]:
        return {**self.base, "choices": [], "usage": usage}


def _tool_call_fragments(call: ToolCall, index: int) -> Iterator[dict[str, Any]]:
    """As OpenAI does: id, type and name first, then the arguments string in pieces."""
    function = {"name": call.name, "arguments": ""}
    yield {"index": index, "id": call.id, "type": "function", "function": function}
    for piece in _pieces(call.arguments, ARGUMENT_PIECE_CHARS):
        yield {"index": index, "function": {"arguments": piece}}


def _stream_events(
    reply: ScriptedReply, model: str, prompt_tokens: int, include_usage: bool
) -> Iterator[dict[str, Any]]:
    chunks = _Chunks(model, include_usage)
    yield chunks.delta({"role": "assistant", "content": "" if reply.content is not None else None})
    for piece in _pieces(reply.content or "", STREAM_PIECE_CHARS):
        yield chunks.delta({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        for fragment in _tool_call_fragments(call, index):
            yield chunks.delta({"tool_calls": [fragment]})
    yield chunks.delta({}, finish_reason=reply.finish)
    if include_usage:
        yield chunks.usage(_usage(prompt_tokens, reply.completion_tokens))


def _encode_vector(vector: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":  # little-endian float32, what the openai client decodes
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def _embeddings_payload(
    texts: list[str], model: str, dim: int, encoding_format: str
) -> dict[str, Any]:
    vectors = [_encode_vector(embed_text(text, dim), encoding_format) for text in texts]
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    tokens = sum(count_tokens(text) for text in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}


def _embedding_inputs(raw: Any) -> list[str] | None:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return raw
    return None


class _BadRequest(Exception):
    """Raised by a route to answer 400 with this message."""


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    """Parses one HTTP request, records it, and dispatches it to a route."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; streams use chunked encoding
    server_version = "FakeOpenAI/1.0"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines on stderr."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload, malformed = (json.loads(body) if body else None), False
        except ValueError:
            payload, malformed = None, True
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(method=self.command, path=path, headers=headers, json=payload)
        self.fake._record(request)
        try:
            self._respond(path, payload, malformed)
        except ConnectionError:  # the client went away while we were answering
            self.close_connection = True

    def _respond(self, path: str, payload: Any, malformed: bool) -> None:
        route = _ROUTES.get((self.command, path))
        if not self.fake._authorized(self.headers.get("Authorization")):
            return self._send_error(401, "Incorrect API key provided.")
        if route is None:
            return self._send_error(404, f"Unknown request URL: {self.command} {path}")
        if malformed or (self.command == "POST" and not isinstance(payload, dict)):
            return self._send_error(400, "We could not parse the JSON body of your request.")
        try:
            route(self, payload or {})
        except _BadRequest as exc:
            self._send_error(400, str(exc))

    # ----------------------------------------------------------------------- routes

    def _chat(self, payload: dict[str, Any]) -> None:
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest("'messages' must be a non-empty array")
        reply = self._scripted(self.fake._next_chat_reply())
        if reply is None:
            return
        model = str(payload.get("model") or FAKE_MODEL)
        prompt_tokens = _prompt_tokens(messages)
        if not payload.get("stream"):
            return self._send_json(_completion_payload(reply, model, prompt_tokens), reply)
        options = payload.get("stream_options") or {}
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        events = _stream_events(reply, model, prompt_tokens, include_usage)
        self._send_stream(events, reply)

    def _embeddings(self, payload: dict[str, Any]) -> None:
        texts = _embedding_inputs(payload.get("input"))
        if texts is None:
            raise _BadRequest("'input' must be a string or a non-empty array of strings")
        dimensions = payload.get("dimensions")
        dim = dimensions if isinstance(dimensions, int) and dimensions > 0 else None
        if self.fake.embedding_delay and not self.fake._sleep(self.fake.embedding_delay):
            self.close_connection = True  # the server is stopping
            return
        reply = self._scripted(self.fake._next_error_reply())
        if reply is None:
            return
        model = str(payload.get("model") or FAKE_MODEL)
        encoding_format = str(payload.get("encoding_format") or "float")
        dim = dim or self.fake.embedding_dim
        self._send_json(_embeddings_payload(texts, model, dim, encoding_format), reply)

    def _models(self, payload: dict[str, Any]) -> None:
        reply = self._scripted(self.fake._next_error_reply())
        if reply is None:
            return
        model = {"id": FAKE_MODEL, "object": "model", "created": 0, "owned_by": "kotaemon-tests"}
        self._send_json({"object": "list", "data": [model]}, reply)

    def _scripted(self, reply: ScriptedReply) -> ScriptedReply | None:
        """Apply the reply's delay and error status; None when the request is fully handled."""
        if reply.delay and not self.fake._sleep(reply.delay):
            self.close_connection = True  # the server is stopping
            return None
        if reply.is_error:
            self._send_error(reply.status, reply.content, reply.headers)
            return None
        return reply

    # ----------------------------------------------------------------------- writing

    def _send_error(
        self, status: int, message: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self._send_body(status, json.dumps(_error_payload(status, message)).encode(), headers)

    def _send_json(self, payload: dict[str, Any], reply: ScriptedReply) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_body(reply.status, body, reply.headers)

    def _send_body(self, status: int, body: bytes, headers: Mapping[str, str] | None) -> None:
        framing = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        self._send_headers(status, {**framing, **(headers or {})})
        self.wfile.write(body)

    def _send_stream(self, events: Iterable[dict[str, Any]], reply: ScriptedReply) -> None:
        self._send_headers(reply.status, {**_STREAM_HEADERS, **reply.headers})
        try:
            for i, event in enumerate(events):
                if i and reply.chunk_delay and not self.fake._sleep(reply.chunk_delay):
                    self.close_connection = True
                    return
                if i == reply.stall_after:  # hang mid-stream until the client gives up
                    self.fake._sleep(60)
                    self.close_connection = True
                    return
                self._write_chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")  # the zero-length chunk that ends the body
        except ConnectionError:
            self.close_connection = True
            self.fake._record_disconnect()

    def _send_headers(self, status: int, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("x-request-id", _new_id("req"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))


_STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "Transfer-Encoding": "chunked",
}

_ROUTES: dict[tuple[str, str], Callable[[_Handler, dict[str, Any]], None]] = {
    ("POST", CHAT_PATH): _Handler._chat,
    ("POST", EMBEDDINGS_PATH): _Handler._embeddings,
    ("GET", MODELS_PATH): _Handler._models,
}


class _HTTPServer(ThreadingHTTPServer):
    """Tracks open connections so that :meth:`close_connections` can unblock their threads."""

    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads

    def __init__(self, fake: FakeOpenAIServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._closing = False

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            if self._closing:
                _shutdown(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open connection: blocked reads see EOF, writes fail."""
        with self._lock:
            self._closing = True
            for connection in self._connections:
                _shutdown(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a vanished client is normal
            super().handle_error(request, client_address)


def _shutdown(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- public API


class FakeOpenAIServer:
    """An OpenAI-compatible HTTP server on ``127.0.0.1``, scripted by the test using it.

    :param api_key: when set, requests without ``Authorization: Bearer <api_key>`` get 401.
    :param embedding_dim: default size of the vectors from ``/v1/embeddings``
        (a request's ``dimensions`` overrides it).
    :param default_reply: the chat answer used when no scripted reply is queued.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        embedding_dim: int = 8,
        default_reply: str = DEFAULT_REPLY,
    ) -> None:
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self.default_reply = default_reply
        #: Seconds every embeddings request waits before it is answered (set it any time).
        self.embedding_delay = 0.0
        self.disconnects = 0  # streams the client abandoned before the end
        self._state = threading.Condition()
        self._replies: deque[ScriptedReply] = deque()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAIServer is already started")
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and pending sleeps, and close every socket."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what ``openai.OpenAI(base_url=...)`` expects."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ----------------------------------------------------------------------- scripting

    def reply(
        self,
        content: str | None = None,
        *,
        tool_calls: Sequence[Mapping[str, Any]] = (),
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        finish_reason: str | None = None,
        stall_after: int | None = None,
    ) -> None:
        """Queue the answer to the next chat completion (or, for an error, the next request).

        :param content: the assistant's text; None with no ``tool_calls`` means
            :attr:`default_reply`.  For an error reply, the error message.
        :param tool_calls: ``{"name": ..., "arguments": dict or JSON string, "id": optional}``.
        :param status: >= 400 sends an OpenAI-style error JSON instead of an answer.
        :param headers: extra response headers, e.g. ``{"Retry-After": "0"}``.
        :param delay: seconds to wait before answering (for timeout tests).
        :param chunk_delay: seconds to wait between streamed chunks (for disconnect tests).
        :param finish_reason: overrides ``"stop"`` / ``"tool_calls"``, e.g. ``"length"``.
        :param stall_after: in streaming mode, send this many chunks, then hang (mid-stream
            failure tests; the server stops waiting when it is stopped).
        """
        calls = tuple(ToolCall.from_spec(spec) for spec in tool_calls)
        scripted = ScriptedReply(
            content,
            calls,
            status,
            dict(headers or {}),
            delay,
            chunk_delay,
            finish_reason,
            stall_after,
        )
        with self._state:
            self._replies.append(scripted)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._state:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests received so far."""
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == CHAT_PATH]

    def wait_for_disconnects(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` client disconnects were seen; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: self.disconnects >= count, timeout)

    # ----------------------------------------------------------------------- for the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._state:
            self._requests.append(request)

    def _record_disconnect(self) -> None:
        if self._stopping.is_set():
            return  # our own shutdown, not the client's doing
        with self._state:
            self.disconnects += 1
            self._state.notify_all()

    def _authorized(self, authorization: str | None) -> bool:
        return self.api_key is None or authorization == f"Bearer {self.api_key}"

    def _next_chat_reply(self) -> ScriptedReply:
        with self._state:
            reply = self._replies.popleft() if self._replies else ScriptedReply()
        if reply.content is None and not reply.tool_calls and not reply.is_error:
            return replace(reply, content=self.default_reply)
        return reply

    def _next_error_reply(self) -> ScriptedReply:
        """The queued error reply if it is next in line; a plain success otherwise."""
        with self._state:
            if self._replies and self._replies[0].is_error:
                return self._replies.popleft()
        return ScriptedReply()

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops meanwhile; True when the full delay elapsed."""
        return not self._stopping.wait(seconds)
