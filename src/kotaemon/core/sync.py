"""Run kotaemon's async internals from synchronous code (scripts, the CLI, notebooks).

One process-wide event loop runs in a background thread (an anyio blocking portal). Resources
opened through it (database pools, HTTP clients) stay bound to that loop, so every synchronous
call goes through the same portal.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")

_lock = threading.Lock()
_portal: BlockingPortal | None = None
_portal_cm: AbstractContextManager[BlockingPortal] | None = None


def _get_portal() -> BlockingPortal:
    global _portal, _portal_cm
    with _lock:
        if _portal is None:
            _portal_cm = start_blocking_portal()
            _portal = _portal_cm.__enter__()
            atexit.register(_stop_portal)
        return _portal


def _stop_portal() -> None:
    global _portal, _portal_cm
    with _lock:
        if _portal_cm is not None:
            _portal_cm.__exit__(None, None, None)
        _portal = _portal_cm = None


def _refuse_inside_event_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{name}() is the synchronous entry point and cannot run inside an event loop; "
        f"await the async variant (a{name}) instead"
    )


def run_sync(func: Callable[..., Awaitable[T]], *args: Any, name: str = "run") -> T:
    """Call ``await func(*args)`` on the shared loop and return its result."""
    _refuse_inside_event_loop(name)
    return _get_portal().call(func, *args)


def iterate_sync(agen: AsyncIterator[T], *, name: str = "stream") -> Iterator[T]:
    """Iterate an async iterator from synchronous code, item by item."""
    _refuse_inside_event_loop(name)
    portal = _get_portal()
    try:
        while True:
            try:
                yield portal.call(agen.__anext__)
            except StopAsyncIteration:
                return
    finally:  # also when the caller stops early: close streams and connections now
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            portal.call(aclose)
