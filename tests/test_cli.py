"""The ``kotaemon`` command in a real subprocess: answer on stdout, logs on stderr, clear errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kotaemon.store import migrate

from .conftest import KNOWLEDGE_BASE, ROOT, fresh_database

KOTAEMON = [sys.executable, "-m", "kotaemon"]


def run(
    args: list[str], database_url: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")} | {
        "KOTAEMON_DATABASE_URL": database_url,
        "KOTAEMON_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        KOTAEMON + args,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,  # the README's commands name paths from the repository's root
        timeout=300,
        check=False,
    )


def test_ingest_ask_search(database_url: str, tmp_path: Path) -> None:
    ingested = run(["ingest", str(KNOWLEDGE_BASE), "-c", "bank"], database_url, tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    assert "7 added" in ingested.stderr and ingested.stdout == ""

    again = run(["ingest", str(KNOWLEDGE_BASE), "-c", "bank"], database_url, tmp_path)
    assert "7 unchanged" in again.stderr

    asked = run(["ask", "信用卡还款的宽限期是几天？"], database_url, tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("（未配置大语言模型")
    assert "Sources:" in asked.stdout and "[1]" in asked.stdout
    assert "INFO" not in asked.stdout

    found = run(["search", "late payment fee", "-k", "2"], database_url, tmp_path)
    assert found.returncode == 0 and "fees" in found.stdout.lower()

    listed = run(["collections"], database_url, tmp_path)
    assert "bank" in listed.stdout

    docs = run(["documents", "-c", "bank"], database_url, tmp_path)
    assert docs.returncode == 0 and "信用卡收费标准" in docs.stdout and "text/html" in docs.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/no/such/folder"], "no such file or folder"),
        (["ask", "  "], "question is empty"),
        (["ask", "fees?", "-c", "missing"], "collection 'missing' not found"),
        (["search", "fees", "--mode", "fuzzy"], "Invalid value for '--mode'"),
        (["search", "fees", "--top-k", "500"], "top_k: Input should be less than or equal to 100"),
    ],
)
def test_mistakes_get_clear_messages(
    database_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(args, database_url, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_is_named(database_url: str, tmp_path: Path) -> None:
    result = run(["collections"], database_url, tmp_path, KOTAEMON_TOP_K="lots")
    assert result.returncode == 2 and "KOTAEMON_TOP_K" in result.stderr


def test_migrate_brings_an_empty_database_to_head(postgres_admin_url: str, tmp_path: Path) -> None:
    with fresh_database(postgres_admin_url, "template0") as url:
        refused = run(["collections"], url, tmp_path, KOTAEMON_AUTO_MIGRATE="false")
        assert refused.returncode == 1 and "kotaemon migrate" in refused.stderr
        migrated = run(["migrate"], url, tmp_path, KOTAEMON_AUTO_MIGRATE="false")
        assert migrated.returncode == 0, migrated.stderr
        assert f"revision {migrate.head_revision()}" in migrated.stderr
        listed = run(["collections"], url, tmp_path, KOTAEMON_AUTO_MIGRATE="false")
        assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["serve", "--host", "0.0.0.0"], {}),  # the flag
        (["serve"], {"KOTAEMON_HOST": "0.0.0.0"}),  # the environment
    ],
)
def test_a_public_address_without_auth_is_refused_by_flag_as_by_environment(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    """Flags are validated with the environment, never patched onto built settings."""
    result = run(args, "postgresql://unused@/nodb", tmp_path, **env)
    assert result.returncode == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in result.stderr
