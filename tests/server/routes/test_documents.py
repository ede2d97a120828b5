"""Documents over real HTTP: multipart uploads queued for the in-process worker, status, search,
delete, re-index, and every way an upload can be refused without leaving anything behind."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..conftest import LiveServer, error_of

pytestmark = pytest.mark.integration

FEES = (
    "# Card fees\n\nThe annual fee of the Harbor Gold card is 300 yuan. It is waived after "
    "twelve purchases a year.\n"
)
GRACE = "Repayments received within three days of the due date do not count as late.\n"


@pytest.fixture
def http(upload_server: LiveServer) -> Iterator[httpx.Client]:
    with upload_server.client() as client:
        yield client


@pytest.fixture
def collection(http: httpx.Client) -> str:
    name = f"kb-{uuid.uuid4().hex[:8]}"
    assert http.post("/v1/collections", json={"name": name}).status_code == 201
    return name


def _upload(
    http: httpx.Client, name: str, *files: tuple[str, bytes], **form: str
) -> httpx.Response:
    parts = [("files", (filename, data)) for filename, data in files]
    return http.post(f"/v1/collections/{name}/documents", files=parts, data=form)


def _wait(http: httpx.Client, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not end")


def _documents(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    response = http.get(f"/v1/collections/{name}/documents")
    assert response.status_code == 200, response.text
    return response.json()["documents"]


def test_upload_is_queued_ingested_searchable_and_deletable(
    http: httpx.Client, collection: str
) -> None:
    response = _upload(
        http,
        collection,
        ("fees.md", FEES.encode()),
        ("grace.txt", GRACE.encode()),
        metadata=json.dumps({"lang": "en"}),
    )
    assert response.status_code == 202, response.text
    jobs = response.json()["jobs"]
    assert [j["source"] for j in jobs] == ["fees.md", "grace.txt"]
    assert {j["state"] for j in jobs} <= {"queued", "running", "succeeded"}
    assert jobs[0]["media_type"] == "text/markdown" and jobs[1]["media_type"] == "text/plain"

    ended = [_wait(http, j["id"]) for j in jobs]
    assert [(j["state"], j["result"], j["attempts"]) for j in ended] == [
        ("succeeded", "added", 1),
        ("succeeded", "added", 1),
    ]
    assert all(j["chunk_count"] >= 1 and j["document_id"] for j in ended)

    documents = _documents(http, collection)
    assert [(d["source"], d["status"], d["title"], d["language"]) for d in documents] == [
        ("fees.md", "ready", "Card fees", "en"),
        ("grace.txt", "ready", "grace", "en"),
    ]
    assert http.get(f"/v1/collections/{collection}").json()["languages"] == ["en"]
    found = http.post(
        "/v1/search",
        json={
            "query": "annual fee Harbor Gold",
            "collections": [collection],
            "filter": {"lang": "en"},
        },
    ).json()["chunks"]
    assert found and found[0]["source"] == "fees.md" and found[0]["language"] == "en"

    fees_id = documents[0]["id"]
    assert http.delete(f"/v1/collections/{collection}/documents/{fees_id}").status_code == 204
    assert [d["source"] for d in _documents(http, collection)] == ["grace.txt"]
    found = http.post(
        "/v1/search", json={"query": "annual fee Harbor Gold", "collections": [collection]}
    ).json()["chunks"]
    assert all(c["source"] != "fees.md" for c in found)
    assert http.get(f"/v1/collections/{collection}").json()["document_count"] == 1
    again = http.delete(f"/v1/collections/{collection}/documents/{fees_id}")
    assert again.status_code == 404 and error_of(again)["code"] == "document_not_found"


def test_the_same_file_again_is_unchanged_and_a_new_version_replaces(
    http: httpx.Client, collection: str
) -> None:
    [first] = _upload(http, collection, ("fees.md", FEES.encode())).json()["jobs"]
    assert _wait(http, first["id"])["result"] == "added"
    [same] = _upload(http, collection, ("fees.md", FEES.encode())).json()["jobs"]
    assert _wait(http, same["id"])["result"] == "unchanged"
    changed = FEES.replace("300", "400").encode()
    [newer] = _upload(http, collection, ("fees.md", changed)).json()["jobs"]
    assert _wait(http, newer["id"])["result"] == "replaced"
    [document] = _documents(http, collection)
    assert document["size_bytes"] == len(changed)
    listed = http.get(f"/v1/collections/{collection}/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [newer["id"], same["id"], first["id"]]


def test_reindex_runs_the_stored_file_again(http: httpx.Client, collection: str) -> None:
    [job] = _upload(http, collection, ("fees.md", FEES.encode())).json()["jobs"]
    document_id = _wait(http, job["id"])["document_id"]
    response = http.post(f"/v1/collections/{collection}/documents/{document_id}/reindex")
    assert response.status_code == 202, response.text
    [reindex] = response.json()["jobs"]
    assert reindex["kind"] == "reindex"
    assert _wait(http, reindex["id"])["result"] == "replaced"
    whole = http.post(f"/v1/collections/{collection}/reindex")
    assert whole.status_code == 202 and len(whole.json()["jobs"]) == 1
    unknown = http.post(f"/v1/collections/{collection}/documents/{uuid.uuid4()}/reindex")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "document_not_found"


def test_a_corrupt_file_fails_in_the_worker_with_the_reason(
    http: httpx.Client, collection: str
) -> None:
    [job] = _upload(http, collection, ("scan.pdf", b"%PDF-1.4\n garbage")).json()["jobs"]
    ended = _wait(http, job["id"])
    assert ended["state"] == "failed" and ended["error"]["code"] == "corrupt_file"
    [document] = _documents(http, collection)
    assert (document["source"], document["status"], document["id"]) == ("scan.pdf", "failed", None)
    assert document["job"]["error"]["code"] == "corrupt_file"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def test_the_content_decides_the_type_not_the_name(http: httpx.Client, collection: str) -> None:
    response = _upload(http, collection, ("notes.exe", GRACE.encode()))
    assert response.status_code == 202, response.text
    [job] = response.json()["jobs"]
    assert job["media_type"] == "text/plain"
    assert _wait(http, job["id"])["result"] == "added"


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * (250 * 2**20))
    return buffer.getvalue()


def test_a_zip_bomb_fails_without_being_unpacked(http: httpx.Client, collection: str) -> None:
    [job] = _upload(http, collection, ("bomb.docx", _zip_bomb())).json()["jobs"]
    ended = _wait(http, job["id"])
    assert ended["state"] == "failed"
    assert ended["error"]["code"] in ("file_too_large", "corrupt_file"), ended["error"]


@pytest.mark.parametrize(
    ("files", "form", "status", "code"),
    [
        (
            [("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))],
            {},
            415,
            "unsupported_file",
        ),
        ([("photos.zip", _zip({"a.jpg": b"\xff\xd8\xff"}))], {}, 415, "unsupported_file"),
        ([("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" * 64)], {}, 415, "unsupported_file"),
        ([("big.txt", b"a" * (2**20 + 1))], {}, 413, "file_too_large"),
        ([("empty.txt", b"")], {}, 422, "empty_file"),
        ([("a.txt", b"one"), ("a.txt", b"two")], {}, 422, "duplicate_file_name"),
        ([("a.txt", b"one")], {"metadata": "{not json"}, 422, "invalid_metadata"),
        ([("a.txt", b"one")], {"metadata": "[1, 2]"}, 422, "invalid_metadata"),
        ([("ok.txt", b"fine"), ("notes.pdf", b"plain text, not a PDF")], {}, 422, "corrupt_file"),
        # Keys the system sets may not come from a writer: a passage could pass for a
        # tool's live record.
        (
            [("a.txt", b"text")],
            {"metadata": '{"tool": "repayment_records"}'},
            422,
            "reserved_metadata_key",
        ),
        (
            [("a.txt", b"text")],
            {"metadata": '{"kotaemon.kind": "tool"}'},
            422,
            "reserved_metadata_key",
        ),
    ],
)
def test_a_refused_upload_stores_and_queues_nothing(
    http: httpx.Client,
    collection: str,
    files: list[tuple[str, bytes]],
    form: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = _upload(http, collection, *files, **form)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert _documents(http, collection) == []
    assert http.get(f"/v1/collections/{collection}/jobs").json()["jobs"] == []


def test_upload_errors_for_the_request_itself(http: httpx.Client, collection: str) -> None:
    missing = http.post(f"/v1/collections/{collection}/documents", data={"x": "1"})
    assert missing.status_code == 422 and error_of(missing)["code"] == "invalid_request"
    nowhere = _upload(http, "no-such-collection", ("a.txt", b"text"))
    assert nowhere.status_code == 404 and error_of(nowhere)["code"] == "collection_not_found"
    folders = _upload(http, collection, ("../../etc/passwd.txt", b"root"))
    assert folders.status_code == 202
    assert folders.json()["jobs"][0]["source"] == "passwd.txt"


def test_unknown_jobs_and_documents_are_404(http: httpx.Client, collection: str) -> None:
    for job_id in (str(uuid.uuid4()), "not-a-uuid", "1; DROP TABLE ingest_jobs"):
        response = http.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 404 and error_of(response)["code"] == "job_not_found"
    response = http.delete(f"/v1/collections/{collection}/documents/not-a-uuid")
    assert response.status_code == 404 and error_of(response)["code"] == "document_not_found"
    bad_state = http.get(f"/v1/collections/{collection}/jobs", params={"state": "lost"})
    assert bad_state.status_code == 422
