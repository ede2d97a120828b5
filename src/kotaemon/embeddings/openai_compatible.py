"""Embeddings from any OpenAI-compatible server: OpenAI, Azure, TEI, vLLM, Ollama."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai

from kotaemon.core.errors import ConfigurationError, EmbeddingError
from kotaemon.core.secrets import Secret
from kotaemon.embeddings.base import Embedder, normalize_rows
from kotaemon.embeddings.batching import QueryBatcher
from kotaemon.observability.tracing import outgoing_headers


class OpenAICompatibleEmbedder(Embedder):
    """Calls ``POST {base_url}/embeddings``; vectors are normalised to unit length.

    :param dim: the model's dimension; probed with one request at :meth:`open` when None.
    """

    max_tokens = 8192

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: Secret | None = None,
        dim: int | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        max_retries: int = 3,
    ) -> None:
        self.model = f"openai:{model}"
        self._model_name = model
        self._dim = dim
        self.batch_size = batch_size
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key.reveal() if api_key else "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )
        self._batcher = QueryBatcher(self._embed, max_batch=batch_size)

    @property
    def dim(self) -> int:
        if self._dim is None:
            raise ConfigurationError(
                "embedding dimension unknown: call open() first or set KOTAEMON_EMBEDDING_DIM"
            )
        return self._dim

    async def open(self) -> None:
        if self._dim is None:
            self._dim = int((await self._embed(["dimension probe"])).shape[1])

    async def close(self) -> None:
        await self._client.close()

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        parts = [
            await self._embed(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(parts) if parts else np.empty((0, self.dim), np.float32)

    async def embed_query(self, text: str) -> np.ndarray:
        return await self._batcher.embed(text)

    async def _embed(self, texts: Sequence[str]) -> np.ndarray:
        try:
            response = await self._client.embeddings.create(
                model=self._model_name, input=list(texts), extra_headers=outgoing_headers()
            )
        except openai.AuthenticationError as exc:
            raise EmbeddingError(
                "the embedding server refused the API key; check KOTAEMON_EMBEDDING_API_KEY"
            ) from exc
        except openai.APIError as exc:
            raise EmbeddingError(
                f"embedding server failed ({type(exc).__name__}: {exc}); check "
                "KOTAEMON_EMBEDDING_BASE_URL, KOTAEMON_EMBEDDING_MODEL and the server's logs"
            ) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        vectors = normalize_rows(np.array([item.embedding for item in ordered], dtype=np.float32))
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise EmbeddingError(
                f"the server returned {vectors.shape[1]}-dimension vectors, expected {self._dim}"
            )
        return vectors
