"""The offline answerer: when no LLM is configured, quote the sentences that best answer.

It ranks the sentences of the best chunks by how close their embedding is to the question's,
plus the share of the question's informative words they contain (IDF over the candidates) and a
small bonus for higher-ranked chunks; it quotes the best few, cites each one, and says plainly that
the answer is extractive.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from kotaemon.core.schema import RetrievedChunk, Source
from kotaemon.core.tokenize import tokenize
from kotaemon.embeddings.base import Embedder

_SENTENCE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+|$)|[^.\n]+(?:\.(?=\s|$)|$)")

NOTICE = {
    "en": "(No language model is configured: these are the most relevant passages, quoted.)",
    "zh": "（未配置大语言模型：以下为知识库中最相关的原文摘录。）",
}
TOOL_NOTICE = {
    "en": "(No language model is configured: the answer below is composed from the systems' "
    "records by templates, followed by the most relevant passages, quoted.)",
    "zh": "（未配置大语言模型：以下回答根据业务系统的查询结果按模板生成，"
    "并附知识库中最相关的原文摘录。）",
}


class ExtractiveAnswerer:
    """Composes an answer from the best supporting sentences, each with its ``[n]`` marker.

    Example::

        text = await ExtractiveAnswerer(embedder).answer("宽限期是几天？", sources, "zh")

    :param max_sources: only the sentences of the best few chunks are considered.
    :param max_candidates: at most this many sentences are embedded per answer.
    """

    model = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_sentences: int = 3,
        max_chars: int = 600,
        max_sources: int = 3,
        max_candidates: int = 24,
        keyword_weight: float = 0.1,
    ) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.max_sources = max_sources
        self.max_candidates = max_candidates
        self.keyword_weight = keyword_weight

    async def answer(
        self,
        question: str,
        sources: Sequence[Source],
        language: str,
        *,
        preface: Sequence[str] = (),
    ) -> str:
        """The notice, the ``preface`` lines (answers composed from tool results), then the
        chosen sentences of the documents with their markers, one per line."""
        documents = [
            (n, c) for n, c in enumerate(sources, start=1) if isinstance(c, RetrievedChunk)
        ]
        chosen = await self._choose(question, documents[: self.max_sources])
        notice = (TOOL_NOTICE if preface else NOTICE).get(language, NOTICE["en"])
        lines = [notice, *preface]
        lines += [f"{sentence} [{marker}]" for sentence, marker in chosen]
        return "\n".join(lines)

    async def _choose(
        self, question: str, sources: Sequence[tuple[int, RetrievedChunk]]
    ) -> list[tuple[str, int]]:
        candidates = [
            (sentence, marker) for marker, chunk in sources for sentence in _sentences(chunk.text)
        ][: self.max_candidates]  # each candidate costs one (short) embedding
        if not candidates:
            return []
        query = await self.embedder.embed_query(question)
        vectors = await self.embedder.embed_documents([s for s, _ in candidates])
        similarity = vectors @ query
        keyword = _keyword_share(question, [s for s, _ in candidates])
        scores = similarity + self.keyword_weight * keyword
        scores -= 0.01 * np.array([marker for _, marker in candidates])
        chosen: list[tuple[str, int]] = []
        total = 0
        for index in np.argsort(-scores):
            sentence, marker = candidates[index]
            if len(chosen) == self.max_sentences or total + len(sentence) > self.max_chars:
                break
            chosen.append((sentence, marker))
            total += len(sentence)
        best = candidates[int(np.argmax(scores))]
        return chosen or [(best[0][: self.max_chars], best[1])]


def _keyword_share(question: str, sentences: Sequence[str]) -> np.ndarray:
    """For each sentence, the IDF-weighted share of the question's words it contains."""
    query = set(tokenize(question))
    terms = [set(tokenize(s)) & query for s in sentences]
    df = {t: sum(t in ts for ts in terms) for t in query}
    idf = {t: math.log(1 + len(sentences) / df[t]) for t in query if df[t]}
    total = sum(idf.values()) or 1.0
    return np.array([sum(idf[t] for t in ts) / total for ts in terms])


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 3]
