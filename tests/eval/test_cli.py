"""``kotaemon eval run`` in a real subprocess: outputs, gates and their exit codes, inputs that
bring their own documents (ingested once), usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from .conftest import BANK_QUESTIONS, kotaemon, write_jsonl

pytestmark = pytest.mark.integration


def test_run_reports_and_gates(bank_database: str, tmp_path: Path) -> None:
    questions = write_jsonl(tmp_path / "bank.jsonl", BANK_QUESTIONS)
    out, html = tmp_path / "out.json", tmp_path / "report.html"
    args = ["eval", "run", str(questions), "-c", "bank", "--json", str(out), "--html", str(html)]
    passed = kotaemon(
        [*args, "--min-coverage", "0.5", "--min-hit-at-5", "1"], bank_database, tmp_path
    )
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout == "" and "gate failed" not in passed.stderr
    report = json.loads(out.read_text())
    results = {r["id"]: r for r in report["results"]}
    assert results["due"]["covered"] and results["pin"]["covered"]
    assert results["due"]["expected_rank"] == 1 and results["pin"]["expected_rank"] == 1
    assert results["due"]["sources"][0]["source"].endswith("credit_card_repayment.md")
    due = results["due"]  # quoted passages: never the short answer, some of its words
    assert due["exact_match"] == 0.0 and 0 < due["f1"] < 1 and due["expected_answers"]
    assert not results["mars"]["covered"] and not results["mars"]["has_relevant_context"]
    summary = report["summary"]
    assert summary["overall"]["coverage"] == 0.5 and summary["overall"]["hit_at_5"] == 1.0
    assert summary["by_tag"]["offtopic"]["coverage"] == 0.0
    assert summary["uncovered"] == {"missing_topic": 2, "missing_answer": 0, "error": 0}
    assert sum(t["size"] for t in summary["topics"]) == 2
    assert html.read_text().startswith("<!doctype html>")

    baseline = json.loads(out.read_text())  # as if "mars" had been covered before
    next(r for r in baseline["results"] if r["id"] == "mars")["covered"] = True
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    failed = kotaemon(
        [*args, "--baseline", str(tmp_path / "baseline.json"), "--max-regressions", "0",
         "--min-coverage", "0.9"],
        bank_database, tmp_path,
    )  # fmt: skip
    assert failed.returncode == 3, failed.stderr
    assert "gate failed: coverage 0.500 is below --min-coverage 0.9" in failed.stderr
    assert "1 questions regressed, more than --max-regressions 0" in failed.stderr
    comparison = json.loads(out.read_text())["comparison"]
    assert [c["id"] for c in comparison["regressed"]] == ["mars"]
    assert comparison["unchanged"] == 3


def test_squad_and_beir_bring_documents_ingested_once(bank_database: str, tmp_path: Path) -> None:
    squad = tmp_path / "tiny-squad.json"
    sleeping = "Sea otters hold hands while sleeping so they do not drift apart."
    paragraphs = [
        {"context": sleeping, "qas": [
            {"id": "o1", "question": "Why do sea otters hold hands while sleeping?",
             "answers": [{"text": "so they do not drift apart", "answer_start": 35}]},
            {"id": "o2", "question": "Why do river otters sing at dawn?", "answers": [],
             "is_impossible": True}]},
        {"context": "Otters eat sea urchins and crabs.", "qas": [
            {"id": "o3", "question": "What do otters eat?",
             "answers": [{"text": "sea urchins and crabs", "answer_start": 10}]}]},
    ]  # fmt: skip
    squad.write_text(json.dumps({"data": [{"title": "Otters", "paragraphs": paragraphs}]}))
    out = tmp_path / "squad.json"
    for _ in range(2):
        run = kotaemon(["eval", "run", str(squad), "-c", "otters", "--json", str(out)],
                       bank_database, tmp_path)  # fmt: skip
        assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert {r["id"]: r["expected_rank"] for r in report["results"]}["o1"] == 1
    assert report["summary"]["answerable_separation"]["negatives"] == 1
    assert report["summary"]["by_tag"]["answerable"]["questions"] == 2

    beir = tmp_path / "tiny-beir"
    (beir / "qrels").mkdir(parents=True)
    docs = [("b1", "Sea otters", "Sea otters hold hands while sleeping."),
            ("b2", "Beavers", "Beavers build dams from branches and mud."),
            ("b3", "Herons", "Herons hunt fish in shallow water.")]  # fmt: skip
    (beir / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    )
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "What do beavers build?"}))
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tb2\t1\n")
    run = kotaemon(["eval", "run", str(beir), "-c", "beavers", "--json", str(out)],
                   bank_database, tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    [result] = json.loads(out.read_text())["results"]
    assert result["expected_rank"] == 1 and result["ndcg_at_10"] == 1.0
    with psycopg.connect(bank_database) as conn:
        counts = dict(conn.execute(
            "SELECT c.name, count(*) FROM documents d JOIN collections c ON c.id = d.collection_id "
            "WHERE c.name IN ('otters', 'beavers') GROUP BY c.name"
        ).fetchall())  # fmt: skip
    assert counts == {"otters": 2, "beavers": 3}  # the second SQuAD run added nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "run"], "pass a question file, or --resume RUN_ID"),
        (["eval", "run", "{file}"], "pass --collection"),
        (["eval", "run", "{file}", "-c", "bank", "--resume", "x"], "not both"),
        (["eval", "run", "{bad}", "-c", "bank"], "bad.jsonl line 1: not JSON"),
        (["eval", "run", "{file}", "-c", "bank", "--min-coverage", "2"], "Invalid value"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", BANK_QUESTIONS[:1])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    argv = [a.format(file=good, bad=bad) for a in args]
    run = kotaemon(argv, "postgresql://unused@127.0.0.1:1/none", tmp_path)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr


def test_resuming_an_unknown_run_is_an_error(bank_database: str, tmp_path: Path) -> None:
    run = kotaemon(["eval", "run", "--resume", "0b3c6a34-1d2e-4f00-8000-000000000000"],
                   bank_database, tmp_path)  # fmt: skip
    assert run.returncode == 1 and "eval_run_not_found" in run.stderr
