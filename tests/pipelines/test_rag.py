"""The RAG pipeline end to end: events, citations, the extractive answerer, a real HTTP LLM."""

from pathlib import Path

import pytest

from kotaemon.core.errors import KotaemonError
from kotaemon.core.principal import Principal
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
    # The grace period is 3 days (examples/knowledge_base): the quoted sentence says so and is
    # cited from the document that holds it.
    assert "3个自然日的还款宽限期" in answer.text
    [cited] = [c for c in answer.citations if "3个自然日" in c.snippet]
    assert cited.kind == "chunk" and cited.document_id and cited.chunk_id
    assert all(c.kind == "chunk" for c in answer.citations)
    en = await engine.rag.arun("What is the late payment fee?")
    assert en.text.startswith("(No language model is configured") and "5%" in en.text


async def test_answers_carry_their_evidence_score_with_and_without_an_llm(
    engine: Engine, llm_engine: Engine, fake_llm: FakeOpenAIServer
) -> None:
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    extractive = await engine.rag.arun("信用卡还款的宽限期是几天？")
    fake_llm.reply("宽限期为3天[1]。")
    generated = await llm_engine.rag.arun("信用卡还款的宽限期是几天？")
    for answer in (extractive, generated):
        assert answer.outcome == "answered"
        assert answer.retrieval.evidence_score is not None
        assert 0.5 < answer.retrieval.evidence_score <= 1.0  # the sources hold the answer
    # One scorer, the same sources: the same score whether an LLM writes the answer or not.
    assert generated.retrieval.evidence_score == extractive.retrieval.evidence_score
    refused = await engine.rag.arun("Who won the 1998 FIFA World Cup final?")
    assert refused.outcome == "no_context" and refused.retrieval.evidence_score is None


async def test_relevant_passages_without_an_answer_in_them_are_refused(engine: Engine) -> None:
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    engine.rag.min_evidence = 1.01  # no sentence can be evidence enough
    answer = await engine.rag.arun("信用卡还款的宽限期是几天？")
    assert answer.outcome == "no_context" and not answer.citations
    assert answer.retrieval.has_relevant_context is False
    assert answer.retrieval.evidence_score is not None  # measured, then found too weak


async def test_a_chinese_question_over_english_documents_takes_the_zh_en_threshold(
    engine: Engine,
) -> None:
    thresholds = engine.embedder.relevance_thresholds
    assert thresholds["zh-en"] != thresholds["zh-zh"]  # the pair, not the question, decides
    collection = await engine.ensure_collection("bank-en")
    await engine.ingest.arun(KNOWLEDGE_BASE / "en", collection)
    answer = await engine.rag.arun("逾期还款的滞纳金是多少？")
    assert answer.retrieval.threshold == thresholds["zh-en"]
    assert answer.retrieval.language_pair == "zh-en"
    assert answer.outcome == "answered" and "5%" in answer.text
    mixed = await engine.rag.arun("late payment fee 是多少？")
    assert mixed.retrieval.threshold == thresholds["mixed"]


async def test_unrelated_question_says_nothing_found(engine: Engine) -> None:
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    answer = await engine.rag.arun("Who won the 1998 FIFA World Cup final?")
    assert answer.outcome == "no_context" and not answer.citations
    assert "could not find" in answer.text
    assert answer.retrieval.has_relevant_context is False
    assert answer.retrieval.threshold == engine.embedder.relevance_thresholds["en-en"]
    zh = await engine.rag.arun("大熊猫每天吃多少竹子？")
    assert zh.outcome == "no_context" and "没有找到" in zh.text
    assert zh.retrieval.threshold == engine.embedder.relevance_thresholds["zh-zh"]


async def test_empty_knowledge_base_says_nothing_found(engine: Engine) -> None:
    answer = await engine.rag.arun("宽限期是几天？")
    assert answer.outcome == "no_context" and "没有找到" in answer.text


async def test_without_a_principal_the_service_engine_fails_closed(
    database_url: str, tmp_path: Path
) -> None:
    """The service's engine has no default principal: a forgotten one is an error, not the
    local admin (only the CLI and scripts act as the local user)."""
    async with Engine(make_settings(database_url, tmp_path), local_user=False) as engine:
        collection = await engine.ensure_collection("bank", principal=Principal.local())
        await engine.ingest.arun(KNOWLEDGE_BASE / "en", collection)
        events = await collect(engine.rag.astream("What is the late payment fee?"))
        assert [e.type for e in events] == ["error"]
        assert events[0].code == "principal_required" and events[0].status == 500
        with pytest.raises(KotaemonError) as raised:
            await engine.retriever.arun("late fee")
        assert raised.value.code == "principal_required"
        with pytest.raises(KotaemonError, match="principal"):
            await engine.ensure_collection("other")
        stranger = Principal(user_id="stranger", scopes=frozenset({"chat"}))
        refused = await engine.rag.arun("What is the late payment fee?", principal=stranger)
        assert refused.outcome == "no_context"  # the stranger may read no collection


async def test_the_pipelines_are_built_once_and_shared(engine: Engine) -> None:
    assert engine.rag is engine.rag and engine.retriever is engine.retriever
    assert engine.ingest is engine.ingest and engine.rag.retriever is engine.retriever


async def test_the_default_system_prompt_names_no_business(
    llm_engine: Engine, fake_llm: FakeOpenAIServer
) -> None:
    fake_llm.reply("The fee is 5% [1].")
    await llm_engine.rag.arun("What is the late payment fee?")
    system = fake_llm.chat_requests[-1]["json"]["messages"][0]["content"]
    assert "customer-service" not in system and "bank" not in system.lower()
    assert "cite" in system and "[1]" in system


async def test_the_operator_sets_the_system_prompt(
    database_url: str, tmp_path: Path, fake_llm: FakeOpenAIServer
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(
        "prompts:\n  system:\n    en: You are the clinic's assistant. Cite sources as [1].\n"
        "    zh: 你是诊所的助手。用 [1] 标注资料。\n",
        encoding="utf-8",
    )
    settings = make_settings(
        database_url, tmp_path, llm_base_url=fake_llm.base_url, llm_max_retries=0,
        agent_config=config,
    )  # fmt: skip
    async with Engine(settings) as engine:
        collection = await engine.ensure_collection("bank")
        await engine.ingest.arun(KNOWLEDGE_BASE / "en", collection)
        fake_llm.reply("5% [1].")
        await engine.rag.arun("What is the late payment fee?")
    system = fake_llm.chat_requests[-1]["json"]["messages"][0]["content"]
    assert system == "You are the clinic's assistant. Cite sources as [1]."
