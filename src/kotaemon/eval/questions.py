"""Question sets for batch testing, read from JSONL, CSV, a BEIR folder or a SQuAD file.

=========  ==================================================================================
JSONL      one object a line: ``question`` (required), ``answers``, ``sources``, ``tags``,
           ``id``, ``answerable`` (answers and sources: a string or a list of strings)
CSV        a header row with ``question`` and optionally ``answers``, ``sources``, ``tags``,
           ``id``; several values in one cell are separated by ``|``
BEIR       a folder with ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``: the
           corpus is ingested first, the qrels are the expected sources (graded)
SQuAD      ``{"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}``: the contexts
           are ingested first, each question expects its paragraph and its answers (SQuAD 2.0's
           ``is_impossible`` questions are tagged ``unanswerable``)
=========  ==================================================================================

A malformed file raises :class:`QuestionFileError` naming the line or field at fault.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from kotaemon.core.errors import InvalidInputError

Format = Literal["jsonl", "csv", "beir", "squad"]
#: Separates several values in one CSV cell.
CSV_SEPARATOR = "|"


class QuestionFileError(InvalidInputError):
    """The question file cannot be read; the message says where and what to fix."""

    code = "invalid_question_file"


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One question with what a good answer finds and says.

    :param sources: expected documents, by name (the file name, with or without extension),
        title or id; ``relevance`` grades them (BEIR qrels; 1 for each when not graded).
    :param answerable: False when the knowledge base is known not to hold the answer (SQuAD
        2.0's unanswerable questions); None when unknown.
    :param group: the article or topic the question was written from (for hold-out studies).
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    relevance: dict[str, int] = field(default_factory=dict)
    answerable: bool | None = None
    group: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalQuestion:
        return cls(
            id=str(data["id"]),
            question=data["question"],
            answers=tuple(data.get("answers", ())),
            sources=tuple(data.get("sources", ())),
            tags=tuple(data.get("tags", ())),
            relevance=dict(data.get("relevance", {})),
            answerable=data.get("answerable"),
            group=data.get("group"),
        )


@dataclass(frozen=True, slots=True)
class SeedDocument:
    """A document a question set brings along (BEIR corpus, SQuAD context), ingested first."""

    source: str
    text: str


@dataclass(slots=True)
class QuestionSet:
    """The questions of one file, with the documents to ingest before asking them."""

    name: str
    format: Format
    questions: list[EvalQuestion]
    documents: list[SeedDocument] = field(default_factory=list)


def detect_format(path: Path) -> Format:
    """The format of ``path``, from its shape (a folder is BEIR) or its extension.

    :raises QuestionFileError: if the format cannot be told.
    """
    if path.is_dir():
        if (path / "queries.jsonl").exists() and (path / "corpus.jsonl").exists():
            return "beir"
        raise QuestionFileError(
            f"{path} is a folder without corpus.jsonl and queries.jsonl; pass a BEIR folder, "
            "or a .jsonl, .csv or SQuAD .json file"
        )
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".json":
        return "squad"
    raise QuestionFileError(
        f"{path.name}: unknown question file type {suffix!r}; use .jsonl, .csv, a SQuAD .json "
        "or a BEIR folder"
    )


def load_questions(
    path: Path, *, split: str = "test", limit: int | None = None, corpus_limit: int | None = None
) -> QuestionSet:
    """Read a question set.

    :param split: the BEIR qrels to use (``qrels/<split>.tsv``).
    :param limit: keep the first ``limit`` questions.
    :param corpus_limit: BEIR only: ingest the documents the kept questions expect plus the
        first others up to this many in all (a full corpus can take an hour to embed).
    :raises QuestionFileError: if the file is missing or malformed.
    """
    if not path.exists():
        raise QuestionFileError(f"{path}: no such file or folder")
    kind = detect_format(path)
    if kind == "beir":
        found = _beir(path, split)
    elif kind == "squad":
        found = _squad(path)
    else:
        found = parse_questions(_read_text(path), kind, path.name)
        found.name = path.stem
    if not found.questions:
        raise QuestionFileError(f"{path.name}: no questions found")
    _check_unique_ids(found.questions, path.name)
    if limit is not None:
        found.questions = found.questions[:limit]
    if corpus_limit is not None and found.documents:
        found.documents = _trimmed_corpus(found, corpus_limit)
    return found


def parse_questions(text: str, kind: Literal["jsonl", "csv"], name: str) -> QuestionSet:
    """A question set from the text of a JSONL or CSV file (an upload).

    :raises QuestionFileError: if the text is malformed (the message names the line).
    """
    rows = _jsonl_rows(text, name) if kind == "jsonl" else _csv_rows(text, name)
    found = QuestionSet(name, kind, [_question(r, i, name) for i, r in rows])
    if not found.questions:
        raise QuestionFileError(f"{name}: no questions found")
    _check_unique_ids(found.questions, name)
    return found


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionFileError(
            f"{path.name}: not UTF-8 text ({exc.reason}); save it as UTF-8"
        ) from None


def _jsonl_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{name} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise QuestionFileError(f"{name} line {number}: expected an object with 'question'")
        yield number, row


def _csv_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    dialect = "excel-tab" if "\t" in text.partition("\n")[0] else "excel"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if reader.fieldnames is None or "question" not in reader.fieldnames:
        raise QuestionFileError(
            f"{name}: the header row needs a 'question' column (found: "
            f"{', '.join(reader.fieldnames or []) or 'nothing'})"
        )
    for row in reader:
        cells = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        for key in ("answers", "sources", "tags"):
            if key in cells:
                cells[key] = [p.strip() for p in cells[key].split(CSV_SEPARATOR) if p.strip()]
        yield reader.line_num, cells


def _question(row: dict[str, Any], number: int, name: str) -> EvalQuestion:
    where = f"{name} line {number}"
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: 'question' must be a non-empty string")
    answerable = row.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise QuestionFileError(f"{where}: 'answerable' must be true or false")
    return EvalQuestion(
        id=str(row.get("id", number)),
        question=question.strip(),
        answers=_strings(row.get("answers"), "answers", where),
        sources=_strings(row.get("sources"), "sources", where),
        tags=_strings(row.get("tags"), "tags", where),
        answerable=answerable,
        group=str(row["group"]) if row.get("group") is not None else None,
    )


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise QuestionFileError(f"{where}: '{key}' must be a string or a list of strings")


def _check_unique_ids(questions: Iterable[EvalQuestion], name: str) -> None:
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise QuestionFileError(f"{name}: question id {q.id!r} appears twice; ids must differ")
        seen.add(q.id)


def _squad(path: Path) -> QuestionSet:
    try:
        articles = json.loads(_read_text(path))["data"]
        documents, questions = [], []
        for article in articles:
            title = str(article["title"])
            for number, paragraph in enumerate(article["paragraphs"], start=1):
                source = f"{_file_name(title)}-{number:03d}.txt"
                documents.append(SeedDocument(source, paragraph["context"]))
                questions += [_squad_question(qa, source, title) for qa in paragraph["qas"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise QuestionFileError(
            f"{path.name}: not a SQuAD file ({type(exc).__name__}: {exc}); expected "
            '{"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}'
        ) from None
    return QuestionSet(path.stem, "squad", questions, documents)


def _squad_question(qa: dict[str, Any], source: str, title: str) -> EvalQuestion:
    answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", ())))
    answerable = not qa.get("is_impossible", False) and bool(answers)
    return EvalQuestion(
        id=str(qa["id"]),
        question=qa["question"],
        answers=answers,
        sources=(source,),
        tags=("answerable" if answerable else "unanswerable",),
        answerable=answerable,
        group=title,
    )


def _file_name(title: str) -> str:
    """A title as a safe file name (SQuAD titles hold slashes and spaces)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in title)[:80]


def _beir(folder: Path, split: str) -> QuestionSet:
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        raise QuestionFileError(
            f"{folder.name}: no qrels/{split}.tsv; pass --split with one of "
            f"{', '.join(sorted(p.stem for p in (folder / 'qrels').glob('*.tsv'))) or 'none'}"
        )
    qrels = _qrels(qrels_path)
    queries = {r["_id"]: r for _, r in _jsonl_rows(_read_text(folder / "queries.jsonl"), "queries")}
    questions = [
        EvalQuestion(
            id=query_id,
            question=str(queries[query_id]["text"]),
            sources=tuple(relevance),
            relevance=relevance,
        )
        for query_id, relevance in qrels.items()
        if query_id in queries
    ]
    corpus = _jsonl_rows(_read_text(folder / "corpus.jsonl"), "corpus.jsonl")
    documents = [
        SeedDocument(f"{row['_id']}.txt", f"{row.get('title', '')}\n\n{row['text']}".strip())
        for _, row in corpus
    ]
    return QuestionSet(folder.name, "beir", questions, documents)


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id corpus-id score`` rows (after a header) as graded relevance per query."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        parts = line.split("\t")
        if (number == 1 and parts[0] == "query-id") or not line.strip():
            continue
        try:
            query_id, doc_id, score = parts[0], parts[1], int(parts[2])
        except (IndexError, ValueError):
            raise QuestionFileError(
                f"{path.name} line {number}: expected 'query-id<TAB>corpus-id<TAB>score'"
            ) from None
        if score > 0:
            qrels.setdefault(query_id, {})[doc_id] = score
    return qrels


def _trimmed_corpus(found: QuestionSet, size: int) -> list[SeedDocument]:
    """The expected documents of the kept questions, then others in file order, ``size`` in
    all (or the expected ones only if they are more)."""
    wanted = {f"{s}.txt" for q in found.questions for s in q.sources}
    expected = [d for d in found.documents if d.source in wanted]
    others = [d for d in found.documents if d.source not in wanted]
    return expected + others[: max(size - len(expected), 0)]
