"""``POST /v1/search`` over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from ..conftest import error_of

pytestmark = pytest.mark.integration


def test_hybrid_search_returns_scored_chunks(client: httpx.Client) -> None:
    response = client.post("/v1/search", json={"query": "late payment fee", "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["chunks"]) == 3
    assert 0 < body["top_dense_score"] <= 1
    top = body["chunks"][0]
    assert top["collection"] == "bank" and top["document_title"] and top["text"]
    scores = [c["score"] for c in body["chunks"]]
    assert scores == sorted(scores, reverse=True)


def test_keyword_mode_and_collection_filter(client: httpx.Client) -> None:
    body = {"query": "宽限期", "mode": "keyword", "collections": ["bank"], "top_k": 2}
    response = client.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["top_dense_score"] is None and len(found["chunks"]) == 2
    assert all(c["keyword_score"] is not None and c["dense_score"] is None for c in found["chunks"])
    assert "宽限期" in found["chunks"][0]["text"]


def test_metadata_filter_that_matches_nothing(client: httpx.Client) -> None:
    body = {"query": "late payment fee", "filter": {"no-such-key": "x"}}
    response = client.post("/v1/search", json=body)
    assert response.status_code == 200 and response.json()["chunks"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "fee", "top_k": 0}, "top_k"),
        ({"query": "fee", "top_k": 101}, "top_k"),
        ({"query": "fee", "mode": "fuzzy"}, "mode"),
        ({"query": ""}, "query"),
    ],
)
def test_invalid_search_names_the_field(client: httpx.Client, body: dict, field: str) -> None:
    response = client.post("/v1/search", json=body)
    assert response.status_code == 422
    assert error_of(response)["message"].startswith(f"{field}:")


def test_unknown_collection(client: httpx.Client) -> None:
    response = client.post("/v1/search", json={"query": "fee", "collections": ["nope"]})
    assert response.status_code == 404 and error_of(response)["code"] == "collection_not_found"
