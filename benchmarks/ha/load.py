"""The load generator: a bounded mix of the service's requests, each judged and timed.

A fixed number of asyncio tasks (the concurrency) send requests back to back until the run is
stopped, the request budget is spent or the time limit passes. The client behaves as a sane one
would: it sends a request a second time only when the connection failed before any byte of a
response arrived (once), and counts everything else that is not the promised answer as failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .documents import Upload, small_document
from .outcomes import (
    Failure,
    SSEParser,
    failure_of_exception,
    failure_of_status,
    is_retryable,
    judge_chat,
    judge_chat_stream,
    judge_completion,
    judge_completion_stream,
    judge_search,
    judge_upload,
)

log = logging.getLogger("benchmarks.ha")

SHUTTING_DOWN = "http_503:shutting_down"

QUESTIONS = (
    "What is the late payment fee?",
    "How long is the grace period after the payment due date?",
    "How do I report a lost card?",
    "Can the annual fee be waived?",
    "What is the daily interest rate on my credit card?",
    "How much is the foreign transaction fee?",
    "What is the cash advance fee?",
    "Will the bank ever ask for my PIN?",
    "How long is a one-time code valid?",
    "How do I freeze my card in the app?",
    "What does a replacement card cost?",
    "What are the customer service hours?",
    "信用卡还款的宽限期是几天？",
    "年费可以减免吗？",
    "滞纳金怎么收？",
    "信用卡丢了怎么办？",
    "境外交易手续费是多少？",
    "取现手续费是多少？",
    "日利率是多少？",
    "补卡要多少钱？",
)

#: Relative weights of the operations (uploads are also capped in number).
DEFAULT_MIX: Mapping[str, float] = {
    "chat": 24,
    "chat_stream": 20,
    "search": 22,
    "completion": 12,
    "completion_stream": 12,
    "upload": 4,
}


@dataclass(frozen=True)
class Result:
    """One request as the client saw it (``cause`` None: it succeeded). It belongs to the
    phase in which it ended: a request cut by a fault counts where the fault struck."""

    op: str
    phase: str
    start: float  # seconds since the run began
    latency: float  # seconds
    cause: str | None
    detail: str = ""
    retried: bool = False
    #: Sent again after the first response broke mid-body (possible with an idempotency key).
    resumed: bool = False


class Timeline:
    """The run's clock, its current phase (the chaos schedule moves it on) and its events."""

    def __init__(self, phase: str = "steady") -> None:
        self.t0 = time.monotonic()
        self.phase = phase
        self.events: list[dict[str, Any]] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.note("phase")

    def note(self, event: str, **fields: Any) -> None:
        entry = {"t": round(self.now(), 3), "phase": self.phase, "event": event, **fields}
        self.events.append(entry)
        log.info(event, extra=entry)


@dataclass(frozen=True)
class LoadSettings:
    concurrency: int = 16
    max_requests: int = 100_000
    max_seconds: float = 900.0
    timeout_seconds: float = 60.0
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    max_uploads: int = 300
    collection: str = "bank"
    upload_collection: str = "ha-uploads"
    seed: str = "ha"


class _Call:
    """Whether the request of one operation had to be sent twice."""

    retried = False
    resumed = False
    #: Sent as ``Idempotency-Key`` by the answering operations: the service replays an answer
    #: it recorded under it, so a stream cut mid-answer may be asked for again.
    key: str | None = None


class LoadGenerator:
    """Sends the mix to ``base_url`` until :meth:`run`'s ``stop`` is set (or a bound is hit).

    Example::

        load = LoadGenerator("http://127.0.0.1:8080", LoadSettings(), Timeline())
        stop = asyncio.Event()
        task = asyncio.create_task(load.run(stop))
        ...                                   # the chaos schedule
        stop.set(); await task
        load.results, load.uploads
    """

    def __init__(self, base_url: str, settings: LoadSettings, timeline: Timeline) -> None:
        unknown = set(settings.mix) - set(_OPERATIONS)
        if unknown:
            raise ValueError(
                f"unknown operations {sorted(unknown)}; choose from {sorted(_OPERATIONS)}"
            )
        self.base_url = base_url
        self.settings = settings
        self.timeline = timeline
        self.results: list[Result] = []
        self.uploads: list[Upload] = []
        self._rng = random.Random(settings.seed)
        self._sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        deadline = time.monotonic() + s.max_seconds
        limits = httpx.Limits(
            max_connections=s.concurrency, max_keepalive_connections=s.concurrency
        )
        timeout = httpx.Timeout(s.timeout_seconds, connect=5.0)
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, limits=limits
        ) as client:

            async def sender() -> None:
                while (
                    not stop.is_set()
                    and self._sent < s.max_requests
                    and time.monotonic() < deadline
                ):
                    self._sent += 1
                    self.results.append(await self.one(client, self._pick()))

            await asyncio.gather(*(sender() for _ in range(s.concurrency)))

    def _pick(self) -> str:
        mix = dict(self.settings.mix)
        if len(self.uploads) >= self.settings.max_uploads:
            mix.pop("upload", None)
        return self._rng.choices(list(mix), weights=list(mix.values()))[0]

    async def one(self, client: httpx.AsyncClient, op: str) -> Result:
        """Send one request of operation ``op`` and judge the answer."""
        start, began = self.timeline.now(), time.perf_counter()
        call = _Call()
        try:
            await _OPERATIONS[op](self, client, call)
        except Failure as failure:
            phase = self.timeline.phase
            detail = failure.detail[:200]
            log.warning(
                "request failed",
                extra={"op": op, "phase": phase, "started": round(start, 3),
                       "cause": failure.cause, "detail": detail},
            )  # fmt: skip
            latency = time.perf_counter() - began
            return Result(
                op, phase, start, latency, failure.cause, failure.detail, call.retried,
                call.resumed,
            )  # fmt: skip
        latency = time.perf_counter() - began
        return Result(op, self.timeline.phase, start, latency, None, "", call.retried, call.resumed)

    # ----------------------------------------------------------------- sending

    async def _send(
        self,
        client: httpx.AsyncClient,
        call: _Call,
        url: str,
        read: Callable[[httpx.Response], Awaitable[Any]],
        **kwargs: Any,
    ) -> Any:
        """POST once, or twice when the connection failed before any response byte -- or, for
        a request that carries an idempotency key, also when it broke mid-response (a replica
        killed while it streamed): the second attempt cannot record a second answer."""
        if call.key is not None:
            kwargs["headers"] = {"Idempotency-Key": call.key}
        for attempt in range(2):
            in_body = False
            try:
                async with client.stream("POST", url, **kwargs) as response:
                    in_body = True
                    return await read(response)
            except Failure as failure:
                # A replica whose shutdown cut the request short says so (503 shutting_down,
                # Retry-After): under its key the request may be sent again.
                if call.key is not None and attempt == 0 and failure.cause == SHUTTING_DOWN:
                    call.retried = True
                    continue
                raise
            except httpx.HTTPError as exc:
                resumable = not in_body or call.key is not None
                if resumable and attempt == 0 and is_retryable(exc):
                    call.retried, call.resumed = True, in_body
                    continue
                raise failure_of_exception(exc, in_body=in_body) from exc
        raise AssertionError("unreachable")

    def _key(self) -> str:
        return str(uuid.uuid4())  # unique across generators and runs, unlike the seeded rng

    def _question(self) -> str:
        return self._rng.choice(QUESTIONS)

    # ----------------------------------------------------------------- operations

    async def _chat(self, client: httpx.AsyncClient, call: _Call) -> None:
        call.key = self._key()
        body = {"question": self._question(), "collections": [self.settings.collection]}
        judge_chat(await self._send(client, call, "/v1/chat", _json_of(200), json=body))

    async def _chat_stream(self, client: httpx.AsyncClient, call: _Call) -> None:
        call.key = self._key()
        body = {
            "question": self._question(),
            "collections": [self.settings.collection],
            "stream": True,
        }
        judge_chat_stream(await self._send(client, call, "/v1/chat", _frames, json=body))

    async def _search(self, client: httpx.AsyncClient, call: _Call) -> None:
        body = {"query": self._question(), "collections": [self.settings.collection]}
        judge_search(await self._send(client, call, "/v1/search", _json_of(200), json=body))

    def _completion_body(self, stream: bool) -> dict[str, Any]:
        messages = [{"role": "user", "content": self._question()}]
        return {"model": self.settings.collection, "messages": messages, "stream": stream}

    async def _completion(self, client: httpx.AsyncClient, call: _Call) -> None:
        call.key = self._key()
        body = self._completion_body(stream=False)
        judge_completion(
            await self._send(client, call, "/v1/chat/completions", _json_of(200), json=body)
        )

    async def _completion_stream(self, client: httpx.AsyncClient, call: _Call) -> None:
        call.key = self._key()
        body = self._completion_body(stream=True)
        judge_completion_stream(
            await self._send(client, call, "/v1/chat/completions", _frames, json=body)
        )

    async def _upload(self, client: httpx.AsyncClient, call: _Call) -> None:
        source, data = small_document(self.settings.seed, len(self.uploads))
        upload = Upload(source, data)
        self.uploads.append(upload)
        url = f"/v1/collections/{self.settings.upload_collection}/documents"
        files = {"files": (source, data, "text/plain")}
        try:
            payload = await self._send(client, call, url, _json_of(202), files=files)
            upload.job_ids.append(judge_upload(payload))
        except Failure:
            upload.requests_failed += 1
            raise


def _json_of(status: int) -> Callable[[httpx.Response], Awaitable[Any]]:
    """A reader that wants ``status`` and a JSON body."""

    async def read(response: httpx.Response) -> Any:
        body = await response.aread()
        if response.status_code != status:
            raise failure_of_status(response.status_code, body)
        try:
            return response.json()
        except ValueError:
            raise Failure("bad_shape:not_json", body[:200].decode(errors="replace")) from None

    return read


async def _frames(response: httpx.Response) -> list[Any]:
    """An event stream's frames, read to its end."""
    if response.status_code != 200:
        raise failure_of_status(response.status_code, await response.aread())
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        raise Failure("bad_shape:not_an_event_stream", response.headers.get("content-type", ""))
    parser, frames = SSEParser(), []
    async for text in response.aiter_text():
        frames += parser.feed(text)
    return frames


_OPERATIONS: dict[str, Callable[[LoadGenerator, httpx.AsyncClient, _Call], Awaitable[None]]] = {
    "chat": LoadGenerator._chat,
    "chat_stream": LoadGenerator._chat_stream,
    "search": LoadGenerator._search,
    "completion": LoadGenerator._completion,
    "completion_stream": LoadGenerator._completion_stream,
    "upload": LoadGenerator._upload,
}
