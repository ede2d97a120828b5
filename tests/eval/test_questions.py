"""Every input format, and errors that name the line at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kotaemon.eval.questions import QuestionFileError, load_questions, parse_questions


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"id": "q1", "question": "When is payment due?", "answers": ["20 days"],
         "sources": "fees.md", "tags": ["billing"]},
        {"question": "宽限期是几天？", "answerable": True},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    found = load_questions(path)
    assert (found.name, found.format, found.documents) == ("set", "jsonl", [])
    first, second = found.questions
    assert first.id == "q1" and first.answers == ("20 days",) and first.sources == ("fees.md",)
    assert first.tags == ("billing",) and first.answerable is None
    assert second.id == "2" and second.question == "宽限期是几天？" and second.answerable is True


def test_csv_splits_cells_on_bars(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "question,answers,sources,tags\n"
        '"Fee, late?",25 dollars|$25,fees.md,billing|en\n'
        "Lost card?,,,\n",
        encoding="utf-8",
    )
    first, second = load_questions(path).questions
    assert first.question == "Fee, late?" and first.answers == ("25 dollars", "$25")
    assert first.tags == ("billing", "en") and first.id == "2"
    assert second.answers == () and second.sources == ()


def test_squad_contexts_become_documents(tmp_path: Path) -> None:
    path = tmp_path / "squad.json"
    data = {"data": [{"title": "Harbor Bank/Fees", "paragraphs": [
        {"context": "The late fee is 25 dollars.", "qas": [
            {"id": "a", "question": "How much is the late fee?",
             "answers": [{"text": "25 dollars", "answer_start": 16},
                         {"text": "25 dollars", "answer_start": 16}]},
            {"id": "b", "question": "Who set the fee?", "answers": [], "is_impossible": True},
        ]}]}]}  # fmt: skip
    path.write_text(json.dumps(data))
    found = load_questions(path)
    assert found.format == "squad"
    [document] = found.documents
    assert document.source == "Harbor_Bank_Fees-001.txt"
    answerable, impossible = found.questions
    assert answerable.answers == ("25 dollars",) and answerable.sources == (document.source,)
    assert answerable.tags == ("answerable",) and answerable.group == "Harbor Bank/Fees"
    assert impossible.answerable is False and impossible.tags == ("unanswerable",)


def _beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": "d1", "title": "Cats", "text": "Cats purr."},
              {"_id": "d2", "title": "Dogs", "text": "Dogs bark."},
              {"_id": "d3", "title": "Fish", "text": "Fish swim."}]  # fmt: skip
    (folder / "corpus.jsonl").write_text("\n".join(map(json.dumps, corpus)))
    queries = [{"_id": "q1", "text": "Do cats purr?"}, {"_id": "q2", "text": "What barks?"}]
    (folder / "queries.jsonl").write_text("\n".join(map(json.dumps, queries)))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td3\t0\nq2\td2\t1\n"
    )
    return folder


def test_beir_folder(tmp_path: Path) -> None:
    found = load_questions(_beir(tmp_path / "beir"))
    assert found.format == "beir" and [d.source for d in found.documents] == [
        "d1.txt", "d2.txt", "d3.txt"
    ]  # fmt: skip
    assert found.documents[0].text == "Cats\n\nCats purr."
    q1, q2 = found.questions
    assert q1.relevance == {"d1": 2} and q1.sources == ("d1",)  # score 0 is not relevant
    assert q2.question == "What barks?" and q2.relevance == {"d2": 1}


def test_beir_corpus_limit_keeps_the_expected_documents(tmp_path: Path) -> None:
    found = load_questions(_beir(tmp_path / "beir"), limit=1, corpus_limit=1)
    assert [q.id for q in found.questions] == ["q1"]
    assert [d.source for d in found.documents] == ["d1.txt"]
    wider = load_questions(tmp_path / "beir", limit=1, corpus_limit=2)
    assert [d.source for d in wider.documents] == ["d1.txt", "d2.txt"]


def test_beir_unknown_split_lists_the_others(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="one of test"):
        load_questions(_beir(tmp_path / "beir"), split="dev")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.jsonl", '{"question": "ok"}\n{not json}\n', "bad.jsonl line 2: not JSON"),
        ("bad.jsonl", '{"question": ""}\n', "line 1: 'question' must be a non-empty string"),
        ("bad.jsonl", '{"question": "q", "answers": {"a": 1}}\n', "'answers' must be a string"),
        ("bad.jsonl", '["question"]\n', "line 1: expected an object"),
        ("bad.jsonl", '{"id": 1, "question": "a"}\n{"id": 1, "question": "b"}\n', "twice"),
        ("bad.jsonl", "\n\n", "no questions found"),
        ("bad.csv", "query,answer\nx,y\n", "needs a 'question' column (found: query, answer)"),
        ("bad.json", '{"data": [{"paragraphs": []}]}', "not a SQuAD file"),
        ("bad.txt", "question", "unknown question file type '.txt'"),
    ],
)
def test_malformed_files_name_the_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionFileError) as raised:
        load_questions(path)
    assert message in raised.value.message
    assert raised.value.status == 422 and raised.value.code == "invalid_question_file"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="no such file"):
        load_questions(tmp_path / "nope.jsonl")


def test_uploaded_text() -> None:
    found = parse_questions("question,tags\nWhy?,x\n", "csv", "upload")
    assert [(q.question, q.tags) for q in found.questions] == [("Why?", ("x",))]
