"""Conversations and feedback over real HTTP: follow-ups rewritten with the history, turns stored
in PostgreSQL, answers rated."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import error_of

pytestmark = pytest.mark.integration


def _ask(client: httpx.Client, question: str, **extra: object) -> dict:
    response = client.post("/v1/chat", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_follow_up_is_rewritten_with_the_history_and_stored_as_a_turn(
    client: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("The annual fee of the Harbor Gold card is 300 yuan [1].")
    first = _ask(client, "What is the annual fee of the gold card?", collections=["bank"])
    conversation_id = first["conversation_id"]
    assert conversation_id and first["retrieval"]["query"] == first["question"]

    fake_llm.reply("What is the late payment fee of the gold card?")  # the rewrite
    fake_llm.reply("The late fee is 5% of the unpaid minimum payment [1].")
    follow_up = _ask(client, "And if I pay late?", conversation_id=conversation_id)
    assert follow_up["conversation_id"] == conversation_id
    assert follow_up["retrieval"]["query"] == "What is the late payment fee of the gold card?"
    assert any("late" in c["snippet"].lower() for c in follow_up["citations"])

    rewrite, answer = (r["json"]["messages"] for r in fake_llm.chat_requests[-2:])
    assert "annual fee of the gold card" in rewrite[-1]["content"]
    assert "And if I pay late?" in rewrite[-1]["content"]
    roles = [m["role"] for m in answer]
    assert roles == ["system", "user", "assistant", "user"]  # the history, then the question
    assert answer[2]["content"] == first["text"]

    shown = client.get(f"/v1/conversations/{conversation_id}").json()
    assert shown["conversation"]["title"] == "What is the annual fee of the gold card?"
    assert shown["conversation"]["collections"] == ["bank"]
    assert [t["answer_id"] for t in shown["turns"]] == [first["answer_id"], follow_up["answer_id"]]
    assert shown["turns"][1]["answer"] == follow_up["text"]
    listed = client.get("/v1/conversations").json()["conversations"]
    assert listed[0]["id"] == conversation_id  # the most recently active first

    assert client.delete(f"/v1/conversations/{conversation_id}").status_code == 204
    gone = client.get(f"/v1/conversations/{conversation_id}")
    assert gone.status_code == 404 and error_of(gone)["code"] == "conversation_not_found"


def test_when_rewriting_fails_the_previous_question_is_searched_too(
    client: httpx.Client, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("宽限期为3天[1]。")
    first = _ask(client, "信用卡还款的宽限期是几天？")
    fake_llm.reply(status=500)  # the rewrite fails
    fake_llm.reply("逾期会收取滞纳金[1]。")
    follow_up = _ask(client, "逾期呢？", conversation_id=first["conversation_id"])
    assert follow_up["retrieval"]["query"] == "信用卡还款的宽限期是几天？ 逾期呢？"


@pytest.mark.parametrize("conversation_id", [str(uuid.uuid4()), "not-a-uuid", "' OR 1=1 --"])
def test_an_unknown_conversation_is_404_before_any_work(
    client: httpx.Client, fake_llm: FakeOpenAIServer, conversation_id: str
) -> None:
    asked = len(fake_llm.chat_requests)
    response = client.post(
        "/v1/chat", json={"question": "Late fee?", "conversation_id": conversation_id}
    )
    assert response.status_code == 404 and error_of(response)["code"] == "conversation_not_found"
    assert client.get(f"/v1/conversations/{conversation_id}").status_code == 404
    assert client.delete(f"/v1/conversations/{conversation_id}").status_code == 404
    assert len(fake_llm.chat_requests) == asked


def test_feedback_is_stored_and_replaced(client: httpx.Client, fake_llm: FakeOpenAIServer) -> None:
    fake_llm.reply("The late fee is 5% [1].")
    answer = _ask(client, "What is the late payment fee?")
    url = f"/v1/answers/{answer['answer_id']}/feedback"
    wrong = client.post(url, json={"rating": "wrong", "comment": "It is 6% now."})
    assert wrong.status_code == 200, wrong.text
    assert wrong.json()["rating"] == "wrong" and wrong.json()["comment"] == "It is 6% now."
    helpful = client.post(url, json={"rating": "helpful"}).json()
    assert helpful["rating"] == "helpful" and helpful["comment"] == ""
    assert helpful["created_at"] == wrong.json()["created_at"]  # one rating per user, replaced


@pytest.mark.parametrize(
    ("answer_id", "body", "status", "code"),
    [
        (str(uuid.uuid4()), {"rating": "helpful"}, 404, "answer_not_found"),
        ("nope", {"rating": "helpful"}, 404, "answer_not_found"),
        (str(uuid.uuid4()), {"rating": "great"}, 422, "invalid_request"),
        (str(uuid.uuid4()), {"rating": "wrong", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_feedback_errors(
    client: httpx.Client, answer_id: str, body: dict, status: int, code: str
) -> None:
    response = client.post(f"/v1/answers/{answer_id}/feedback", json=body)
    assert response.status_code == status and error_of(response)["code"] == code
