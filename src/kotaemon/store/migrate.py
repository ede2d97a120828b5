"""Schema migrations (Alembic), run once at a time under a PostgreSQL advisory lock."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kotaemon.core.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every kotaemon process.
_MIGRATION_LOCK_ID = 0x6B6F7461  # "kota"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _engine(url: str) -> sqlalchemy.Engine:
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"expected a postgresql:// URL, got {scheme}://")
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


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision; concurrent callers wait for each other."""
    cfg = _config()
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sqlalchemy.exc.OperationalError as exc:
        raise StoreError(
            f"cannot reach PostgreSQL ({exc.orig}); check KOTAEMON_DATABASE_URL and that the "
            "server runs"
        ) from exc
    finally:
        engine.dispose()
