"""Accuracy of the offline router on a labelled set, by language: for each question, whether it
goes to a tool or to the knowledge base, and whether the tool is called with the right arguments.

A question is right when the intent (one with tools, or none) is the labelled one, a call
happens exactly when labelled (``call: false`` with a tool intent: the question lacks a required
argument, so no call and the answer asks for it), and a call's arguments are the labelled ones.
Relative months resolve against ``--today`` so the labels stay fixed. Prints a table; results go
to results/router.json.

    python benchmarks/router.py [--config examples/agent.yaml]
                                [--labelled tests/agent/router_set.jsonl] [--today 2026-12-03]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.table import Table

from kotaemon.agent.config import load_agent_config
from kotaemon.agent.intents import IntentRouter
from kotaemon.agent.orchestrator import ToolOutcome, ToolPlanner
from kotaemon.agent.tools import ToolRegistry
from kotaemon.embeddings.base import Embedder

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "agent.yaml"
LABELLED = ROOT / "tests" / "agent" / "router_set.jsonl"
RESULTS = Path(__file__).parent / "results" / "router.json"
#: The date the labels' relative months ("上个月" = 2026-11) were written against.
TODAY = date(2026, 12, 3)


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass
class Report:
    by_language: dict[str, Tally] = field(default_factory=dict)
    wrong: list[dict[str, Any]] = field(default_factory=list)

    def accuracy(self, language: str) -> float:
        return self.by_language[language].accuracy


def load_labelled(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


async def evaluate(
    embedder: Embedder,
    items: Sequence[dict[str, Any]],
    config: Path = CONFIG,
    today: date = TODAY,
) -> Report:
    """Route and plan every question as the service would, without calling any tool."""
    agent = load_agent_config(config)
    router = IntentRouter(
        agent.intents, embedder, threshold=agent.router_threshold, today=lambda: today
    )
    await router.open()
    registry = ToolRegistry(agent.tools)
    planner = ToolPlanner(registry, router=router, today=lambda: today)
    report = Report()
    try:
        for item in items:
            route = await router.route(item["question"])
            intent = route.intent if route.intent and route.intent.tools else None
            calls = planner.plan(item["question"], intent, ToolOutcome()) if intent else []
            got = {
                "intent": intent.name if intent else None,
                "call": bool(calls),
                "arguments": {c.name: c.arguments for c in calls},
            }
            right = (
                got["intent"] == item["intent"]
                and got["call"] == item["call"]
                and (not item["call"] or got["arguments"] == item["arguments"])
            )
            tally = report.by_language.setdefault(item["language"], Tally())
            tally.right += right
            tally.total += 1
            if not right:
                report.wrong.append({"item": item, "got": got, "scores": route.scores})
    finally:
        await registry.close()
    return report


def print_table(report: Report, console: Console) -> None:
    table = Table(title="router accuracy (intent, call, arguments)")
    for column in ("language", "questions", "right", "accuracy"):
        table.add_column(column, justify="left" if column == "language" else "right")
    total = Tally()
    for language, tally in sorted(report.by_language.items()):
        table.add_row(language, str(tally.total), str(tally.right), f"{tally.accuracy:.3f}")
        total.right += tally.right
        total.total += tally.total
    table.add_row("all", str(total.total), str(total.right), f"{total.accuracy:.3f}")
    console.print(table)
    for wrong in report.wrong:
        item, got = wrong["item"], wrong["got"]
        expected = f"{item['intent']} call={item['call']}"
        found = f"{got['intent']} call={got['call']} {got['arguments'] or ''}"
        console.print(f"wrong: {item['question']} — expected {expected}, got {found}")


async def main(args: argparse.Namespace) -> None:
    from kotaemon.engine import build_embedder
    from kotaemon.settings import Settings

    os.environ.setdefault("CRM_TOKEN", "benchmark")  # read by the demo's tool headers
    embedder = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    await embedder.open()
    report = await evaluate(embedder, load_labelled(args.labelled), args.config, args.today)
    print_table(report, Console())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "config": str(args.config),
        "labelled": str(args.labelled),
        "today": args.today.isoformat(),
        "embedding_model": embedder.model,
        "by_language": {
            language: {**asdict(tally), "accuracy": tally.accuracy}
            for language, tally in report.by_language.items()
        },
        "wrong": report.wrong,
    }
    RESULTS.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY)
    anyio.run(main, parser.parse_args())
