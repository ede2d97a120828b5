"""Embedding backends: the bundled multilingual model and an OpenAI-compatible server."""

import anyio
import numpy as np
import pytest

from kotaemon.core.errors import EmbeddingError
from kotaemon.embeddings.batching import QueryBatcher
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.embeddings.openai_compatible import OpenAICompatibleEmbedder

from ..fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.anyio


async def test_bundled_model_ranks_across_languages(embedder: BundledE5Embedder) -> None:
    docs = await embedder.embed_documents(
        ["信用卡还款宽限期为3天。", "The annual fee is waived after six purchases.", "熊猫吃竹子。"]
    )
    assert docs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-3)
    query = await embedder.embed_query("How many days is the repayment grace period?")
    assert int(np.argmax(docs @ query)) == 0
    assert embedder.count_tokens("信用卡还款") < embedder.count_tokens("信用卡还款" * 10)


async def test_concurrent_queries_share_batches() -> None:
    batches: list[int] = []

    async def embed_batch(texts):
        batches.append(len(texts))
        await anyio.sleep(0.05)
        return np.ones((len(texts), 2), np.float32)

    batcher = QueryBatcher(embed_batch, max_batch=8)
    results: list[np.ndarray] = []

    async def one(i: int) -> None:
        results.append(await batcher.embed(f"q{i}"))

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(one, i)
    assert len(results) == 10
    assert sum(batches) == 10 and len(batches) < 10  # shared, bounded by max_batch
    assert max(batches) <= 8


async def test_batch_failure_reaches_every_waiter() -> None:
    async def broken(texts):
        raise EmbeddingError("down")

    batcher = QueryBatcher(broken)
    with pytest.raises(EmbeddingError):
        await batcher.embed("x")


async def test_openai_compatible_embedder_probes_dimension(fake_llm: FakeOpenAIServer) -> None:
    fake_llm.embedding_dim = 16
    embedder = OpenAICompatibleEmbedder(
        base_url=fake_llm.base_url, model="fake-embed", max_retries=0
    )
    await embedder.open()
    assert embedder.dim == 16 and embedder.model == "openai:fake-embed"
    vectors = await embedder.embed_documents(["a b", "a b", "c d"])
    assert np.allclose(vectors[0], vectors[1])
    query = await embedder.embed_query("a b")
    assert np.allclose(query, vectors[0], atol=1e-6)
    fake_llm.reply(status=500)
    with pytest.raises(EmbeddingError, match="EMBEDDING_BASE_URL"):
        await embedder.embed_documents(["x"])
    await embedder.close()
