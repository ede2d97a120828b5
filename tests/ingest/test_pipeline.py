"""Ingestion end to end: files to chunks in Postgres; dedup; replacement; per-file errors."""

import anyio
import psycopg
import pytest

from kotaemon.core.errors import CorruptFileError
from kotaemon.engine import Engine

from ..conftest import KNOWLEDGE_BASE
from .loaders.documents import make_pdf
from .loaders.test_pdf import handbook

pytestmark = pytest.mark.anyio


async def chunk_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT d.source, c.ordinal, c.text FROM chunks c "
            "JOIN documents d ON d.id = c.document_id ORDER BY 1, 2"
        ).fetchall()


async def stats_are_consistent(url: str) -> None:
    """term_stats and collection counts equal what the chunks say (no drift, no orphans)."""
    with psycopg.connect(url) as conn:
        drift = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT collection_id, term, count(*) AS df
                FROM chunks, unnest(terms) AS term GROUP BY 1, 2
            ) actual FULL JOIN (SELECT * FROM term_stats WHERE df > 0) stored
              USING (collection_id, term)
            WHERE actual.df IS DISTINCT FROM stored.df
            """
        ).fetchone()
        counts = conn.execute(
            """
            SELECT count(*) FROM collections k
            WHERE chunk_count <> (SELECT count(*) FROM chunks c WHERE c.collection_id = k.id)
               OR document_count <> (SELECT count(*) FROM documents d
                                     WHERE d.collection_id = k.id)
               OR term_count <> (SELECT coalesce(sum(term_count), 0) FROM chunks c
                                 WHERE c.collection_id = k.id)
            """
        ).fetchone()
    assert drift == (0,) and counts == (0,)


async def test_sample_knowledge_base_ingests(engine: Engine, database_url: str) -> None:
    collection = await engine.ensure_collection("bank")
    results = await engine.ingest.arun(KNOWLEDGE_BASE, collection)
    assert all(r.status == "added" for r in results), results
    assert len(results) == 7
    rows = await chunk_rows(database_url)
    assert len(rows) >= 8
    await stats_are_consistent(database_url)
    assert {r.status for r in await engine.ingest.arun(KNOWLEDGE_BASE, collection)} == {"unchanged"}


async def test_changed_file_replaces_its_chunks(
    engine: Engine, database_url: str, tmp_path
) -> None:
    collection = await engine.ensure_collection("notes")
    doc = tmp_path / "policy.md"
    doc.write_text("# Policy\n\nThe grace period is three days.\n\nLate fees apply after that.")
    first = await engine.ingest.ingest_file(doc, collection)
    assert first.status == "added"
    doc.write_text("# Policy\n\nThe grace period is five days.")
    second = await engine.ingest.ingest_file(doc, collection)
    assert second.status == "replaced"
    texts = [r[2] for r in await chunk_rows(database_url)]
    assert texts == ["The grace period is five days."]
    await stats_are_consistent(database_url)


async def test_bad_files_fail_alone(engine: Engine, tmp_path) -> None:
    collection = await engine.ensure_collection("mixed")
    (tmp_path / "good.txt").write_text("Cards can be frozen in the app.")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage without objects")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" * 64)
    (tmp_path / "empty.md").write_text("")
    results = {
        r.source.rsplit("/", 1)[1]: r for r in await engine.ingest.arun(tmp_path, collection)
    }
    assert results["good.txt"].status == "added"
    for name in ("broken.pdf", "tool.exe", "empty.md"):
        assert results[name].status == "failed", name
        assert results[name].error and name in results[name].error
        assert results[name].error_code in ("corrupt_file", "unsupported_file")


async def test_concurrent_ingest_of_one_document_stores_one_copy(
    engine: Engine, database_url: str, tmp_path
) -> None:
    collection = await engine.ensure_collection("race")
    doc = tmp_path / "race.md"
    doc.write_text(
        "# Race\n\n" + "\n\n".join(f"Paragraph {i} about repayments." for i in range(20))
    )
    statuses: list[str] = []

    async def ingest() -> None:
        statuses.append((await engine.ingest.ingest_file(doc, collection)).status)

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(ingest)
    assert statuses.count("added") == 1 and statuses.count("unchanged") == 3
    rows = await chunk_rows(database_url)
    assert len(rows) == len({r[1] for r in rows})  # each ordinal once
    await stats_are_consistent(database_url)


async def test_delete_document_removes_chunks_and_stats(
    engine: Engine, database_url: str, tmp_path
) -> None:
    collection = await engine.ensure_collection("del")
    doc = tmp_path / "a.txt"
    doc.write_text("Lost cards are replaced for a fee.")
    await engine.ingest.ingest_file(doc, collection)
    await engine.store.documents.delete(collection, source=str(doc.resolve()))
    assert await chunk_rows(database_url) == []
    await stats_are_consistent(database_url)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("slow.pdf", make_pdf(["Late fees are 5% of the unpaid minimum payment."])),
        ("slow.html", b"<html><body><p>Late fees are 5% of the unpaid minimum.</p></body></html>"),
    ],
)
async def test_a_file_that_parses_too_long_is_stopped(
    engine: Engine, name: str, data: bytes
) -> None:
    collection = await engine.ensure_collection("kb")
    pipeline = engine.ingest
    pipeline.parse_timeout = 0.001  # less than a child process takes to start
    with pytest.raises(CorruptFileError, match="parsing took over") as caught:
        await pipeline.ingest_bytes(data, name, collection)
    assert caught.value.code == "parse_timeout"
    pipeline.parse_timeout = 60
    result = await pipeline.ingest_bytes(data, name, collection)
    assert result.status == "added" and result.chunk_count == 1


async def test_chunks_carry_their_section_and_page_not_the_contents_or_index(
    engine: Engine, database_url: str
) -> None:
    collection = await engine.ensure_collection("handbook")
    result = await engine.ingest.ingest_bytes(handbook(), "handbook.pdf", collection)
    assert result.status == "added"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT heading, page, text FROM chunks ORDER BY ordinal").fetchall()
    assert [(heading, page) for heading, page, _ in rows] == [
        ("1 Fees", 2),
        ("1.1 Late fees", 2),
        ("2 Repayment", 3),
        ("3 Lost cards", 4),
    ]
    text = "\n".join(t for *_, t in rows)
    assert "....." not in text and "grace period, 2, 3" not in text and "Page 2 of" not in text
    assert not any(t.startswith(h) for h, _, t in rows)  # the path is indexed, not shown
