"""The app factory and its OpenAPI description."""

from __future__ import annotations

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
        ("/v1/chat", "post"),
        ("/v1/search", "post"),
        ("/v1/collections", "get"),
        ("/v1/collections", "post"),
        ("/v1/collections/{name}", "get"),
        ("/v1/collections/{name}", "delete"),
    }
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for (path, method), operation in routes.items():
        assert operation.get("summary"), (path, method)
        responses = operation["responses"]
        success = next(status for status in responses if status.startswith("2"))
        if success != "204":
            assert "$ref" in responses[success]["content"]["application/json"]["schema"]
        if path.startswith("/v1/"):
            for status in ("500", "503", "504"):
                assert responses[status]["content"]["application/json"]["schema"] == error_ref
        if method == "post":
            assert "$ref" in operation["requestBody"]["content"]["application/json"]["schema"]
            assert responses["422"]["content"]["application/json"]["schema"] == error_ref
    assert "text/event-stream" in routes[("/v1/chat", "post")]["responses"]["200"]["content"]
    schemas = spec["components"]["schemas"]
    assert "ChatRequest" in schemas and "Answer" in schemas and "HTTPValidationError" not in schemas
