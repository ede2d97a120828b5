"""``/metrics`` over real HTTP: the values that requests change, the route labels, the token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ..fakes.openai_server import FakeOpenAIServer
from ..server.conftest import LiveServer, error_of, live_server, server_settings

pytestmark = pytest.mark.integration

QUESTION = {"question": "What is the late payment fee?", "collections": ["bank"]}


def scrape(client: httpx.Client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def http(kb_server: LiveServer) -> Iterator[httpx.Client]:
    with kb_server.client() as client:
        yield client


def test_a_chat_request_moves_the_http_llm_retrieval_and_answer_metrics(
    http: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    # Questions of their own: an earlier test's answer would come from the retrieval cache.
    first = {"question": f"What is the late payment fee? ({uuid.uuid4().hex[:6]})"}
    second = {"question": f"How much is the late fee? ({uuid.uuid4().hex[:6]})"}
    before = scrape(http)
    fake_llm.reply("The late fee is 5% of the unpaid minimum payment [1].")
    assert http.post("/v1/chat", json=first).status_code == 200
    fake_llm.reply("It is 5% [1].", chunk_delay=0.01)
    assert http.post("/v1/chat", json=second | {"stream": True}).status_code == 200
    after = scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "POST", "route": "/v1/chat"}
    assert delta("http_requests_total", **route, status="200") == 2
    assert delta("http_request_duration_seconds_count", **route) == 2
    assert value(after, "http_requests_in_flight") >= 1  # the scrape itself
    model = {"model": "fake-model"}
    assert delta("kotaemon_llm_requests_total", **model, status="ok") == 2
    assert delta("kotaemon_llm_tokens_total", **model, type="input") > 100
    assert delta("kotaemon_llm_tokens_total", **model, type="output") > 0
    assert delta("kotaemon_llm_request_duration_seconds_count", **model) == 2
    assert delta("kotaemon_llm_time_to_first_token_seconds_count", **model) == 2
    for stage in ("embed", "dense", "keyword", "fuse"):
        assert delta("kotaemon_retrieval_duration_seconds_count", stage=stage) == 2, stage
    assert delta("kotaemon_answers_total", outcome="answered") == 2
    cache = {"cache": "retrieval"}
    assert delta("kotaemon_cache_requests_total", **cache, result="miss") == 2

    fake_llm.reply("It is 5% [1].")
    assert http.post("/v1/chat", json=first).status_code == 200  # the same question again
    again = scrape(http)
    assert (
        value(again, "kotaemon_cache_requests_total", **cache, result="hit")
        == value(after, "kotaemon_cache_requests_total", **cache, result="hit") + 1
    )
    assert value(again, "kotaemon_retrieval_duration_seconds_count", stage="embed") == value(
        after, "kotaemon_retrieval_duration_seconds_count", stage="embed"
    )  # nothing embedded: the results came from the cache


def test_failures_and_no_context_are_counted(
    http: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    before = scrape(http)
    fake_llm.reply(status=500)
    assert http.post("/v1/chat", json=QUESTION).status_code == 502
    nothing = {"question": "Wie hoch ist der Eiffelturm in Paris?", "collections": ["bank"]}
    assert http.post("/v1/chat", json=nothing).json()["outcome"] == "no_context"
    after = scrape(http)
    for name, labels, change in [
        ("kotaemon_llm_requests_total", {"model": "fake-model", "status": "llm_failed"}, 1),
        ("kotaemon_answers_total", {"outcome": "error"}, 1),
        ("kotaemon_answers_total", {"outcome": "no_context"}, 1),
        ("http_requests_total", {"method": "POST", "route": "/v1/chat", "status": "502"}, 1),
    ]:
        assert value(after, name, **labels) - value(before, name, **labels) == change, name


def test_routes_are_templates_and_unknown_paths_share_one_label(http: httpx.Client) -> None:
    before = scrape(http)
    assert http.get("/v1/collections/bank").status_code == 200
    assert http.get("/v1/collections/nope").status_code == 404
    for n in range(3):
        assert http.get(f"/no/such/path/{n}").status_code == 404
    after = scrape(http)
    template = {"method": "GET", "route": "/v1/collections/{name}"}
    assert (
        value(after, "http_requests_total", **template, status="200")
        - value(before, "http_requests_total", **template, status="200")
        == 1
    )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "http_requests_total", **unmatched)
        - value(before, "http_requests_total", **unmatched)
        == 3
    )
    assert not any("/no/such/path" in str(labels) for _, labels in after)


def test_queue_depth_and_cache_and_feedback_series_exist(http: httpx.Client) -> None:
    samples = scrape(http)
    for state in ("queued", "running", "succeeded", "failed"):
        assert ("kotaemon_ingest_jobs", frozenset({("state", state)})) in samples
    assert ("kotaemon_feedback_total", frozenset({("rating", "wrong")})) in samples


@pytest.mark.parametrize("token", ["s3cret-token"])
def test_a_metrics_token_is_required_when_set(
    kb_database_url: str, fake_llm: FakeOpenAIServer, tmp_path, token: str
) -> None:
    settings = server_settings(kb_database_url, tmp_path, fake_llm, metrics_token=token)
    with live_server(settings) as live, live.client() as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert error_of(refused)["code"] == "metrics_unauthorized"
        assert token not in refused.text
        wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "http_requests_total" in ok.text
