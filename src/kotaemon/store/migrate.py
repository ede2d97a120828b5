"""Schema migrations (Alembic), run once at a time under a PostgreSQL advisory lock."""

from __future__ import annotations

from pathlib import Path

import psycopg
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kotaemon.core.errors import ConfigurationError, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every kotaemon process.
_MIGRATION_LOCK_ID = 0x6B6F7461  # "kota"
MIN_SERVER_VERSION = 150000  # PostgreSQL 15
MIN_PGVECTOR = (0, 8, 0)  # iterative index scans keep filtered HNSW results complete


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _engine(url: str) -> sqlalchemy.Engine:
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ConfigurationError(
            f"KOTAEMON_DATABASE_URL must be a postgresql:// URL, not {scheme}://"
        )
    return sqlalchemy.create_engine(f"postgresql+psycopg://{rest}", poolclass=sqlalchemy.NullPool)


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    """The migration the database is at (None for an empty database)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


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
