"""Schema migrations (Alembic), run once at a time under a PostgreSQL advisory lock.

A process that starts on a database already at this code's revision (the usual case: a replica
restarting) checks that with one query and never loads Alembic, which keeps start-up short.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from kotaemon.core.errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    import sqlalchemy
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every kotaemon process.
_MIGRATION_LOCK_ID = 0x6B6F7461  # "kota"
MIN_SERVER_VERSION = 150000  # PostgreSQL 15
MIN_PGVECTOR = (0, 8, 0)  # iterative index scans keep filtered HNSW results complete


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _engine(url: str) -> sqlalchemy.Engine:
    import sqlalchemy

    _check_scheme(url)
    rest = url.partition("://")[2]
    return sqlalchemy.create_engine(f"postgresql+psycopg://{rest}", poolclass=sqlalchemy.NullPool)


@cache
def head_revision() -> str:
    """The newest migration this code knows: the revision no other one revises, read from the
    migration files (the same answer as Alembic's, which tests/store/test_migrations.py pins)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r'^revision = "(\w+)"', text, re.M))
        revised.update(re.findall(r'^down_revision = "(\w+)"', text, re.M))
    [head] = revisions - revised
    return head


def current_revision(url: str) -> str | None:
    """The migration the database is at (None for an empty database)."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            table = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
            if table is None or table[0] is None:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot reach PostgreSQL ({exc}); check KOTAEMON_DATABASE_URL and that the server runs"
        ) from exc
    return str(row[0]) if row else None


def check_server(url: str) -> None:
    """Refuse servers older than PostgreSQL 15 or without pgvector >= 0.8 (iterative scans).

    :raises StoreError: naming what the server has and what kotaemon needs.
    """
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version_num')::int, "
                "coalesce((SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
                "(SELECT default_version FROM pg_available_extensions WHERE name = 'vector'))"
            ).fetchone()
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot reach PostgreSQL ({exc}); check KOTAEMON_DATABASE_URL and that the server runs"
        ) from exc
    assert row is not None
    server, pgvector = row
    version = tuple(int(part) for part in (pgvector or "0").split(".")[:3])
    if server < MIN_SERVER_VERSION or version < MIN_PGVECTOR:
        raise StoreError(
            f"kotaemon needs PostgreSQL >= 15 with the pgvector extension >= 0.8.0; this server "
            f"is {server // 10000} with pgvector {pgvector or 'not installed'}",
            code="store_version",
        )


def upgrade(url: str) -> None:
    """Check the server, then bring the schema to the newest revision.

    Concurrent callers (replicas starting together) wait for each other on an advisory lock.
    :raises StoreError: if the server is unreachable, too old, or a migration fails.
    """
    import sqlalchemy
    from alembic import command

    engine = _engine(url)
    check_server(url)
    cfg = _config()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sqlalchemy.exc.DBAPIError as exc:
        raise StoreError(
            f"the database migration failed ({exc.orig}); check that the user may create "
            "extensions and tables, or run `kotaemon migrate` as an owner",
            code="migration_failed",
        ) from exc
    finally:
        engine.dispose()


def check_current(url: str) -> None:
    """Refuse a database whose schema is not at this code's revision (``auto_migrate`` off).

    :raises StoreError: saying to run ``kotaemon migrate``.
    """
    check_server(url)
    current, head = current_revision(url), head_revision()
    if current != head:
        raise StoreError(
            f"the database schema is at revision {current or 'none'}, this kotaemon needs "
            f"{head}: run `kotaemon migrate` (or set KOTAEMON_AUTO_MIGRATE=true)",
            code="schema_outdated",
        )


def prepare(url: str, *, auto_migrate: bool) -> None:
    """At start-up: the schema at this code's revision, migrating it if allowed and needed.

    :raises StoreError: see :func:`upgrade` and :func:`check_current`.
    """
    _check_scheme(url)
    if current_revision(url) == head_revision():
        check_server(url)
        return
    if auto_migrate:
        upgrade(url)
    else:
        check_current(url)


def _check_scheme(url: str) -> None:
    scheme = url.partition("://")[0]
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ConfigurationError(
            f"KOTAEMON_DATABASE_URL must be a postgresql:// URL, not {scheme}://"
        )
