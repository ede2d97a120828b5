"""Scoring one answer against its question, and the figures by language pair and document type.

Extractive (no LLM): an answerable question is answered right when one of its expected sources is
among the cited chunks and every expected fact is in the answer text; an unanswerable one when the
answer is a refusal (``no_context``). With an LLM (the fake), the answer text says nothing, so an
answerable question counts as right when the prompt the LLM received carried an expected source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kotaemon.core.schema import Answer

from .corpus import CorpusFile
from .questions import Fact, Question, source_matches

PAIRS = ("en→en", "zh→zh", "zh→en", "en→zh", "mixed")


@dataclass(frozen=True)
class Observation:
    """What the pipeline did with one question, as far as scoring needs it."""

    outcome: str
    text: str
    cited: tuple[str, ...] = ()  # sources of the cited chunks, in marker order
    prompt_sources: tuple[str, ...] | None = None  # sources the LLM prompt carried (LLM mode)
    top_dense_score: float | None = None
    threshold: float | None = None
    evidence_score: float | None = None
    tool_calls: tuple[str, ...] = ()  # "tool:status"
    tool_warning: bool = False

    @classmethod
    def from_answer(
        cls, answer: Answer, prompt_sources: Sequence[str] | None = None
    ) -> Observation:
        return cls(
            outcome=answer.outcome,
            text=answer.text,
            cited=tuple(c.source or "" for c in answer.citations if c.kind == "chunk"),
            prompt_sources=None if prompt_sources is None else tuple(prompt_sources),
            top_dense_score=answer.retrieval.top_dense_score,
            threshold=answer.retrieval.threshold,
            evidence_score=answer.retrieval.evidence_score,
            tool_calls=tuple(f"{r.tool}:{r.status}" for r in answer.call_log),
            tool_warning=any(r.status != "ok" for r in answer.call_log),
        )


@dataclass(frozen=True)
class Score:
    correct: bool
    refused: bool
    source_ok: bool | None = None  # answerable questions only
    fact_ok: bool | None = None  # extractive mode only
    top_source_ok: bool | None = None  # LLM mode: source [1] of the prompt is an expected one
    tool_free: bool | None = None  # agent mode: no tool was called


def normalize(text: str) -> str:
    """Case-, width- and whitespace-insensitive form (PDF text loses or adds spaces)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def fact_present(fact: Fact, text: str) -> bool:
    alternatives = (fact,) if isinstance(fact, str) else fact
    haystack = normalize(text)
    return any(normalize(a) in haystack for a in alternatives)


def any_expected(question: Question, sources: Sequence[str]) -> bool:
    return any(source_matches(e, s) for e in question.expected_sources for s in sources)


def score_extractive(question: Question, seen: Observation) -> Score:
    refused = seen.outcome == "no_context"
    if not question.answerable:
        return Score(correct=refused, refused=refused)
    source_ok = seen.outcome == "answered" and any_expected(question, seen.cited)
    fact_ok = seen.outcome == "answered" and all(
        fact_present(f, seen.text) for f in question.expected_facts
    )
    return Score(
        correct=source_ok and fact_ok, refused=refused, source_ok=source_ok, fact_ok=fact_ok
    )


def score_llm(question: Question, seen: Observation) -> Score:
    refused = seen.outcome == "no_context"
    if not question.answerable:
        return Score(correct=refused, refused=refused)
    carried = seen.prompt_sources or ()
    source_ok = any_expected(question, carried)
    top_ok = any_expected(question, carried[:1])
    return Score(correct=source_ok, refused=refused, source_ok=source_ok, top_source_ok=top_ok)


def score_agent(question: Question, seen: Observation) -> Score:
    """Extractive scoring, and a general question must not call a tool."""
    base = score_extractive(question, seen)
    tool_free = not seen.tool_calls
    return replace(base, correct=base.correct and tool_free, tool_free=tool_free)


_NAVIGATION_HEADINGS = ("Navigation", "This Page", "Previous topic", "Next topic", "Quick search")
_NAVIGATION_LINE = re.compile(
    r"^(index|next \||previous \||show source|created using sphinx.*|.*»|prev|next|up|home|"
    r"table of contents|目录|上一页|下一页|起始页)$",
    re.IGNORECASE,
)
_FOOTER = re.compile(r"^[^|]{1,80} \| [^|]{1,80}$")  # "Chapter 4. … | Chapter 6. …"
_SECTION_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)+\.(?!\d)")  # "3.1.2." (not "1.2")
_DOT_LEADERS = re.compile(r"(?:\.\s?){6,}")


def chunk_kind(text: str, heading: str | None = None) -> str:
    """A heuristic: ``navigation`` (site chrome), ``toc`` (a table of contents) or ``body``.

    Used to count answers that quote page furniture instead of the passage that answers.
    """
    last = (heading or "").split(" > ")[-1].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if (
        last in _NAVIGATION_HEADINGS
        or (lines and all(_NAVIGATION_LINE.match(x) for x in lines))
        or (len(lines) == 1 and _FOOTER.match(lines[0]))
    ):
        return "navigation"
    numbers = len(_SECTION_NUMBER.findall(text))
    if len(_DOT_LEADERS.findall(text)) >= 2 or (numbers >= 5 and len(text) / numbers < 45):
        return "toc"
    return "body"


def doc_type(question: Question, corpus: Sequence[CorpusFile]) -> str | None:
    """The type (html, text, pdf) of the first expected source."""
    for file in corpus:
        if question.expected_sources and source_matches(
            question.expected_sources[0], f"{file.package}/{file.name}"
        ):
            return file.type
    return None


def summarise(
    questions: Sequence[Question], scores: Sequence[Score], corpus: Sequence[CorpusFile]
) -> list[dict]:
    """Counts per group: every answerable question, each language pair and document type, the
    general questions, then the unanswerable ones (on topic, off topic)."""
    rows = list(zip(questions, scores, strict=True))
    answerable = [(q, s) for q, s in rows if q.answerable]
    groups: list[tuple[str, list[tuple[Question, Score]]]] = [("answerable", answerable)]
    groups += [(pair, [(q, s) for q, s in answerable if q.pair == pair]) for pair in PAIRS]
    groups += [
        (kind, [(q, s) for q, s in answerable if doc_type(q, corpus) == kind])
        for kind in ("html", "text", "pdf")
    ]
    groups.append(("general", [(q, s) for q, s in answerable if q.general]))
    unanswerable = [(q, s) for q, s in rows if not q.answerable]
    groups.append(("unanswerable", unanswerable))
    for topic in ("on-topic", "off-topic"):
        groups.append(
            (f"unanswerable {topic}", [(q, s) for q, s in unanswerable if topic in q.tags])
        )
    return [_counts(name, members) for name, members in groups if members]


def _counts(name: str, members: list[tuple[Question, Score]]) -> dict:
    def count(attribute: str) -> int | None:
        values = [getattr(s, attribute) for _, s in members]
        return None if all(v is None for v in values) else sum(bool(v) for v in values)

    return {
        "group": name,
        "questions": len(members),
        "correct": count("correct"),
        "source_ok": count("source_ok"),
        "fact_ok": count("fact_ok"),
        "refused": count("refused"),
        "top_source_ok": count("top_source_ok"),
        "tool_free": count("tool_free"),
    }
