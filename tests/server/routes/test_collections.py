"""``/v1/collections`` over real HTTP: list, create, show, delete, and their errors."""

from __future__ import annotations

import httpx
import pytest

from ..conftest import error_of

pytestmark = pytest.mark.integration


def test_list_shows_the_ingested_collection(client: httpx.Client) -> None:
    response = client.get("/v1/collections")
    assert response.status_code == 200
    [bank] = [c for c in response.json()["collections"] if c["name"] == "bank"]
    assert bank["document_count"] == 7 and bank["chunk_count"] > 7
    assert bank["owner_id"] == "local" and bank["dim"] == 384
    assert "id" not in bank and "space_id" not in bank  # internal ids stay inside


def test_create_show_delete(client: httpx.Client) -> None:
    created = client.post("/v1/collections", json={"name": "notes-1", "description": "scratch"})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/collections/notes-1"
    body = created.json()
    assert body["name"] == "notes-1" and body["description"] == "scratch"
    assert body["document_count"] == 0 and body["embedding_model"]

    shown = client.get("/v1/collections/notes-1")
    assert shown.status_code == 200 and shown.json() == body

    again = client.post("/v1/collections", json={"name": "notes-1"})
    assert again.status_code == 409 and error_of(again)["code"] == "collection_exists"

    deleted = client.delete("/v1/collections/notes-1")
    assert deleted.status_code == 204 and deleted.content == b""

    gone = client.get("/v1/collections/notes-1")
    assert gone.status_code == 404 and error_of(gone)["code"] == "collection_not_found"
    assert client.delete("/v1/collections/notes-1").status_code == 404


@pytest.mark.parametrize("name", ["has space", "-leading-dash", "x" * 65, "中文"])
def test_invalid_name(client: httpx.Client, name: str) -> None:
    response = client.post("/v1/collections", json={"name": name})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_collection_name" and "letters, digits" in error["message"]


def test_missing_name(client: httpx.Client) -> None:
    response = client.post("/v1/collections", json={"description": "no name"})
    assert response.status_code == 422
    assert error_of(response)["message"] == "name: Field required"
