"""Batch-testing fixtures: the ``kotaemon`` command in a subprocess, on a database holding the
sample knowledge base (English part) in collection ``bank``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from kotaemon.engine import Engine

from ..conftest import KNOWLEDGE_BASE, ROOT, fresh_database, make_settings

KOTAEMON = [sys.executable, "-m", "kotaemon"]

#: Questions the sample knowledge base answers, and two it knows nothing about.
BANK_QUESTIONS: list[dict[str, Any]] = [
    {"id": "due", "question": "When is the payment due date of a Harbor Bank credit card?",
     "answers": ["20 days after the statement date"], "sources": ["credit_card_repayment.md"],
     "tags": ["repayment"]},
    {"id": "pin", "question": "Will Harbor Bank ever ask me for my PIN?",
     "sources": ["account_security"], "tags": ["security"]},
    {"id": "mars", "question": "What is the boiling point of liquid nitrogen on Mars?",
     "tags": ["offtopic"]},
    {"id": "pizza", "question": "Which pizza toppings does the chef recommend tonight?",
     "tags": ["offtopic"]},
]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def cli_env(database_url: str, data_dir: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")}
    return base | {
        "KOTAEMON_DATABASE_URL": database_url,
        "KOTAEMON_DATA_DIR": str(data_dir),
        "KOTAEMON_LOG_LEVEL": "WARNING",
        **env,
    }


def kotaemon(
    args: list[str], database_url: str, data_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        KOTAEMON + args,
        capture_output=True,
        text=True,
        env=cli_env(database_url, data_dir, **env),
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def ingest_bank(database_url: str, data_dir: Path) -> None:
    async def main() -> None:
        async with Engine(make_settings(database_url, data_dir)) as engine:
            target = await engine.ensure_collection("bank")
            results = await engine.ingest.arun(KNOWLEDGE_BASE / "en", target)
            assert all(r.status != "failed" for r in results), results

    anyio.run(main)


@pytest.fixture(scope="package")
def bank_database(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database with the English sample knowledge base in ``bank`` (shared: tests add
    collections and runs of their own, never change ``bank``)."""
    with fresh_database(postgres_admin_url) as url:
        ingest_bank(url, tmp_path_factory.mktemp("bank"))
        yield url
