"""The benchmark's tables (one per mode, then one line per question that is not right)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table


def percent(k: int | None, n: int) -> str:
    return "–" if k is None else f"{k}/{n} ({100 * k / n:.0f}%)"


#: Per mode: the table's title and its columns (summary key, heading).
COLUMNS = {
    "extractive": (
        "extractive (no LLM)",
        [
            ("correct", "correct"),
            ("source_ok", "right source cited"),
            ("fact_ok", "fact in answer"),
        ],
    ),
    "llm": (
        "with LLM (fake server)",
        [("source_ok", "expected source in prompt"), ("top_source_ok", "expected source is [1]")],
    ),
    "agent": (
        "general questions, demo agent loaded (extractive)",
        [
            ("correct", "correct, no tool"),
            ("source_ok", "right source cited"),
            ("fact_ok", "fact in answer"),
            ("tool_free", "no tool called"),
        ],
    ),
}


def print_tables(report: dict) -> None:
    out = Console(width=None if sys.stdout.isatty() else 132)
    for mode, result in report["modes"].items():
        title, columns = COLUMNS[mode]
        table = Table("group", "questions", *(h for _, h in columns), "refused", title=title)
        for r in result["summary"]:
            n = r["questions"]
            cells = [percent(r[k], n) for k, _ in columns] + [percent(r["refused"], n)]
            table.add_row(r["group"], str(n), *cells)
        out.print(table)
        what = "prompts whose source [1] is" if mode == "llm" else "answers quoting"
        f = result["furniture"]
        out.print(
            f"{what} navigation or a table of contents: {f['answers']}; such chunks among the "
            f"sources given: {f['sources']} of {f['given']}"
        )
        if mode == "agent":
            calls = sum(bool(r["tool_calls"]) for r in result["rows"])
            warnings = sum(r["tool_warning"] for r in result["rows"])
            out.print(
                f"general questions that called a tool: {calls}; with a tool warning: {warnings}"
            )
        failures = Table("id", "pair", "type", "outcome", "top / threshold", "cited", "why")
        for r in result["rows"]:
            if not r["correct"] or r["tool_calls"]:
                failures.add_row(
                    r["id"],
                    r["pair"],
                    r["doc_type"] or "–",
                    r["outcome"],
                    _scores(r),
                    ", ".join(dict.fromkeys(r["prompt_sources"] or r["cited"])) or "–",
                    why(r),
                )
        if failures.rows:
            failures.title = f"{title}: not right"
            out.print(failures)


def furniture(rows: list[dict], mode: str) -> dict:
    """Page furniture (navigation, tables of contents) in the answers and their sources.

    ``answers``: answers quoting such a chunk (LLM: whose source [1] is one); ``sources``: such
    chunks among the sources the answers were given, of ``given``.
    """
    answered = [r for r in rows if r["outcome"] == "answered"]
    if mode == "llm":
        quoting = sum(
            bool(r["retrieved"]) and r["retrieved"][0]["kind"] != "body" for r in answered
        )
    else:
        quoting = sum(bool({"navigation", "toc"} & set(r["cited_kinds"])) for r in answered)
    given = [c for r in answered for c in r["retrieved"]]
    return {
        "answers": quoting,
        "sources": sum(c["kind"] != "body" for c in given),
        "given": len(given),
    }


def _scores(r: dict) -> str:
    top, cut = r["top_dense_score"], r["threshold"]
    return "–" if top is None else f"{top:.3f} / {cut:.3f}" if cut is not None else f"{top:.3f}"


def why(r: dict) -> str:
    """One line: what went wrong, and where retrieval ranked the expected source."""
    if r["outcome"] == "error":
        return r["text"][:80]
    if r["tool_calls"]:
        return f"tool called: {', '.join(r['tool_calls'])}"
    if not r["answerable"]:
        return "answered an unanswerable question"
    files = [c["file"] for c in r["retrieved"]]
    ranks = [i for i, f in enumerate(files, 1) if any(f == e for e in r["expected_sources"])]
    where = f"expected source at rank {ranks[0]}" if ranks else "expected source not retrieved"
    if r["outcome"] == "no_context":
        return f"refused below the threshold; {where}"
    if not r["source_ok"]:
        return f"wrong source; {where}"
    if r["fact_ok"] is False:
        furniture = {"navigation", "toc"} & set(r["cited_kinds"])
        holding = [i for i, c in enumerate(r["retrieved"], 1) if c["has_facts"]]
        passage = f"answer passage at rank {holding[0]}" if holding else "answer passage not found"
        quoted = f"; quoted {'/'.join(sorted(furniture))}" if furniture else ""
        return f"right source, fact missing; {passage}{quoted}"
    return ""
