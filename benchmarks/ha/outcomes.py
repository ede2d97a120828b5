"""How the load generator judges a response: a success, or a failure with one cause.

Causes, so that a report says why requests failed and not only how many:

* ``connection_error``: no response at all (after the client's one retry, see
  :func:`is_retryable`);
* ``timeout``: no response, or the rest of a stream, within the client's timeout;
* ``http_<status>[:<code>]``: an error response, with the service's error code when the body
  is the service's (or OpenAI's) error envelope, e.g. ``http_503:not_ready``; a bare
  ``http_502`` or ``http_503`` comes from the balancer;
* ``stream_cut``: an event stream that ended without its last event (``done`` or ``error``,
  ``[DONE]`` in the OpenAI-compatible stream);
* ``stream_error:<code>``: a stream that ended with an ``error`` event;
* ``bad_shape:<what>``: a 2xx answer that is not what the API promises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

CONNECTION_ERROR = "connection_error"
TIMEOUT = "timeout"
STREAM_CUT = "stream_cut"


class Failure(Exception):
    """A request that failed, with its cause (see the module) and a detail for the log."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause = cause
        self.detail = detail


def is_retryable(exc: BaseException) -> bool:
    """Whether a sane client sends the request again: the connection failed before any byte of
    a response came (refused, reset, closed without an answer). Not a timeout on an established
    connection (the server may still be working on it), never after a response began."""
    return isinstance(
        exc,
        httpx.ConnectError
        | httpx.ConnectTimeout
        | httpx.RemoteProtocolError
        | httpx.ReadError
        | httpx.WriteError,
    )


def failure_of_exception(exc: httpx.HTTPError, *, in_body: bool) -> Failure:
    """The failure a transport error means, before the response (``in_body`` False) or while
    its body was read."""
    if isinstance(exc, httpx.TimeoutException):
        return Failure(TIMEOUT, type(exc).__name__)
    if in_body:
        return Failure(STREAM_CUT, f"{type(exc).__name__}: {exc}")
    return Failure(CONNECTION_ERROR, f"{type(exc).__name__}: {exc}")


def failure_of_status(status: int, body: bytes) -> Failure:
    """The failure an error response means, with the error code its body carries."""
    code = _error_code(body)
    return Failure(
        f"http_{status}:{code}" if code else f"http_{status}", body[:200].decode(errors="replace")
    )


def _error_code(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None  # HAProxy's own error pages are HTML
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else None


@dataclass(frozen=True)
class Frame:
    """One event of a ``text/event-stream``: its ``event:`` name (None when absent) and data."""

    event: str | None
    data: str


class SSEParser:
    """Cuts a ``text/event-stream`` into frames as its text arrives; comments (``: ping``) are
    dropped.

    Example::

        parser = SSEParser()
        frames = parser.feed('event: delta\\ndata: {"text":"Hi"}\\n\\nevent: do')
        frames += parser.feed('ne\\ndata: {}\\n\\n')       # [delta, done]
        parser.pending                                     # "" at a clean end
    """

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, text: str) -> list[Frame]:
        self.pending += text.replace("\r\n", "\n")
        *complete, self.pending = self.pending.split("\n\n")
        frames = []
        for block in complete:
            event, data = None, []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data.append(line.removeprefix("data:").removeprefix(" "))
            if event is not None or data:
                frames.append(Frame(event, "\n".join(data)))
        return frames


def judge_chat_stream(frames: list[Frame]) -> None:
    """``/v1/chat`` with ``stream``: events end with exactly one ``done`` (with the answer's
    text) or ``error``. :raises Failure: otherwise."""
    if not frames or frames[-1].event not in ("done", "error"):
        last = frames[-1].event if frames else "nothing"
        raise Failure(STREAM_CUT, f"{len(frames)} events, the last {last}")
    final = frames[-1]
    payload = _json(final.data, "event")
    if final.event == "error":
        raise Failure(f"stream_error:{payload.get('code')}", str(payload.get("message")))
    _expect(isinstance(payload.get("answer", {}).get("text"), str), "done_without_answer")


def judge_completion_stream(frames: list[Frame]) -> None:
    """The OpenAI-compatible stream: chunks, one with ``finish_reason`` ``stop``, then
    ``[DONE]``; an ``error`` object instead of the chunks fails. :raises Failure: otherwise."""
    if not frames or frames[-1].data != "[DONE]":
        raise Failure(STREAM_CUT, f"{len(frames)} frames, no [DONE]")
    chunks = [_json(f.data, "chunk") for f in frames[:-1]]
    for chunk in chunks:
        if "error" in chunk:
            raise Failure(
                f"stream_error:{chunk['error'].get('code')}", chunk["error"].get("message", "")
            )
    finished = [c for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
    _expect(bool(finished) and finished[-1]["choices"][0]["finish_reason"] == "stop", "no_stop")


def judge_chat(payload: Any) -> None:
    _expect(isinstance(payload, dict) and isinstance(payload.get("text"), str), "chat_without_text")
    _expect(isinstance(payload.get("citations"), list), "chat_without_citations")


def judge_search(payload: Any) -> None:
    chunks = payload.get("chunks") if isinstance(payload, dict) else None
    _expect(isinstance(chunks, list), "search_without_chunks")
    _expect(bool(chunks), "search_found_nothing")  # every query is about the knowledge base


def judge_completion(payload: Any) -> None:
    ok = isinstance(payload, dict) and payload.get("object") == "chat.completion"
    _expect(ok and isinstance(payload["choices"][0]["message"]["content"], str), "not_a_completion")


def judge_upload(payload: Any) -> str:
    """An upload's answer: one queued job; its id. :raises Failure: otherwise."""
    jobs = payload.get("jobs") if isinstance(payload, dict) else None
    _expect(isinstance(jobs, list) and len(jobs) == 1 and "id" in jobs[0], "upload_without_job")
    return str(jobs[0]["id"])  # type: ignore[index]


def _json(data: str, what: str) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except ValueError:
        raise Failure(f"bad_shape:{what}_not_json", data[:200]) from None
    if not isinstance(payload, dict):
        raise Failure(f"bad_shape:{what}_not_object", data[:200])
    return payload


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise Failure(f"bad_shape:{what}")
