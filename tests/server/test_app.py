"""The app factory and its OpenAPI description."""

from __future__ import annotations

import re

import httpx
import pytest

from kotaemon.server import create_app
from kotaemon.settings import Settings


def test_every_route_is_documented() -> None:
    spec = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
    routes = {
        (path, method): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    assert set(routes) == {
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/v1/chat", "post"),
        ("/v1/search", "post"),
        ("/v1/collections", "get"),
        ("/v1/collections", "post"),
        ("/v1/collections/{name}", "get"),
        ("/v1/collections/{name}", "patch"),
        ("/v1/collections/{name}", "delete"),
        ("/v1/collections/{name}/documents", "get"),
        ("/v1/collections/{name}/documents", "post"),
        ("/v1/collections/{name}/documents/{document_id}", "delete"),
        ("/v1/collections/{name}/documents/{document_id}/reindex", "post"),
        ("/v1/collections/{name}/reindex", "post"),
        ("/v1/collections/{name}/jobs", "get"),
        ("/v1/jobs/{job_id}", "get"),
        ("/v1/conversations", "get"),
        ("/v1/conversations/{conversation_id}", "get"),
        ("/v1/conversations/{conversation_id}", "delete"),
        ("/v1/answers/{answer_id}/feedback", "post"),
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
        ("/v1/admin/api-keys", "post"),
        ("/v1/admin/api-keys", "get"),
        ("/v1/admin/api-keys/{key_id}", "delete"),
        ("/v1/admin/audit", "get"),
        ("/v1/admin/users/{user_id}/data", "delete"),
        ("/v1/evals", "post"),
        ("/v1/evals", "get"),
        ("/v1/evals/{run_id}", "get"),
        ("/v1/evals/{run_id}/results", "get"),
        ("/v1/evals/{run_id}/report", "get"),
        ("/auth/login", "get"),
        ("/auth/callback", "get"),
        ("/auth/session", "get"),
        ("/auth/logout", "post"),
    }
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for (path, method), operation in routes.items():
        assert operation.get("summary"), (path, method)
        responses = operation["responses"]
        success = next(status for status in responses if status[0] in "23")
        if path == "/v1/evals/{run_id}/report":  # the HTML report; its errors stay JSON
            assert list(responses[success]["content"]) == ["text/html"]
        elif success not in ("204", "302") and path != "/metrics":
            assert "$ref" in responses[success]["content"]["application/json"]["schema"]
        if path.startswith("/v1/"):
            for status in ("500", "503", "504"):
                assert responses[status]["content"]["application/json"]["schema"] == error_ref
        if "requestBody" in operation:
            [(media_type, body)] = operation["requestBody"]["content"].items()
            assert media_type in ("application/json", "multipart/form-data"), path
            assert "$ref" in body["schema"]
        if method in ("post", "patch") and path != "/auth/logout":
            assert responses["422"]["content"]["application/json"]["schema"] == error_ref
    for streaming in ("/v1/chat", "/v1/chat/completions"):
        assert "text/event-stream" in routes[(streaming, "post")]["responses"]["200"]["content"]
    schemas = spec["components"]["schemas"]
    assert "ChatRequest" in schemas and "Answer" in schemas and "HTTPValidationError" not in schemas


@pytest.mark.anyio
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_reference_pages_load_nothing_from_another_host(page: str) -> None:
    """Offline, or behind a default-deny network policy, /docs must still work."""
    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kotaemon.test") as client:
        html = (await client.get(page)).raise_for_status().text
        assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assets += re.findall(r"""url\s*:\s*["']([^"']+)["']""", html)  # the spec's URL
        assert any(a.endswith(".js") for a in assets), html
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), asset
            response = await client.get(asset)
            assert response.status_code == 200, asset
        assert "validator.swagger.io" not in html and "fonts.googleapis" not in html
        if page == "/docs":
            assert '"validatorUrl": null' in html  # Swagger UI would call its online validator
