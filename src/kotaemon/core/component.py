"""The component model: small parts with sync, async and streaming entry points."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread

from kotaemon.core.sync import iterate_sync, run_sync


class BaseComponent:
    """Base class of every pipeline part. Implement ``run`` *or* ``arun``; the other is derived.

    Example::

        class Shout(BaseComponent):
            def run(self, text: str) -> str:
                return text.upper()

        Shout().run("hi")            # "HI"
        await Shout().arun("hi")     # "HI", run in a worker thread
        list(Shout().stream("hi"))   # ["HI"]

    Subclasses need not call ``super().__init__()``: the base keeps no instance state.
    Expensive set-up (loading models, opening pools) belongs in an async ``open``, not in
    ``__init__``.
    """

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Synchronous entry point (derived from :meth:`arun` unless overridden)."""
        if type(self).arun is BaseComponent.arun:
            raise NotImplementedError(f"{type(self).__name__} must implement run() or arun()")
        return run_sync(functools.partial(self.arun, *args, **kwargs), name="run")

    async def arun(self, *args: Any, **kwargs: Any) -> Any:
        """Asynchronous entry point (derived from :meth:`run` unless overridden)."""
        if type(self).run is BaseComponent.run:
            raise NotImplementedError(f"{type(self).__name__} must implement run() or arun()")
        return await anyio.to_thread.run_sync(functools.partial(self.run, *args, **kwargs))

    async def astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Streaming entry point; components without partial results yield one final item."""
        yield await self.arun(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Synchronous iteration over :meth:`astream`."""
        return iterate_sync(self.astream(*args, **kwargs), name="stream")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(*args, **kwargs)
