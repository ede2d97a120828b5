"""Every failure is a JSON error with a stable code: over HTTP, and the mapping in isolation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from kotaemon.core.errors import (
    ConfigurationError,
    ConflictError,
    EmbeddingModelMismatchError,
    FileTooLargeError,
    InvalidInputError,
    KotaemonError,
    LLMError,
    LLMRateLimitedError,
    LLMTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    StoreTimeoutError,
    UnavailableError,
    UnsupportedFileError,
)
from kotaemon.core.schema import ErrorEvent
from kotaemon.server.errors import (
    INTERNAL_MESSAGE,
    install_error_handlers,
    public_error,
    public_event,
)

from .conftest import error_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInputError("bad", code="empty_query"), 422),
        (NotFoundError("gone", code="collection_not_found"), 404),
        (PermissionDeniedError("no"), 403),
        (ConflictError("taken", code="collection_exists"), 409),
        (EmbeddingModelMismatchError("other model"), 409),
        (StoreError("down"), 503),
        (StoreTimeoutError("slow"), 503),
        (UnavailableError("starting", code="not_ready"), 503),
        (LLMError("broken"), 502),
        (LLMTimeoutError("slow"), 504),
        (LLMRateLimitedError("busy"), 429),
        (UnsupportedFileError("exe"), 415),
        (FileTooLargeError("huge"), 413),
    ],
)
def test_each_error_is_served_with_its_class_status(error: KotaemonError, status: int) -> None:
    assert public_error(error) == (status, error.code, error.message)
    # An answer stream's error event keeps the status of the error it came from.
    event = ErrorEvent.of(error)
    assert event.status == status
    assert public_event(event).status == status


@pytest.mark.parametrize("error", [ConfigurationError("the key sk-1 is wrong"), KotaemonError("?")])
def test_a_500_hides_its_message(error: KotaemonError) -> None:
    assert public_error(error) == (500, "internal_error", INTERNAL_MESSAGE)
    assert public_event(ErrorEvent.of(error)).message == INTERNAL_MESSAGE


def test_every_error_class_carries_its_status() -> None:
    """No status is guessed from a code's spelling: the class says it."""

    def subclasses(cls: type[KotaemonError]) -> list[type[KotaemonError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    for cls in subclasses(KotaemonError):
        assert isinstance(cls.status, int) and 400 <= cls.status <= 599, cls


@pytest.mark.anyio
async def test_unexpected_errors_hide_their_details() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/misconfigured")
    async def misconfigured() -> None:
        raise ConfigurationError("the key sk-123 is wrong")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/boom", "/misconfigured"):
            response = await client.get(path)
            assert response.status_code == 500
            assert error_of(response) == {"code": "internal_error", "message": INTERNAL_MESSAGE}


@pytest.mark.integration
class TestOverHTTP:
    def test_malformed_json(self, client: httpx.Client) -> None:
        response = client.post(
            "/v1/chat", content=b'{"question": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "malformed_json" and "not valid JSON" in error["message"]

    def test_body_that_is_not_json(self, client: httpx.Client) -> None:
        response = client.post("/v1/search", content=b"query=fees")
        assert response.status_code == 422
        assert "Content-Type: application/json" in error_of(response)["message"]

    def test_unknown_route(self, client: httpx.Client) -> None:
        response = client.get("/v1/nothing-here")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_wrong_method(self, client: httpx.Client) -> None:
        response = client.get("/v1/chat")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
        assert response.headers["allow"] == "POST"

    def test_oversize_body_with_length(self, client: httpx.Client) -> None:
        body = b'{"query": "' + b"x" * 2**20 + b'"}'
        response = client.post(
            "/v1/search", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        error = error_of(response)
        assert error["code"] == "request_too_large" and "1048576 bytes" in error["message"]

    def test_oversize_chunked_body(self, client: httpx.Client) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"query": "'
            for _ in range(20):
                yield b"x" * 2**16
            yield b'"}'

        response = client.post(
            "/v1/search", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert error_of(response)["code"] == "request_too_large"
