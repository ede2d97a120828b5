"""The harness's figures and gates, on made-up results (no timing involved)."""

from __future__ import annotations

import io

from rich.console import Console

from benchmarks.ha.load import Result
from benchmarks.ha.report import Gate, gates, percentile, print_gates, summarize

NO_DOCUMENT_PROBLEM = {"lost": [], "duplicated": []}


def _results(ok: int, failed: int, *, op: str = "chat", phase: str = "steady") -> list[Result]:
    good = [Result(op, phase, float(i), 0.010 * (i % 100 + 1), None) for i in range(ok)]
    bad = [Result(op, phase, float(i), 0.001, "http_502") for i in range(failed)]
    return good + bad


def _passed(results: list[Gate]) -> dict[str, bool]:
    return {g.name: g.passed for g in results}


def test_the_success_gate_holds_at_the_threshold_and_fails_below_it() -> None:
    at = summarize(_results(9995, 5), [])["requests"]
    below = summarize(_results(9994, 6), [])["requests"]
    assert at["success_pct"] == 99.95 and below["success_pct"] == 99.94
    assert _passed(gates(at, NO_DOCUMENT_PROBLEM, 99.95))["success"]
    assert not _passed(gates(below, NO_DOCUMENT_PROBLEM, 99.95))["success"]


def test_no_request_at_all_is_a_failure_not_a_pass() -> None:
    empty = summarize([], [])["requests"]
    assert not _passed(gates(empty, NO_DOCUMENT_PROBLEM, 0.0))["success"]


def test_a_lost_or_duplicated_document_fails_its_gate_whatever_the_requests() -> None:
    perfect = summarize(_results(100, 0), [])["requests"]
    lost = _passed(gates(perfect, {"lost": ["note-00001.txt"], "duplicated": []}, 99.95))
    duplicated = _passed(gates(perfect, {"lost": [], "duplicated": ["note-00002.txt"]}, 99.95))
    assert lost == {"success": True, "no document lost": False, "no document duplicated": True}
    assert duplicated == {
        "success": True,
        "no document lost": True,
        "no document duplicated": False,
    }


def test_the_gates_end_on_a_plain_closing_line() -> None:
    out = io.StringIO()
    print_gates([Gate("success", True, "ok"), Gate("no document lost", False, "1 lost")],
                Console(file=out, width=200))  # fmt: skip
    assert out.getvalue().splitlines()[-1] == "gates: 1 passed, 1 failed"


def test_failures_are_counted_by_cause_operation_and_phase() -> None:
    events = [
        {"t": 0.0, "phase": "steady", "event": "phase"},
        {"t": 10.0, "phase": "replica_kill", "event": "phase"},
        {"t": 25.0, "phase": "replica_kill", "event": "load stopping"},
    ]
    results = [
        *_results(50, 0),
        Result("chat_stream", "replica_kill", 11.0, 0.2, "stream_cut"),
        Result("chat", "replica_kill", 11.5, 0.1, "http_502"),
        Result("search", "replica_kill", 12.0, 0.05, None, retried=True),
        Result("completion_stream", "replica_kill", 12.5, 0.3, None, retried=True, resumed=True),
    ]
    summary = summarize(results, events)
    assert summary["failures"]["stream_cut"] == {
        "count": 1, "ops": {"chat_stream": 1}, "phases": {"replica_kill": 1}
    }  # fmt: skip
    assert summary["streams"] == {"sent": 2, "cut": 1, "resumed": 1}
    phases = {p["name"]: p for p in summary["phases"]}
    assert (phases["steady"]["start_s"], phases["steady"]["end_s"]) == (0.0, 10.0)
    assert (phases["replica_kill"]["sent"], phases["replica_kill"]["failed"]) == (4, 2)
    assert summary["requests"]["retried_by_client"] == 2
    assert [r["after"] for r in summary["retried_by_client"]] == [
        "failed connection", "broken response"
    ]  # fmt: skip
    assert [f["cause"] for f in summary["failed_requests"]] == ["stream_cut", "http_502"]


def test_latency_percentiles_are_over_successes_by_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([1.0, 2.0], 99) == 2.0
    assert percentile([], 95) == 0.0
    figures = summarize(_results(100, 50), [])["requests"]
    assert (figures["p50_ms"], figures["p99_ms"]) == (500.0, 990.0)  # failures (1 ms) left out
