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


def test_the_languages_migration_classifies_stored_documents(postgres_admin_url: str) -> None:
    """0008 gives documents stored before it their language, by ingestion's rule."""
    from alembic import command

    texts = {
        "zh.txt": "信用卡还款宽限期为到期还款日后3天，PIN 不要告诉别人。",
        "en.txt": "The grace period is 3 days.",
    }
    with fresh_database(postgres_admin_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            space = conn.execute(
                "INSERT INTO embedding_spaces (model, dim) VALUES ('test:2d', 2) RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            collection = conn.execute(
                "INSERT INTO collections (name, owner_id, space_id) VALUES ('old', 'u', %s) "
                "RETURNING id",
                (space,),
            ).fetchone()[0]  # type: ignore[index]
            for source, text in texts.items():
                document = conn.execute(
                    "INSERT INTO documents (collection_id, source, title, media_type, "
                    "content_hash, size_bytes) VALUES (%s, %s, %s, 'text/plain', %s, 1) "
                    "RETURNING id",
                    (collection, source, source, source),
                ).fetchone()[0]  # type: ignore[index]
                conn.execute(
                    "INSERT INTO chunks (document_id, collection_id, ordinal, text, token_count, "
                    "space_id, embedding, terms, term_count, bm25) VALUES (%s, %s, 0, %s, 1, %s, "
                    "'[1,0]', '{}', 1, '{}/1')",
                    (document, collection, text, space),
                )
        engine = migrate._engine(url)
        config = migrate._config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")  # as if stored before 0008
            command.upgrade(config, "head")
        engine.dispose()
        with psycopg.connect(url) as conn:
            documents = dict(conn.execute("SELECT source, language FROM documents").fetchall())
            chunks = {r[0] for r in conn.execute("SELECT language FROM chunks").fetchall()}
            [languages] = conn.execute("SELECT languages FROM collections").fetchone()  # type: ignore[misc]
    assert documents == {"zh.txt": "zh", "en.txt": "en"}
    assert chunks == {"zh", "en"} and languages == ["en", "zh"]
