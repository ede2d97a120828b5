"""The harness's document check: lost, duplicated and unexpected documents, on made-up rows."""

from __future__ import annotations

from typing import Any

from benchmarks.ha.documents import Upload, check, large_document, small_document


def _row(source: str, chunks: int, status: str = "ready") -> dict[str, Any]:
    return {"source": source, "chunk_count": chunks, "status": status}


def test_generated_documents_are_distinct_and_reproducible() -> None:
    notes = [small_document("run", n) for n in range(50)]
    assert len({data for _, data in notes}) == len({name for name, _ in notes}) == 50
    assert small_document("run", 7) == notes[7]
    assert small_document("other", 7)[1] != notes[7][1]
    assert len(large_document("run", 60)[1]) > 20 * len(notes[0][1])


def test_every_accepted_upload_ready_once_with_the_baseline_chunks_passes() -> None:
    uploads = [Upload("a.txt", b"a", ["j1"]), Upload("b.txt", b"b", ["j2", "j3"])]
    listed = [_row("a.txt", 2), _row("b.txt", 1)]
    result = check(uploads, listed, {"a.txt": 2, "b.txt": 1}, {"a.txt": 2, "b.txt": 1})
    assert (result["uploaded"], result["indexed"], result["accepted_twice"]) == (2, 2, 1)
    assert result["lost"] == result["duplicated"] == result["unexpected"] == []


def test_an_accepted_upload_that_is_not_ready_or_is_short_of_chunks_is_lost() -> None:
    uploads = [Upload(s, b"x", ["j"]) for s in ("a.txt", "b.txt", "c.txt")]
    listed = [_row("a.txt", 0, "failed"), _row("b.txt", 1)]  # c.txt is missing altogether
    result = check(uploads, listed, {"a.txt": 2, "b.txt": 2, "c.txt": 1}, {"b.txt": 1})
    assert result["lost"] == ["a.txt", "b.txt", "c.txt"]
    assert result["indexed"] == 0


def test_more_chunks_than_one_ingestion_gives_is_a_duplicate_even_if_the_listing_hides_it() -> None:
    uploads = [Upload("a.txt", b"a", ["j1"]), Upload("b.txt", b"b", ["j2"])]
    listed = [_row("a.txt", 4), _row("b.txt", 2)]
    rows = {"a.txt": 4, "b.txt": 4}  # b's chunk rows were written twice; its stored count says 2
    result = check(uploads, listed, {"a.txt": 2, "b.txt": 2}, rows)
    assert result["duplicated"] == ["a.txt", "b.txt"]


def test_a_failed_upload_request_is_not_a_lost_document_and_strangers_are_reported() -> None:
    uploads = [Upload("a.txt", b"a", [], requests_failed=1), Upload("b.txt", b"b", [], 1)]
    listed = [
        _row("a.txt", 1),
        _row("stranger.txt", 1),
    ]  # a was stored although its answer was lost
    result = check(uploads, listed, {}, {"a.txt": 1, "stranger.txt": 1})
    assert result["uploaded"] == 0 and result["lost"] == []
    assert result["upload_requests_failed"] == 2
    assert result["stored_though_request_failed"] == 1
    assert result["unexpected"] == ["stranger.txt"]
