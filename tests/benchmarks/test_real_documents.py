"""The real-document benchmark's question set, corpus list and scoring (no apt, no embedding)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from benchmarks.realdocs.corpus import CorpusFile, load_corpus, materialize
from benchmarks.realdocs.questions import FIELDS, QUESTIONS, load_questions, source_matches
from benchmarks.realdocs.scoring import (
    Observation,
    chunk_kind,
    fact_present,
    score_agent,
    score_extractive,
    score_llm,
    summarise,
)
from kotaemon.core.schema import Answer, Citation, RetrievalInfo, ToolCallRecord

CORPUS = load_corpus()
QUESTION_SET = load_questions(corpus=CORPUS)
BY_ID = {q.id: q for q in QUESTION_SET}


def test_every_question_has_every_field() -> None:
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        assert set(FIELDS) <= json.loads(line).keys()


def test_the_set_covers_languages_pairs_and_refusals() -> None:
    assert len(QUESTION_SET) >= 40
    answerable = [q for q in QUESTION_SET if q.answerable]
    assert {q.language for q in QUESTION_SET} == {"en", "zh", "mixed"}
    assert {q.pair for q in answerable} == {"en→en", "zh→zh", "zh→en", "en→zh", "mixed"}
    unanswerable = [q for q in QUESTION_SET if not q.answerable]
    assert {t for q in unanswerable for t in q.tags} >= {"on-topic", "off-topic"}
    general = [q for q in QUESTION_SET if q.general]
    assert len(general) >= 3 and all(q.answerable for q in general)


def test_the_corpus_mixes_formats_and_languages() -> None:
    assert {f.type for f in CORPUS} == {"html", "text", "pdf"}
    assert {(f.type, f.language) for f in CORPUS} >= {("html", "zh"), ("text", "zh"), ("pdf", "zh")}
    assert all(str(f.path).startswith("/usr/share/") for f in CORPUS)


def test_every_expected_source_is_in_the_corpus() -> None:
    known = [f"{f.package}/{f.name}" for f in CORPUS]
    for q in QUESTION_SET:
        for expected in q.expected_sources:
            assert any(source_matches(expected, k) for k in known), (q.id, expected)


def _write(tmp_path: Path, **changes) -> Path:
    raw = {
        "id": "t-1",
        "question": "What is it?",
        "language": "en",
        "doc_language": "en",
        "answerable": True,
        "expected_sources": ["ch-archive.html"],
        "expected_facts": ["main"],
        "tags": [],
    }
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps({**raw, **changes}) + "\n", encoding="utf-8")
    return path


def test_a_source_outside_the_corpus_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, expected_sources=["handbook.pdf"])
    with pytest.raises(ValueError, match=r"handbook\.pdf"):
        load_questions(path, CORPUS)


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path)
    raw = json.loads(path.read_text())
    del raw["expected_facts"]
    path.write_text(json.dumps(raw) + "\n")
    with pytest.raises(ValueError, match="expected_facts"):
        load_questions(path, CORPUS)


def test_an_unanswerable_question_has_no_expected_answer(tmp_path: Path) -> None:
    path = _write(tmp_path, answerable=False, doc_language=None, tags=["unanswerable"])
    with pytest.raises(ValueError, match="unanswerable"):
        load_questions(path, CORPUS)


# --------------------------------------------------------------------------- scoring

FAQ = "/data/corpus/debian-faq-zh-cn/debian-faq.zh-cn.txt"
POLICY = "/data/corpus/debian-policy/ch-archive.html"


def test_a_right_answer_cites_the_source_and_says_the_fact() -> None:
    seen = Observation(
        outcome="answered", text="您可以使用 apt-mark  hold package_name [1]", cited=(FAQ,)
    )
    score = score_extractive(BY_ID["zh-08"], seen)
    assert score.correct and score.source_ok and score.fact_ok and not score.refused


def test_the_right_fact_from_the_wrong_source_is_wrong() -> None:
    seen = Observation(outcome="answered", text="apt-mark hold foo [1]", cited=(POLICY,))
    score = score_extractive(BY_ID["zh-08"], seen)
    assert not score.correct and not score.source_ok and score.fact_ok


def test_the_right_source_without_the_fact_is_wrong() -> None:
    seen = Observation(
        outcome="answered", text="目录 7.12 如何将软件包设置为保留 [1]", cited=(FAQ,)
    )
    score = score_extractive(BY_ID["zh-08"], seen)
    assert not score.correct and score.source_ok and not score.fact_ok


def test_a_refusal_is_wrong_when_answerable_and_right_when_not() -> None:
    refusal = Observation(outcome="no_context", text="知识库中没有找到……", top_dense_score=0.86)
    assert not score_extractive(BY_ID["zh-08"], refusal).correct
    assert score_extractive(BY_ID["un-04"], refusal).correct
    answered = Observation(outcome="answered", text="ZFS … [1]", cited=(FAQ,))
    assert not score_extractive(BY_ID["un-04"], answered).correct


def test_every_fact_is_needed_and_any_alternative_counts() -> None:
    question = BY_ID["en-02"]  # facts: "optional" and "deprecated"
    half = Observation(outcome="answered", text="Most packages are optional. [1]", cited=(POLICY,))
    both = Observation(
        outcome="answered", text="Optional [1]. Extra is DEPRECATED [1]", cited=(POLICY,)
    )
    assert not score_extractive(question, half).correct
    assert score_extractive(question, both).correct
    assert fact_present(("Debian 11", "Bullseye"), "在 Debian 11 Bullseye (2021) 中")
    assert fact_present("1.0~rc1 < 1.0", "1 < 1.0~rc1<1.0 < 1.0+b1")  # PDF spacing
    assert fact_present("ps --pid 1 -f", "使用 “ ps --pid 1 -f ” 命令")
    assert fact_present("-sa", "$ dpkg-buildpackage －sa")  # full-width minus sign (NFKC)


def test_an_answer_is_read_from_the_pipeline_answer() -> None:
    answer = Answer(
        answer_id="a",
        question="怎么设成保留？",
        text="apt-mark hold package_name [2]",
        language="zh",
        outcome="answered",
        citations=[
            Citation(marker=1, kind="tool", tool="repayment_records", snippet="…"),
            Citation(marker=2, kind="chunk", source=FAQ, snippet="…"),
        ],
        call_log=[
            ToolCallRecord(tool="repayment_records", arguments={}, status="error", duration_ms=1)
        ],
        model="extractive",
        extractive=True,
        retrieval=RetrievalInfo(
            query="q", top_dense_score=0.9, threshold=0.887, has_relevant_context=True
        ),
    )
    seen = Observation.from_answer(answer)
    assert seen.cited == (FAQ,)
    assert seen.tool_calls == ("repayment_records:error",) and seen.tool_warning
    assert score_extractive(BY_ID["zh-08"], seen).correct


def test_with_an_llm_the_prompt_must_carry_an_expected_source() -> None:
    question = BY_ID["zh-08"]
    carried = Observation(outcome="answered", text="fake [1]", prompt_sources=(POLICY, FAQ))
    score = score_llm(question, carried)
    assert score.correct and score.source_ok and not score.top_source_ok
    missing = Observation(outcome="answered", text="fake [1]", prompt_sources=(POLICY,))
    assert not score_llm(question, missing).correct


def test_a_general_question_that_calls_a_tool_is_wrong() -> None:
    question = BY_ID["gen-04"]
    seen = Observation(
        outcome="answered",
        text="（注意：未能查询 repayment_records……）\n……安全更新…… [1]",
        cited=(FAQ,),
        tool_calls=("repayment_records:error",),
        tool_warning=True,
    )
    assert score_extractive(question, seen).correct
    score = score_agent(question, seen)
    assert not score.correct and score.tool_free is False


def test_page_furniture_is_told_from_body_text() -> None:
    sphinx = "index\n\nnext |\n\nprevious |\n\nDebian Policy Manual v4.6.2.0 »\n\n2. The Archive"
    assert chunk_kind(sphinx, "Navigation") == "navigation"
    assert chunk_kind("index\n\nnext |\n\nprevious |") == "navigation"
    assert chunk_kind("Show Source", "2.5. Priorities¶ > This Page") == "navigation"
    assert chunk_kind("Chapter 4. Authentication | Chapter 6. Network applications") == "navigation"
    pdf_toc = "7 3.5.1. Purpose ........................ 7 3.5.2. Specific Options ............ 7"
    assert chunk_kind(pdf_toc) == "toc"
    faq_toc = (
        "5.8.怎样确认版本？ 5.9.非英语支持？ 5.10.qmail 在哪？ 5.11.Flash？ 5.12.Google Earth？"
    )
    assert chunk_kind(faq_toc) == "toc"
    body = "这些代号都来自《玩具总动员》：buzz（Debian 1.1）、rex（Debian 1.2）、bo（Debian 1.3）。"
    assert chunk_kind(body) == "body"
    table = (
        "文件 | 权限 | 用户\n\n/etc/passwd | -rw-r--r-- | root\n\n/etc/shadow | -rw-r----- | root"
    )
    assert chunk_kind(table) == "body"


def test_summary_counts_by_group() -> None:
    questions = [BY_ID["zh-08"], BY_ID["x-zh-en-03"], BY_ID["un-07"]]
    seen = [
        Observation(outcome="answered", text="hold [1]", cited=(FAQ,)),
        Observation(outcome="no_context", text="…"),
        Observation(outcome="no_context", text="…"),
    ]
    scores = [score_extractive(q, s) for q, s in zip(questions, seen, strict=True)]
    rows = {r["group"]: r for r in summarise(questions, scores, CORPUS)}
    assert (rows["answerable"]["questions"], rows["answerable"]["correct"]) == (2, 1)
    assert rows["zh→en"]["refused"] == 1 and rows["html"]["correct"] == 0
    assert rows["text"]["correct"] == 1
    assert rows["unanswerable off-topic"]["correct"] == 1
    assert "mixed" not in rows  # empty groups are left out


def test_materialize_decompresses_and_names_the_copies(tmp_path: Path) -> None:
    source = tmp_path / "usr" / "guide.txt.gz"
    source.parent.mkdir()
    source.write_bytes(gzip.compress("第 1 章".encode()))
    file = CorpusFile("guide.txt", "some-doc", source, "text", "zh")
    [copy] = materialize([file], tmp_path / "corpus")
    assert copy == tmp_path / "corpus" / "some-doc" / "guide.txt"
    assert copy.read_text(encoding="utf-8") == "第 1 章"
    missing = CorpusFile("gone.html", "gone-doc", tmp_path / "gone.html", "html", "en")
    with pytest.raises(FileNotFoundError, match="gone-doc"):
        materialize([missing], tmp_path / "corpus")
