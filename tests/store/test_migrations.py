"""Migrations produce exactly the declared schema, and run safely more than once."""

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from kotaemon.core.errors import ConfigurationError, StoreError
from kotaemon.store import migrate

from ..conftest import fresh_database

EXPECTED_TABLES = {
    "alembic_version",
    "answers",
    "api_keys",
    "audit_events",
    "auth_logins",
    "chunks",
    "collection_access",
    "collections",
    "documents",
    "embedding_cache",
    "embedding_spaces",
    "eval_results",
    "eval_runs",
    "feedback",
    "files",
    "ingest_jobs",
    "conversations",
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
    "sessions",
    "term_stats",
}


def test_schema_is_at_head_with_the_declared_tables(database_url: str) -> None:
    assert migrate.current_revision(database_url) == migrate.head_revision()
    with psycopg.connect(database_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'chunks'"
            ).fetchall()
        }
    assert tables == EXPECTED_TABLES
    assert {"embedding", "bm25", "terms", "space_id", "collection_id", "page"} <= columns


def test_the_head_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert (
        migrate.head_revision() == ScriptDirectory.from_config(migrate._config()).get_current_head()
    )


def test_upgrade_is_idempotent(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()


def test_non_postgres_url_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="postgresql://"):
        migrate.upgrade("mysql://localhost/db")


def test_a_database_behind_the_code_is_refused_without_auto_migrate(database_url: str) -> None:
    migrate.check_current(database_url)  # at head: accepted
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    with pytest.raises(StoreError, match="kotaemon migrate") as caught:
        migrate.check_current(database_url)
    assert caught.value.code == "schema_outdated"


def test_replicas_starting_together_migrate_once(postgres_admin_url: str) -> None:
    with fresh_database(postgres_admin_url, "template0") as url:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: migrate.upgrade(url), range(4)))  # raises if any failed
        assert migrate.current_revision(url) == migrate.head_revision()
