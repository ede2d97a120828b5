"""The RAG pipeline end to end: events, citations, the extractive answerer, a real HTTP LLM."""

from pathlib import Path

import pytest

from kotaemon.core.schema import DeltaEvent, DoneEvent, ErrorEvent, SourcesEvent
from kotaemon.engine import Engine

from ..conftest import KNOWLEDGE_BASE, make_settings
from ..fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.anyio


async def collect(stream) -> list:
    return [event async for event in stream]


@pytest.fixture
async def llm_engine(database_url: str, tmp_path: Path, fake_llm: FakeOpenAIServer):
    settings = make_settings(
        database_url,
        tmp_path,
        llm_base_url=fake_llm.base_url,
        llm_model="fake-model",
        llm_max_retries=0,
    )
    async with Engine(settings) as engine:
        collection = await engine.ensure_collection("bank")
        await engine.ingest.arun(KNOWLEDGE_BASE, collection)
        yield engine


async def test_events_come_in_contract_order_with_citations(
    llm_engine: Engine, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("宽限期为3天[1]，逾期满30天报送征信[2]，另见[9]。")
    events = await collect(llm_engine.rag.astream("信用卡宽限期是几天？"))
    kinds = [e.type for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"delta"} and len(kinds) > 3  # streamed in pieces
    answer = events[-1].answer
    assert answer.text == "".join(e.text for e in events if isinstance(e, DeltaEvent))
    assert "[9]" not in answer.text and answer.text.startswith("宽限期为3天[1]")
    assert [c.marker for c in answer.citations] == [1, 2]
    sources = events[0].sources
    assert answer.citations[0].chunk_id == sources[0].chunk_id
    assert answer.citations[0].snippet and answer.citations[0].document
    assert answer.usage.completion_tokens > 0 and answer.language == "zh"
    assert answer.outcome == "answered" and not answer.extractive

    request = fake_llm.chat_requests[-1]["json"]
    assert request["stream"] is True
    system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
    assert "简体中文" in system and user.endswith("问题：信用卡宽限期是几天？")
    assert "[1]" in user and sources[0].text in user


async def test_english_question_gets_english_template(
    llm_engine: Engine, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("The late fee is 5% of the unpaid minimum [1].")
    answer = await llm_engine.rag.arun("What is the late payment fee?")
    assert answer.language == "en" and answer.citations
    assert "Answer in English" in fake_llm.chat_requests[-1]["json"]["messages"][0]["content"]


async def test_llm_failure_is_an_error_event(
    llm_engine: Engine, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply(status=500)
    events = await collect(llm_engine.rag.astream("What is the late payment fee?"))
    assert isinstance(events[0], SourcesEvent)
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "llm_failed"
    assert not any(isinstance(e, DoneEvent) for e in events)


async def test_llm_timeout_mid_stream_ends_with_error_after_deltas(
    llm_engine: Engine, fake_llm: FakeOpenAIServer, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, llm_base_url=fake_llm.base_url, llm_timeout=0.5, llm_max_retries=0
    )
    async with Engine(settings) as engine:
        fake_llm.reply("The late fee is five percent of the minimum [1].", stall_after=4)
        events = await collect(engine.rag.astream("What is the late payment fee?"))
    kinds = [e.type for e in events]
    assert kinds[0] == "sources" and "delta" in kinds and kinds[-1] == "error"
    assert "done" not in kinds and events[-1].code == "llm_timeout"


async def test_extractive_answer_without_llm(engine: Engine) -> None:
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    answer = await engine.rag.arun("信用卡还款的宽限期是几天？")
    assert answer.extractive and answer.outcome == "answered"
    assert answer.text.startswith("（未配置大语言模型")
    assert "3" in answer.text and answer.citations
    assert all(c.kind == "chunk" for c in answer.citations)
    en = await engine.rag.arun("What is the late payment fee?")
    assert en.text.startswith("(No language model is configured") and "5%" in en.text


async def test_unrelated_question_says_nothing_found(engine: Engine) -> None:
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    answer = await engine.rag.arun("Who won the 1998 FIFA World Cup final?")
    assert answer.outcome == "no_context" and not answer.citations
    assert "could not find" in answer.text
    assert answer.retrieval.has_relevant_context is False
    assert answer.retrieval.threshold == engine.embedder.relevance_thresholds["en"]
    zh = await engine.rag.arun("大熊猫每天吃多少竹子？")
    assert zh.outcome == "no_context" and "没有找到" in zh.text
    assert zh.retrieval.threshold == engine.embedder.relevance_thresholds["zh"]


async def test_empty_knowledge_base_says_nothing_found(engine: Engine) -> None:
    answer = await engine.rag.arun("宽限期是几天？")
    assert answer.outcome == "no_context" and "没有找到" in answer.text
