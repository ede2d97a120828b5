"""How one answer becomes a result: refusals, document names, ranks."""

from __future__ import annotations

import math

from kotaemon.core.schema import Answer, Citation, RetrievalInfo, RetrievedChunk
from kotaemon.eval.questions import EvalQuestion
from kotaemon.eval.results import is_refusal, ranked_documents, score_answer
from kotaemon.pipelines.prompts import NO_CONTEXT


def _answer(text: str, *, extractive: bool = False, cited: bool = False, **info: object) -> Answer:
    citations = [Citation(marker=1, kind="chunk", snippet="x")] if cited else []
    fields = {"has_relevant_context": True} | info
    retrieval = RetrievalInfo(query="q", **fields)  # type: ignore[arg-type]
    return Answer(
        answer_id="a",
        question="q",
        text=text,
        language="en",
        outcome="answered",
        citations=citations,
        model="m",
        extractive=extractive,
        retrieval=retrieval,
    )


def _chunk(document_id: str, source: str, score: float) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=f"{document_id}-{score}", document_id=document_id,
                          collection="c", document_title=source.upper(), source=source,
                          text="t", score=score)  # fmt: skip


def test_refusals() -> None:
    assert is_refusal(_answer(NO_CONTEXT["en"]))
    assert is_refusal(_answer("I do not know: the sources do not say."))
    assert is_refusal(_answer("资料中没有答案，我不知道。"))
    assert not is_refusal(_answer("I do not know is the title of the song [1].", cited=True))
    assert not is_refusal(_answer("The fee is 25 dollars [1].", cited=True))


def test_documents_ranked_at_their_best_chunk() -> None:
    chunks = [_chunk("d1", "/kb/fees.md", 0.9), _chunk("d1", "/kb/fees.md", 0.8),
              _chunk("d2", "/kb/security.txt", 0.7)]  # fmt: skip
    keys, sources = ranked_documents(chunks, ["security"])
    assert keys == ["d1", "security"]  # matched by file stem; the rest by id
    assert [s.relevant for s in sources] == [False, True]


def test_score_answer_with_a_weak_evidence_floor() -> None:
    question = EvalQuestion(id="q", question="q", answers=("25 dollars",), sources=("fees.md",))
    answer = _answer("The late fee is 25 dollars [1].", cited=True, evidence_score=0.4)
    chunks = [_chunk("d9", "/kb/other.md", 0.9), _chunk("d1", "/kb/fees.md", 0.8)]
    plain = score_answer(0, question, answer, chunks, 12.0)
    assert plain.covered and plain.expected_rank == 2 and plain.contains == 1.0
    assert plain.ndcg_at_10 == 1 / math.log2(3)  # the one relevant document at rank 2
    weak = score_answer(0, question, answer, chunks, 12.0, min_evidence=0.5)
    assert not weak.covered and weak.has_relevant_context  # a "missing answer"
