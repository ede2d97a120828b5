"""The report of a run: one JSON document, and the same as one self-contained HTML page.

The JSON (``kotaemon eval run --json``) is what ``--baseline`` reads back. The HTML has its CSS
inline and its charts drawn as inline SVG here, with no script and no external URL, so it can
be mailed, archived by CI, or opened offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kotaemon.core.errors import InvalidInputError
from kotaemon.eval.compare import Comparison
from kotaemon.eval.results import QuestionResult
from kotaemon.eval.svg import bar_chart, histogram
from kotaemon.store.evals import EvalRunRecord

TEMPLATE = Path(__file__).with_name("report.html")
#: Report format version (``--baseline`` refuses others).
REPORT_VERSION = 1


def build_report(
    run: EvalRunRecord,
    summary: dict[str, Any],
    results: Sequence[QuestionResult],
    comparison: Comparison | None = None,
) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "version": REPORT_VERSION,
        "run": {
            "id": run.id,
            "name": run.name,
            "collections": run.collections,
            "options": run.options,
            "state": run.state,
            "total": run.total,
            "done": run.done,
            "owner": run.owner_id,
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
        "summary": summary,
        "comparison": comparison.model_dump() if comparison else None,
        "results": [r.model_dump() for r in results],
    }


def read_report(path: Path) -> list[QuestionResult]:
    """The per-question results of a JSON report written earlier (a ``--baseline``).

    :raises InvalidInputError: if the file is not such a report.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != REPORT_VERSION:
            raise ValueError(f"report version {data.get('version')!r}")
        return [QuestionResult.model_validate(r) for r in data["results"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(
            f"{path}: not a kotaemon eval JSON report ({exc}); write one with "
            "`kotaemon eval run … --json FILE`",
            code="invalid_baseline",
        ) from None


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page (inline CSS and SVG, no script, no external URL)."""
    summary = report["summary"]
    results = [QuestionResult.model_validate(r) for r in report["results"]]
    sections = [
        _headline(report),
        _section("Coverage by tag", _coverage_chart(summary), _tag_table(summary)),
        _section("Scores", _score_charts(results)),
        _separation(summary),
        _pairs(summary),
        _section("Latency", _latency_chart(results)),
        _topics(summary),
        _comparison(report.get("comparison")),
        _judge(summary),
        _section("Questions", _question_table(results)),
    ]
    body = "\n".join(s for s in sections if s)
    title = f"kotaemon eval — {_e(report['run']['name'])}"
    return TEMPLATE.read_text(encoding="utf-8").format(title=title, body=body)


def _e(value: object) -> str:
    from html import escape

    return escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{''.join(parts)}</section>"


def _headline(report: dict[str, Any]) -> str:
    run, overall = report["run"], report["summary"]["overall"]
    uncovered = report["summary"]["uncovered"]
    cards = [
        ("coverage", _pct(overall["coverage"])),
        ("hit@1", _pct(overall["hit_at_1"])),
        ("hit@5", _pct(overall["hit_at_5"])),
        ("hit@10", _pct(overall["hit_at_10"])),
        ("MRR", _num(overall["mrr"])),
        ("nDCG@10", _num(overall["ndcg_at_10"])),
        ("EM", _pct(overall["exact_match"])),
        ("F1", _pct(overall["f1"])),
        ("contains", _pct(overall["contains"])),
        ("judge", _pct(overall["judge_accuracy"])),
    ]
    tiles = "".join(f'<div class="card"><b>{v}</b><span>{k}</span></div>' for k, v in cards)
    meta = (
        f"run <code>{_e(run['id'])}</code> · {run['done']}/{run['total']} questions · "
        f"collections {_e(', '.join(run['collections']))} · {_e(run['state'])}"
    )
    kinds = (
        f"Not covered: <b>{uncovered['missing_topic']}</b> missing topic (no passage above the "
        f"relevance threshold: add documents), <b>{uncovered['missing_answer']}</b> missing "
        f"answer (passages on topic, no answer in them), <b>{uncovered['error']}</b> errors."
    )
    return (
        f"<header><h1>{_e(run['name'])}</h1><p>{meta}</p>"
        f'<div class="cards">{tiles}</div><p>{kinds}</p></header>'
    )


def _coverage_chart(summary: dict[str, Any]) -> str:
    rows = [("all", summary["overall"]["coverage"] or 0.0)]
    rows += [(tag, agg["coverage"] or 0.0) for tag, agg in summary["by_tag"].items()]
    return bar_chart(rows, title="coverage by tag", as_percent=True)


def _tag_table(summary: dict[str, Any]) -> str:
    columns = ["questions", "coverage", "hit_at_1", "hit_at_5", "hit_at_10", "mrr"]
    columns += ["ndcg_at_10", "exact_match", "f1", "contains"]
    head = "".join(f"<th>{c}</th>" for c in ["tag", *columns])
    rows = []
    for tag, agg in [("all", summary["overall"]), *summary["by_tag"].items()]:
        cells = [str(agg[c]) if c == "questions" else _num(agg[c]) for c in columns]
        rows.append(f"<tr><td>{_e(tag)}</td>{''.join(f'<td>{c}</td>' for c in cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _score_charts(results: Sequence[QuestionResult]) -> str:
    covered = [r.top_dense_score for r in results if r.covered and r.top_dense_score is not None]
    other = [r.top_dense_score for r in results if not r.covered and r.top_dense_score is not None]
    thresholds = sorted({r.threshold for r in results if r.threshold is not None})
    charts = [
        histogram(
            {"covered": covered, "not covered": other},
            title="best cosine (top_dense_score)",
            markers=thresholds,
        )
    ]
    evidence = [r.evidence_score for r in results if r.evidence_score is not None]
    if evidence:
        charts.append(
            histogram(
                {
                    "answerable": [
                        r.evidence_score
                        for r in results
                        if r.evidence_score is not None and r.answerable is not False
                    ],
                    "unanswerable": [
                        r.evidence_score
                        for r in results
                        if r.evidence_score is not None and r.answerable is False
                    ],
                },
                title="answer evidence (evidence_score)",
            )
        )
    else:
        charts.append("<p>Answer-level evidence: not measured by this pipeline.</p>")
    return "".join(charts)


def _separation(summary: dict[str, Any]) -> str:
    found = summary.get("answerable_separation")
    if not found:
        return ""
    evidence = found["evidence_score_auc"]
    rows = (
        f"<tr><td>best cosine (top_dense_score)</td>"
        f"<td>{_num(found['top_dense_score_auc'])}</td></tr>"
        f"<tr><td>answer evidence (evidence_score)</td>"
        f"<td>{_num(evidence) if evidence is not None else 'not measured'}</td></tr>"
    )
    intro = (
        f"<p>ROC AUC between {found['positives']} answerable and {found['negatives']} "
        "unanswerable questions (1.0: the signal tells them apart perfectly; 0.5: chance).</p>"
    )
    table = f"<table><tr><th>signal</th><th>AUC</th></tr>{rows}</table>"
    return _section("Answerable vs unanswerable", intro, table)


def _pairs(summary: dict[str, Any]) -> str:
    pairs = summary.get("by_language_pair") or {}
    if not pairs:
        return ""
    head = "".join(
        f"<th>{c}</th>"
        for c in ["pair", "questions", "coverage", "threshold", "median best cosine",
                  "AUC answerable vs not (cosine / evidence)"]
    )  # fmt: skip
    rows = []
    for pair, p in pairs.items():
        found = p.get("answerable_separation")
        auc = (
            f"{_num(found['top_dense_score_auc'])} / {_num(found['evidence_score_auc'])}"
            if found
            else "–"
        )
        thresholds = ", ".join(f"{t:.3f}" for t in p["thresholds"]) or "–"
        cells = [str(p["questions"]), _num(p["coverage"]), thresholds]
        cells += [_num(p["median_top_dense_score"]), auc]
        rows.append(f"<tr><td>{_e(pair)}</td>{''.join(f'<td>{c}</td>' for c in cells)}</tr>")
    intro = (
        "<p>The question's language and that of the passages found decide the relevance "
        "threshold; each pair is calibrated apart (docs/relevance-calibration.md).</p>"
    )
    table = f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    return _section("By language pair", intro, table)


def _latency_chart(results: Sequence[QuestionResult]) -> str:
    return histogram({"latency": [r.latency_ms for r in results]}, title="latency (ms)")


def _topics(summary: dict[str, Any]) -> str:
    topics = summary.get("topics") or []
    if not topics:
        return ""
    items = []
    for topic in topics:
        questions = "".join(f"<li>{_e(q)}</li>" for q in topic["questions"][:8])
        more = f"<li>… {topic['size'] - 8} more</li>" if topic["size"] > 8 else ""
        label = ", ".join(topic["label"]) or "(no distinctive terms)"
        items.append(
            f"<details><summary><b>{_e(label)}</b> — {topic['size']} questions</summary>"
            f"<ul>{questions}{more}</ul></details>"
        )
    return _section("Uncovered questions by topic", "".join(items))


def _comparison(comparison: dict[str, Any] | None) -> str:
    if not comparison:
        return ""
    head = (
        f"<p>Against {_e(comparison['baseline'])}: {comparison['matched']} questions matched, "
        f"<b>{len(comparison['improved'])}</b> improved, <b>{len(comparison['regressed'])}</b> "
        f"regressed, {comparison['unchanged']} unchanged; coverage "
        f"{_pct(comparison['coverage_before'])} → {_pct(comparison['coverage_after'])}.</p>"
    )
    lists = []
    for kind in ("regressed", "improved"):
        rows = "".join(
            f"<tr><td>{_e(c['question'])}</td><td>{c['before']} → {c['after']}</td></tr>"
            for c in comparison[kind][:50]
        )
        if rows:
            lists.append(
                f"<h3>{kind}</h3><table><tr><th>question</th><th>grade</th></tr>{rows}</table>"
            )
    return _section("Comparison", head, *lists)


def _judge(summary: dict[str, Any]) -> str:
    prompt = summary.get("judge_prompt")
    if not prompt:
        return ""
    return _section("LLM judge prompt", f"<pre>{_e(prompt)}</pre>")


def _question_table(results: Sequence[QuestionResult]) -> str:
    columns = ["#", "question", "covered", "best cosine", "rank", "F1", "answer", "top source"]
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    rows = []
    for r in results:
        top = r.sources[0].document if r.sources else ""
        answer = r.answer if len(r.answer) <= 200 else r.answer[:199] + "…"
        state = "yes" if r.covered else "no"
        rows.append(
            f'<tr class="{state}"><td>{_e(r.id)}</td><td>{_e(r.question)}</td><td>{state}</td>'
            f"<td>{_num(r.top_dense_score)}</td><td>{r.expected_rank or '–'}</td>"
            f"<td>{_num(r.f1, 2)}</td><td>{_e(answer)}</td><td>{_e(top)}</td></tr>"
        )
    return f'<table class="questions">{head}{"".join(rows)}</table>'
