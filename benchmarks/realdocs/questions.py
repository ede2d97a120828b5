"""The questions (``questions.jsonl``): what a user asks, and what a right answer cites and says.

One JSON object per line::

    {"id": "zh-03", "question": "…", "language": "zh", "doc_language": "zh", "answerable": true,
     "expected_sources": ["maint-guide.zh-cn.pdf"], "expected_facts": ["-sa"], "tags": [...]}

* ``language``: en, zh, or mixed (Chinese with English terms); ``doc_language``: the language of
  the documents that answer it (null for an unanswerable question).
* ``expected_sources``: file names or path suffixes; citing any one of them counts.
* ``expected_facts``: every item must appear in the answer; an item is a string or a list of
  alternatives (any one counts). Matching ignores case, width and whitespace.
* ``tags``: ``unanswerable`` with ``on-topic`` or ``off-topic``; ``general`` for policy-style
  questions that must not call a tool when the demo agent is loaded; free topic tags.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .corpus import CorpusFile

QUESTIONS = Path(__file__).with_name("questions.jsonl")
LANGUAGES = ("en", "zh", "mixed")
FIELDS = (
    "id",
    "question",
    "language",
    "doc_language",
    "answerable",
    "expected_sources",
    "expected_facts",
    "tags",
)

Fact = str | tuple[str, ...]


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    language: str
    doc_language: str | None
    answerable: bool
    expected_sources: tuple[str, ...]
    expected_facts: tuple[Fact, ...]
    tags: tuple[str, ...]

    @property
    def pair(self) -> str:
        """The language pair it measures: en→en, zh→zh, zh→en, en→zh, or mixed."""
        if self.language == "mixed":
            return "mixed"
        return f"{self.language}→{self.doc_language or '∅'}"

    @property
    def general(self) -> bool:
        return "general" in self.tags


def source_matches(expected: str, source: str) -> bool:
    """A cited source (a path) is the expected one: the same, or ending with ``/expected``."""
    return source == expected or source.endswith("/" + expected.lstrip("/"))


def load_questions(path: Path = QUESTIONS, corpus: Sequence[CorpusFile] = ()) -> list[Question]:
    """Read and check the questions; with ``corpus``, every expected source must be in it.

    :raises ValueError: naming the question and the field that is wrong.
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        where = f"{path.name}:{number} ({raw.get('id')})"
        missing = [f for f in FIELDS if f not in raw]
        if missing:
            raise ValueError(f"{where}: missing {missing}")
        question = Question(
            id=raw["id"],
            question=raw["question"],
            language=raw["language"],
            doc_language=raw["doc_language"],
            answerable=raw["answerable"],
            expected_sources=tuple(raw["expected_sources"]),
            expected_facts=tuple(
                f if isinstance(f, str) else tuple(f) for f in raw["expected_facts"]
            ),
            tags=tuple(raw["tags"]),
        )
        _check(question, where, corpus)
        questions.append(question)
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: question ids must be unique")
    return questions


def _check(q: Question, where: str, corpus: Sequence[CorpusFile]) -> None:
    if not q.question.strip() or q.language not in LANGUAGES:
        raise ValueError(f"{where}: empty question or language not in {LANGUAGES}")
    if q.answerable:
        if q.doc_language not in ("en", "zh"):
            raise ValueError(f"{where}: an answerable question needs doc_language en or zh")
        if not q.expected_sources or not q.expected_facts:
            raise ValueError(f"{where}: an answerable question needs expected sources and facts")
        if any(not (f if isinstance(f, str) else all(f)) for f in q.expected_facts):
            raise ValueError(f"{where}: empty expected fact")
    elif q.expected_sources or q.expected_facts or "unanswerable" not in q.tags:
        raise ValueError(f"{where}: an unanswerable question has no sources or facts, and its tag")
    if corpus:
        known = [f"{f.package}/{f.name}" for f in corpus]
        for expected in q.expected_sources:
            if not any(source_matches(expected, k) for k in known):
                raise ValueError(f"{where}: expected source {expected!r} is not in the corpus")
