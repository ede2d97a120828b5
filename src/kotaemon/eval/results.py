"""What batch testing records for each question, and how one answer becomes that record."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath

from pydantic import BaseModel, Field

from kotaemon.core.schema import Answer, RetrievedChunk
from kotaemon.eval import metrics
from kotaemon.eval.questions import EvalQuestion
from kotaemon.pipelines.prompts import NO_CONTEXT

#: How deep rankings are read: hit@10 and nDCG@10 need ten documents.
RANK_DEPTH = 10
#: What the system prompt tells the LLM to say when the sources do not hold the answer.
_REFUSAL = re.compile(r"(do not|don't|cannot|can't) (know|answer)|不知道|无法回答", re.IGNORECASE)


class RankedSource(BaseModel):
    """One retrieved document, at its best chunk's rank."""

    document: str
    source: str
    document_id: str
    score: float
    dense_score: float | None = None
    relevant: bool = False


class QuestionResult(BaseModel):
    """How the pipeline did on one question: coverage, ranking, answer, cost."""

    position: int
    id: str
    question: str
    tags: list[str] = Field(default_factory=list)
    group: str | None = None
    answerable: bool | None = None
    outcome: str = Field(description="answered, no_context or error (the pipeline's).")
    error_code: str | None = None
    answer: str = ""
    covered: bool = Field(
        description="Relevant context above the threshold and an answer that is no refusal."
    )
    refused: bool
    has_relevant_context: bool
    top_dense_score: float | None = None
    threshold: float | None = None
    language_pair: str | None = Field(
        default=None, description="Question and passage languages, as the threshold chose."
    )
    evidence_score: float | None = None
    sources: list[RankedSource] = Field(default_factory=list)
    expected_sources: list[str] = Field(default_factory=list)
    expected_rank: int | None = None
    ndcg_at_10: float | None = None
    expected_answers: list[str] = Field(default_factory=list)
    exact_match: float | None = None
    f1: float | None = None
    contains: float | None = None
    judge_correct: bool | None = None
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def hit(self, k: int) -> float | None:
        """hit@k, or None when the question names no expected source."""
        return metrics.hit_at(self.expected_rank, k) if self.expected_sources else None


def is_refusal(answer: Answer) -> bool:
    """Whether the answer declines: the pipeline found nothing, or the LLM said it does not
    know (as its system prompt asks) without citing anything."""
    if answer.outcome != "answered" or answer.text.strip() in NO_CONTEXT.values():
        return True
    return not answer.extractive and not answer.citations and bool(_REFUSAL.search(answer.text))


def document_keys(chunk: RetrievedChunk) -> set[str]:
    """The names a question file may use for a chunk's document: id, file name (with or
    without extension) or title."""
    name = PurePath(chunk.source).name
    return {chunk.document_id, chunk.source, name, PurePath(name).stem, chunk.document_title}


def ranked_documents(
    chunks: Sequence[RetrievedChunk], expected: Iterable[str]
) -> tuple[list[str], list[RankedSource]]:
    """Documents in rank order (each at its best chunk), as the expected key they match (or
    their id), and as sources for the report."""
    wanted = set(expected)
    keys: list[str] = []
    sources: list[RankedSource] = []
    seen: set[str] = set()
    for chunk in chunks:
        if chunk.document_id in seen:
            continue
        seen.add(chunk.document_id)
        matched = sorted(document_keys(chunk) & wanted)
        keys.append(matched[0] if matched else chunk.document_id)
        sources.append(
            RankedSource(
                document=chunk.document_title,
                source=chunk.source,
                document_id=chunk.document_id,
                score=chunk.score,
                dense_score=chunk.dense_score,
                relevant=bool(matched),
            )
        )
    return keys[:RANK_DEPTH], sources[:RANK_DEPTH]


def score_answer(
    position: int,
    question: EvalQuestion,
    answer: Answer,
    chunks: Sequence[RetrievedChunk],
    latency_ms: float,
    *,
    min_evidence: float | None = None,
) -> QuestionResult:
    """The record of one answered question (``chunks``: the retriever's ranking).

    :param min_evidence: an answer whose evidence score is below it is not covered (its
        passages are on topic but do not hold the answer); None: evidence is reported only.
    """
    keys, sources = ranked_documents(chunks, question.sources)
    refused = is_refusal(answer)
    info = answer.retrieval
    weak = (
        min_evidence is not None
        and info.evidence_score is not None
        and info.evidence_score < min_evidence
    )
    expected = list(question.answers)
    relevance = question.relevance or dict.fromkeys(question.sources, 1)
    return QuestionResult(
        **_identity(position, question),
        outcome=answer.outcome,
        answer=answer.text,
        covered=info.has_relevant_context and not refused and not weak,
        refused=refused,
        has_relevant_context=info.has_relevant_context,
        top_dense_score=info.top_dense_score,
        threshold=info.threshold,
        language_pair=info.language_pair,
        evidence_score=info.evidence_score,
        sources=sources,
        expected_sources=list(question.sources),
        expected_rank=metrics.first_relevant_rank(keys, question.sources),
        ndcg_at_10=metrics.ndcg_at(keys, relevance, 10) if question.sources else None,
        expected_answers=expected,
        exact_match=metrics.exact_match(answer.text, expected) if expected else None,
        f1=metrics.token_f1(answer.text, expected) if expected else None,
        contains=metrics.contains_answer(answer.text, expected) if expected else None,
        latency_ms=latency_ms,
        prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens,
    )


def failed_question(
    position: int, question: EvalQuestion, code: str, message: str, latency_ms: float
) -> QuestionResult:
    """The record of a question the pipeline failed on (it counts as not covered)."""
    return QuestionResult(
        **_identity(position, question),
        outcome="error",
        error_code=code,
        answer=message,
        covered=False,
        refused=False,
        has_relevant_context=False,
        expected_sources=list(question.sources),
        expected_answers=list(question.answers),
        latency_ms=latency_ms,
    )


def _identity(position: int, question: EvalQuestion) -> dict[str, object]:
    return {
        "position": position,
        "id": question.id,
        "question": question.question,
        "tags": list(question.tags),
        "group": question.group,
        "answerable": question.answerable,
    }
