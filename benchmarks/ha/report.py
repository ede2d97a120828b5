"""Figures from the load generator's results, the gates a chaos run must pass, and the tables.

Latency percentiles are over the requests that succeeded (a refused connection is fast and
would flatter them); a request belongs to the phase in which it ended.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .caches import rows as cache_rows
from .load import Result
from .outcomes import STREAM_CUT

STREAM_OPERATIONS = frozenset({"chat_stream", "completion_stream"})


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def figures(results: Iterable[Result]) -> dict[str, Any]:
    """Requests sent, succeeded, failed, success %, retried, and latency percentiles (ms)."""
    results = list(results)
    ok = [r.latency * 1000 for r in results if r.cause is None]
    sent = len(results)
    return {
        "sent": sent,
        "succeeded": len(ok),
        "failed": sent - len(ok),
        "success_pct": round(100 * len(ok) / sent, 3) if sent else 0.0,
        "retried_by_client": sum(r.retried for r in results),
        "p50_ms": round(percentile(ok, 50), 1),
        "p95_ms": round(percentile(ok, 95), 1),
        "p99_ms": round(percentile(ok, 99), 1),
    }


def summarize(results: Sequence[Result], events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Everything the report says about the requests: overall, per operation, per phase, by
    failure cause, and every failed request."""
    by_op: dict[str, list[Result]] = defaultdict(list)
    by_phase: dict[str, list[Result]] = defaultdict(list)
    causes: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for r in results:
        by_op[r.op].append(r)
        by_phase[r.phase].append(r)
        if r.cause is not None:
            causes[r.cause]["ops"][r.op] += 1
            causes[r.cause]["phases"][r.phase] += 1
    streams = [r for r in results if r.op in STREAM_OPERATIONS]
    return {
        "requests": figures(results),
        "operations": {op: figures(rs) for op, rs in sorted(by_op.items())},
        "phases": [
            {"name": name, **span, **figures(by_phase.get(name, []))}
            for name, span in phase_spans(events).items()
        ],
        "failures": {
            cause: {
                "count": sum(c["ops"].values()),
                "ops": dict(c["ops"]),
                "phases": dict(c["phases"]),
            }
            for cause, c in sorted(causes.items(), key=lambda kv: -sum(kv[1]["ops"].values()))
        },
        "streams": {
            "sent": len(streams),
            "cut": sum(r.cause == STREAM_CUT for r in streams),
            "resumed": sum(r.resumed for r in streams),
        },
        "failed_requests": [
            {
                "t": round(r.start, 3),
                "phase": r.phase,
                "op": r.op,
                "cause": r.cause,
                "detail": r.detail[:300],
                "ms": round(r.latency * 1000, 1),
            }
            for r in results
            if r.cause is not None
        ][:500],
        "retried_by_client": [
            {
                "t": round(r.start, 3),
                "phase": r.phase,
                "op": r.op,
                "cause": r.cause,
                "after": "broken response" if r.resumed else "failed connection",
            }
            for r in results
            if r.retried
        ][:500],
    }


def phase_spans(events: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Start and end (seconds since the run began) of each phase, from the timeline."""
    starts = [(e["phase"], e["t"]) for e in events if e["event"] == "phase"]
    last = max((e["t"] for e in events), default=0.0)
    ends = [t for _, t in starts[1:]] + ([last] if starts else [])
    spans: dict[str, dict[str, float]] = {}
    for (name, start), end in zip(starts, ends, strict=True):
        spans[name] = {"start_s": start, "end_s": end}
    return spans


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    detail: str


def gates(
    requests: dict[str, Any], documents: dict[str, Any], min_success_pct: float
) -> list[Gate]:
    """The chaos run's pass conditions: enough requests succeeded, no document lost, none
    duplicated."""
    success = requests["success_pct"]
    lost, duplicated = documents["lost"], documents["duplicated"]
    return [
        Gate(
            "success",
            requests["sent"] > 0 and success >= min_success_pct,
            f"{success:.3f}% of {requests['sent']} requests succeeded "
            f"(gate: >= {min_success_pct}%)",
        ),
        Gate(
            "no document lost",
            not lost,
            f"{len(lost)} lost" + (f": {', '.join(lost[:10])}" if lost else ""),
        ),
        Gate(
            "no document duplicated",
            not duplicated,
            f"{len(duplicated)} duplicated"
            + (f": {', '.join(duplicated[:10])}" if duplicated else ""),
        ),
    ]


def write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _figure_row(name: str, f: dict[str, Any]) -> list[str]:
    return [
        name,
        str(f["sent"]),
        str(f["succeeded"]),
        str(f["failed"]),
        f"{f['success_pct']:.2f}",
        f"{f['p50_ms']:.0f}",
        f"{f['p95_ms']:.0f}",
        f"{f['p99_ms']:.0f}",
    ]


_FIGURE_COLUMNS = ("sent", "ok", "failed", "success %", "p50 ms", "p95 ms", "p99 ms")


def print_chaos(report: dict[str, Any], console: Console) -> None:
    """The chaos run's tables, then its gates."""
    table = Table("operation", *_FIGURE_COLUMNS, title="Requests")
    for op, f in report["operations"].items():
        table.add_row(*_figure_row(op, f))
    table.add_row(*_figure_row("all", report["requests"]), style="bold")
    console.print(table)

    table = Table("phase", "from s", "to s", *_FIGURE_COLUMNS, title="Phases")
    for p in report["phases"]:
        row = _figure_row(p["name"], p)
        table.add_row(row[0], f"{p['start_s']:.0f}", f"{p['end_s']:.0f}", *row[1:])
    console.print(table)

    if report["failures"]:
        table = Table("cause", "count", "operations", "phases", title="Failures by cause")
        for cause, f in report["failures"].items():
            table.add_row(cause, str(f["count"]), _counts(f["ops"]), _counts(f["phases"]))
        console.print(table)

    d, s = report["documents"], report["streams"]
    table = Table(
        "streams sent",
        "cut",
        "cut, resumed",
        "documents uploaded",
        "indexed",
        "lost",
        "duplicated",
        "upload requests failed",
        "accepted twice",
        title="Streams and documents",
    )
    table.add_row(
        str(s["sent"]),
        str(s["cut"]),
        str(s["resumed"]),
        str(d["uploaded"]),
        str(d["indexed"]),
        str(len(d["lost"])),
        str(len(d["duplicated"])),
        str(d["upload_requests_failed"]),
        str(d["accepted_twice"]),
    )
    console.print(table)

    table = Table(
        "phase", "service", "action", "exit status", "exit s", "ready s", title="Restarts"
    )
    for r in report["restarts"]:
        table.add_row(
            r["phase"],
            r["service"],
            r["action"],
            str(r.get("exit_status", "")),
            _seconds(r.get("exit_seconds")),
            _seconds(r.get("ready_seconds")),
        )
    console.print(table)

    if caches := report.get("caches"):
        table = Table("cache", "hits", "misses", "errors", "hit %", title="Caches (all replicas)")
        for row in cache_rows(caches):
            table.add_row(*row)
        console.print(table)

    h = report["haproxy"]
    console.print(
        f"HAProxy: {h['requests']} requests, per replica {_counts(h['per_server'])}; "
        f"{h['retried']} retried, {h['redispatched']} redispatched"
    )
    for line, count in list(h["errors"].items())[:15]:
        console.print(f"  {count:>4} × {line}")
    console.print(f"Client: {report['client']['retries']}")
    print_gates([Gate(**g) for g in report["gates"]], console)


def print_gates(results: Sequence[Gate], console: Console) -> None:
    for gate in results:
        mark = "[green]PASS[/]" if gate.passed else "[red]FAIL[/]"
        console.print(f"{mark} {gate.name}: {gate.detail}")
    passed = sum(g.passed for g in results)
    # A plain closing line, as test runners print: CI reads it.
    console.print(f"gates: {passed} passed, {len(results) - passed} failed", markup=False)


def print_steady(report: dict[str, Any], console: Console) -> None:
    table = Table(
        "configuration",
        "req/s",
        "replica CPU-ms/req",
        "HAProxy CPU-ms/req",
        "load avg",
        "sent",
        "failed",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        title=f"Throughput, {report['duration_s']:g} s each, {report['concurrency']} connections",
    )
    for c in report["configurations"]:
        f = c["requests"]
        table.add_row(
            c["name"],
            f"{c['req_per_s']:.1f}",
            f"{c['replica_cpu_ms_per_request']:.0f}",
            f"{c['haproxy_cpu_ms_per_request']:.2f}",
            " → ".join(f"{x:g}" for x in c["load_average"]),
            str(f["sent"]),
            str(f["failed"]),
            f"{f['p50_ms']:.0f}",
            f"{f['p95_ms']:.0f}",
            f"{f['p99_ms']:.0f}",
        )
    console.print(table)
    console.print(report["ratio_text"])


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def gate_dicts(results: Sequence[Gate]) -> list[dict[str, Any]]:
    return [asdict(g) for g in results]
