"""The HTML report is one self-contained page; the JSON report reads back as a baseline."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from kotaemon.core.errors import InvalidInputError
from kotaemon.core.principal import Principal
from kotaemon.eval.compare import compare
from kotaemon.eval.judge import JUDGE_PROMPT
from kotaemon.eval.report import build_report, read_report, render_html
from kotaemon.eval.summary import summarize
from kotaemon.store.evals import EvalRunRecord

from .helpers import result

pytestmark = pytest.mark.anyio


class _Embedder:
    """Two topics: questions about cards, and the rest."""

    model = "fake"

    async def embed_query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0]) if "card" in text else np.array([0.0, 1.0])


def _run() -> EvalRunRecord:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return EvalRunRecord(
        id="4f5e0d4e-0000-4000-8000-000000000000", owner_id="local", principal=Principal.local(),
        name="bank <smoke>", collections=["bank"], options={}, questions=[], total=3, done=3,
        state="succeeded", error_code=None, error_message=None, summary=None, created_at=now,
        started_at=now, finished_at=now,
    )  # fmt: skip


@pytest.fixture
async def report() -> dict:
    results = [
        result(0, question="Is <script>alert(1)</script> safe?", tags=["en"],
               top_dense_score=0.9, threshold=0.83, answerable=True, evidence_score=0.7,
               language_pair="en-en"),
        result(1, question="lost card abroad", covered=False, has_relevant_context=False,
               top_dense_score=0.7, threshold=0.83, tags=["en"], answerable=False),
        result(2, question="stolen card", covered=False, has_relevant_context=False,
               top_dense_score=0.75, threshold=0.83, answerable=False, evidence_score=0.2),
    ]  # fmt: skip
    summary = await summarize(results, _Embedder(), judge=JUDGE_PROMPT)  # type: ignore[arg-type]
    comparison = compare(results, [result(0), result(1), result(2)], label="base")
    return build_report(_run(), summary, results, comparison)


async def test_html_is_self_contained(report: dict) -> None:
    html = render_html(report)
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 3
    assert "<script" not in html.lower()  # not even the question's: it is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE)
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html


async def test_html_shows_the_sections(report: dict) -> None:
    html = render_html(report)
    assert "coverage by tag" in html and "best cosine" in html and "latency" in html
    assert "Not covered: <b>2</b> missing topic" in html
    assert "Answerable vs unanswerable" in html
    assert "By language pair" in html and "<td>en-en</td><td>1</td><td>1.000</td><td>0.830" in html
    assert "Uncovered questions by topic" in html and "card" in html
    assert "2</b> regressed" in html
    assert "LLM judge prompt" in html and "Reply with one word: yes or no" in html


async def test_summary_groups_uncovered_questions(report: dict) -> None:
    [topic] = report["summary"]["topics"]
    assert topic["size"] == 2 and topic["label"][0] == "card"


async def test_json_report_reads_back(report: dict, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert [r.id for r in read_report(path)] == ["q0", "q1", "q2"]
    path.write_text('{"results": []}')
    with pytest.raises(InvalidInputError, match="not a kotaemon eval JSON report"):
        read_report(path)
