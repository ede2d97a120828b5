"""Every error leaves the service as ``{"error": {"code": ..., "message": ...}}`` with a fitting
HTTP status.

Engine errors keep their stable ``code`` and are served with their class's ``status`` (see
:mod:`kotaemon.core.errors`); an ``error`` event of the answer stream carries the status of the
error it came from. Anything else is a 500 ``internal_error`` whose details go to the log,
never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kotaemon.core.errors import KotaemonError
from kotaemon.core.schema import ErrorEvent
from kotaemon.server.models import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "the server failed unexpectedly; retry, and tell its operator if it persists"

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}

_DESCRIPTIONS = {
    400: "Malformed request (`malformed_json`).",
    401: "Missing, invalid or expired credentials (`unauthenticated`, `invalid_token`, "
    "`invalid_api_key`).",
    403: "The caller may not do this (`permission_denied`, `insufficient_scope`, `csrf_failed`).",
    404: "Unknown id or route (`collection_not_found`, `document_not_found`, `job_not_found`, "
    "`conversation_not_found`, `answer_not_found`, `not_found`).",
    409: "Conflicts with stored state (`collection_exists`, `embedding_model_mismatch`).",
    413: "Request body over KOTAEMON_MAX_REQUEST_BYTES, or an upload over its limits "
    "(`request_too_large`, `file_too_large`).",
    415: "A file of an unsupported type, judged by its content (`unsupported_file`).",
    422: "Invalid request (`invalid_request`, naming the field, or an engine code).",
    429: "Too many requests (`rate_limited`, with Retry-After), or the LLM is rate-limiting "
    "the service (`llm_rate_limited`).",
    500: "Unexpected failure (`internal_error`); details are in the server log.",
    502: "The LLM or embedding backend failed (`llm_failed`, `llm_unreachable`, ...).",
    503: "Overloaded (`overloaded`, with Retry-After) or the database is unavailable.",
    504: "The request or the LLM took too long (`request_timeout`, `llm_timeout`).",
}

#: Failures any API route may answer with.
COMMON_ERRORS = (401, 403, 413, 429, 500, 503, 504)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, all with the :class:`ErrorResponse`."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in statuses}


def public_error(error: KotaemonError) -> tuple[int, str, str]:
    """``(status, code, message)`` as a client may see them: a 500 hides its details."""
    if error.status == 500:
        log.error("request failed: code=%s message=%s", error.code, error.message)
        return 500, "internal_error", INTERNAL_MESSAGE
    return error.status, error.code, error.message


def public_event(event: ErrorEvent) -> ErrorEvent:
    """An ``error`` event as a client may see it (see :func:`public_error`)."""
    error = event.error()
    status, error.code, error.message = public_error(error)
    error.status = status
    return ErrorEvent.of(error)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _kotaemon_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KotaemonError)
    return error_response(*public_error(exc), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    for error in errors:
        if error["type"] == "json_invalid":
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            position = error["loc"][-1]
            return error_response(
                400, "malformed_json", f"the body is not valid JSON ({reason} at {position})"
            )
    problems = "; ".join(_describe(error) for error in errors[:5])
    return error_response(422, "invalid_request", problems or "invalid request")


def _describe(error: Mapping[str, Any]) -> str:
    """``question: String should have at most 4000 characters``."""
    where, *path = error["loc"]
    field = ".".join(str(part) for part in path) or where
    if where == "body" and not path and isinstance(error.get("input"), bytes | bytearray):
        return "body: send a JSON object, with the header Content-Type: application/json"
    if where != "body":
        field = f"{field} ({where} parameter)"
    return f"{field}: {error['msg']}"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The body of a 500; the server logs the traceback (Starlette re-raises the error)."""
    return error_response(500, "internal_error", INTERNAL_MESSAGE)


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to a JSON error body."""
    app.add_exception_handler(KotaemonError, _kotaemon_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
