"""Hybrid retrieval in Postgres: both languages, every mode, filters and permissions in SQL."""

import pytest

from kotaemon.core.errors import EmbeddingModelMismatchError, InvalidInputError, NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.observability.metrics import CACHE_REQUESTS
from kotaemon.retrieval.retriever import VectorDBRetriever

from ..conftest import KNOWLEDGE_BASE

pytestmark = pytest.mark.anyio


@pytest.fixture
async def bank(engine: Engine):
    collection = await engine.ensure_collection("bank")
    await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    return collection


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
@pytest.mark.parametrize(
    ("question", "expected_file"),
    [
        ("信用卡还款的宽限期是几天？", "zh/credit_card_repayment.md"),
        ("How much is the late payment fee?", "en/fees.md"),
        ("What should I do if my card is lost?", "en/customer_service.html"),
    ],
)
async def test_finds_the_right_document(
    engine: Engine, bank, mode: str, question: str, expected_file: str
) -> None:
    result = await engine.retriever.arun(question, mode=mode, top_k=3)
    assert result.chunks
    assert any(c.source.endswith(expected_file) for c in result.chunks), [
        c.source for c in result.chunks
    ]
    scores = [c.score for c in result.chunks]
    assert scores == sorted(scores, reverse=True)


async def test_hybrid_keeps_both_scores(engine: Engine, bank) -> None:
    result = await engine.retriever.arun("滞纳金 最低还款额 5%", top_k=5)
    assert result.top_dense_score is not None and 0 < result.top_dense_score <= 1
    assert any(c.dense_score is not None and c.keyword_score is not None for c in result.chunks)


async def test_cross_lingual_question_reaches_other_language(engine: Engine, tmp_path) -> None:
    collection = await engine.ensure_collection("zh-only")
    await engine.ingest.arun(KNOWLEDGE_BASE / "zh", collection)
    for question, expected in (
        ("How do I report a lost card?", "丢失"),
        ("What is the grace period for repayment?", "宽限期"),
    ):
        result = await engine.retriever.arun(question, mode="dense", top_k=2)
        assert any(expected in (c.heading or "") for c in result.chunks), question


async def test_each_language_is_ranked_apart(engine: Engine, bank) -> None:
    """The account security guide exists only in English. Every Chinese passage of the bank's
    knowledge base is closer to a Chinese question about it than the English answer is, so
    one dense ranking over both languages buries the answer; ranked apart, it is found."""
    [collection] = await engine.store.collections.visible(engine.local_principal, ["bank"])
    assert collection.languages == ["en", "zh"]
    for question in (
        "一次性验证码的有效期是多久？",
        "银行会不会打电话问我的 CVV？",
        "被盗刷前 48 小时内的交易谁承担？",
    ):
        found = await engine.retriever.arun(question, mode="dense", top_k=3)
        sources = [c.source.split("/")[-1] for c in found.chunks]
        assert "account_security.txt" in sources, (question, sources)
        assert {c.language for c in found.chunks} == {"en", "zh"}
        assert found.top_dense_score == max(c.dense_score or 0 for c in found.chunks)
    one_ranking = VectorDBRetriever(
        engine.store.catalog,
        engine.store.search,
        engine.embedder,
        principal=engine.local_principal,
        config=engine.retriever.config.with_changes(split_languages=False),
    )
    found = await one_ranking.arun("一次性验证码的有效期是多久？", mode="dense", top_k=3)
    assert {c.language for c in found.chunks} == {"zh"}  # what the split is for


async def test_metadata_filter_is_applied_in_sql(engine: Engine) -> None:
    collection = await engine.ensure_collection("tagged")
    for lang, text in (("en", "The grace period is 3 days."), ("de", "Die Frist ist 3 Tage.")):
        await engine.ingest.ingest_bytes(
            text.encode(), f"{lang}.txt", collection, metadata={"lang": lang}
        )
    for mode in ("dense", "keyword", "hybrid"):
        found = await engine.retriever.arun(
            "grace period 3", mode=mode, metadata_filter={"lang": "de"}
        )
        assert [c.source for c in found.chunks] == ["de.txt"], mode
        assert found.chunks[0].metadata == {"lang": "de"}
    none = await engine.retriever.arun("grace period", metadata_filter={"lang": "fr"})
    assert none.chunks == []


async def test_permissions_are_enforced(engine: Engine, bank) -> None:
    stranger = Principal(user_id="mallory")
    assert (await engine.retriever.arun("宽限期", principal=stranger)).chunks == []
    with pytest.raises(NotFoundError):
        await engine.retriever.arun("宽限期", principal=stranger, collections=["bank"])


async def test_bad_arguments_are_clear_errors(engine: Engine, bank) -> None:
    with pytest.raises(InvalidInputError, match="top_k"):
        await engine.retriever.arun("fees", top_k=-1)
    with pytest.raises(InvalidInputError, match="mode"):
        await engine.retriever.arun("fees", mode="fuzzy")  # type: ignore[arg-type]


async def test_unknown_collection_and_empty_query(engine: Engine, bank) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        await engine.retriever.arun("fees", collections=["nope"])
    with pytest.raises(InvalidInputError, match="empty"):
        await engine.retriever.arun("   ")


async def test_query_with_another_model_is_refused(engine: Engine) -> None:
    await engine.store.collections.create(Principal.local(), "other-model", model="openai:x", dim=8)
    with pytest.raises(EmbeddingModelMismatchError, match="other-model"):
        await engine.retriever.arun("fees", collections=["other-model"])
    # unnamed searches skip it; keyword search needs no embedding and may use it
    assert (await engine.retriever.arun("fees")).chunks == []
    assert (
        await engine.retriever.arun("fees", collections=["other-model"], mode="keyword")
    ).chunks == []


def _hits(cache: str) -> float:
    return CACHE_REQUESTS.labels(cache, "hit")._value.get()


async def test_results_are_cached_by_collection_version_so_no_hit_is_stale(
    engine: Engine,
) -> None:
    collection = await engine.ensure_collection("versioned")
    await engine.ingest.ingest_bytes(b"The grace period is three days.", "a.txt", collection)
    first = await engine.retriever.arun("grace period days")
    hits = _hits("retrieval")
    again = await engine.retriever.arun("grace period days")
    assert _hits("retrieval") == hits + 1 and "cache" in again.timings
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in first.chunks]

    # A write bumps the version: the next search is computed again and sees the new text.
    await engine.ingest.ingest_bytes(
        b"Grace period days: seven for gold cards.", "b.txt", collection
    )
    after = await engine.retriever.arun("grace period days")
    assert _hits("retrieval") == hits + 1 and "cache" not in after.timings
    assert {c.source for c in after.chunks} == {"a.txt", "b.txt"}
    await engine.store.documents.delete(collection, source="b.txt")
    assert {c.source for c in (await engine.retriever.arun("grace period days")).chunks} == {
        "a.txt"
    }


async def test_a_cached_result_is_only_for_the_same_readable_collections(engine: Engine) -> None:
    collection = await engine.ensure_collection("private-notes")
    await engine.ingest.ingest_bytes(b"The vault code is kept by the manager.", "n.txt", collection)
    assert (await engine.retriever.arun("vault code")).chunks  # cached for the local admin
    stranger = Principal(user_id="mallory")
    assert (await engine.retriever.arun("vault code", principal=stranger)).chunks == []
