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
    InvalidInputError,
    KotaemonError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from kotaemon.server.errors import INTERNAL_MESSAGE, install_error_handlers, status_for

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
        (StoreError("slow", code="store_timeout"), 503),
        (LLMError("broken"), 502),
        (LLMError("slow", code="llm_timeout"), 504),
        (LLMError("busy", code="llm_rate_limited"), 429),
        (ConfigurationError("misconfigured"), 500),
        (KotaemonError("?"), 500),
    ],
)
def test_status_by_class_and_code(error: KotaemonError, status: int) -> None:
    assert status_for(error.code, error) == status
    if status != 500:  # an error event carries only the code: it maps the same way
        assert status_for(error.code) == status


def test_unknown_event_codes_map_by_family() -> None:
    assert status_for("llm_new_failure") == 502
    assert status_for("store_new_failure") == 503
    assert status_for("something_else") == 500


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
