"""Logs as one JSON object per line, each with the trace, span and request it belongs to.

The service (``serve``, ``worker``) logs JSON to stdout; other commands log text to stderr, so
their stdout carries only the answer. ``KOTAEMON_LOG_FORMAT`` and ``KOTAEMON_LOG_LEVEL`` choose.
Extra fields given with ``log.info("…", extra={…})`` become keys of the object.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from kotaemon.observability.tracing import current_ids

LogFormat = Literal["json", "text"]

#: Set by the HTTP middleware for the request being served (and read by every log line).
REQUEST_ID: ContextVar[str | None] = ContextVar("kotaemon_request_id", default=None)
USER_ID: ContextVar[str | None] = ContextVar("kotaemon_user_id", default=None)
ROUTE: ContextVar[str | None] = ContextVar("kotaemon_route", default=None)

#: Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, ids, and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = current_ids()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = {
            "trace_id": trace_id,
            "span_id": span_id,
            "request_id": REQUEST_ID.get(),
            "user_id": USER_ID.get(),
            "route": ROUTE.get(),
        }
        entry.update({k: v for k, v in context.items() if v is not None})
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str, log_format: LogFormat, stream: TextIO = sys.stdout) -> None:
    """Send every log record (ours, uvicorn's, procrastinate's) to ``stream``, in one format."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per check otherwise
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
