"""Uploads and their check: every document the service accepted must end ready, exactly once,
with the chunks a single ingestion of the same file gives.

Small documents of distinct content are uploaded under load; a large one keeps a worker busy
long enough to be killed mid-job. At the end the collection's listing is compared with what was
accepted and with a baseline: the same files uploaded once more, into a fresh collection, on a
quiet system (the embedding cache makes that cheap). The listing's ``chunk_count`` is a stored
column, so the check also counts the chunk rows in PostgreSQL: a job that wrote its chunks twice
would show only there.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

_VOCABULARY = """
account balance card credit debit fee interest payment statement transfer branch loan limit
overdraft savings deposit withdrawal mortgage rate annual monthly daily charge refund dispute
merchant online mobile secure password token customer service hours holiday weekend late grace
period minimum due amount currency exchange abroad travel notice policy term condition review
approve decline reason request form signature identity address email phone manager advisor
report lost stolen replace block
"""
_WORDS = tuple(_VOCABULARY.split())
TERMINAL_JOB_STATES = frozenset({"succeeded", "failed"})


def _prose(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = rng.choices(_WORDS, k=rng.randint(8, 16))
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def small_document(seed: str, n: int) -> tuple[str, bytes]:
    """A short note (one or two chunks) whose content no other note shares."""
    rng = random.Random(f"{seed}-{n}")
    body = "\n\n".join(_prose(rng, 4) for _ in range(3))
    text = f"# Note {n} of run {seed}\n\nReference code HA-{seed}-{n:05d}.\n\n{body}\n"
    return f"note-{n:05d}.txt", text.encode()


def large_document(seed: str, paragraphs: int) -> tuple[str, bytes]:
    """A long handbook: dozens of chunks, so that embedding it takes a worker many seconds."""
    rng = random.Random(f"{seed}-large")
    parts = [f"# Handbook of run {seed}"]
    for i in range(paragraphs):
        parts.append(f"## Section {i + 1}\n\n{_prose(rng, 12)}")
    return "handbook.txt", ("\n\n".join(parts) + "\n").encode()


@dataclass
class Upload:
    """One file the load generator sent, and the jobs the service gave it (one per accepted
    request: a client's retry may have been accepted twice)."""

    source: str
    data: bytes
    job_ids: list[str] = field(default_factory=list)
    requests_failed: int = 0


async def job_states(
    client: httpx.AsyncClient, job_ids: list[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """Poll ``GET /v1/jobs/{id}`` until every job has ended or ``timeout`` passed; the last
    state seen of each (a poll that fails is tried again at the next round)."""
    deadline = time.monotonic() + timeout
    states: dict[str, dict[str, Any]] = {}
    while True:
        pending = [j for j in job_ids if states.get(j, {}).get("state") not in TERMINAL_JOB_STATES]
        if not pending or time.monotonic() > deadline:
            return states
        for job_id in pending:
            try:
                response = await client.get(f"/v1/jobs/{job_id}")
                if response.status_code == 200:
                    states[job_id] = response.json()
            except httpx.HTTPError:
                pass
        await asyncio.sleep(0.5)


async def listing(client: httpx.AsyncClient, collection: str) -> list[dict[str, Any]]:
    """Every row of ``GET /v1/collections/{name}/documents``, page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        response = await client.get(
            f"/v1/collections/{collection}/documents", params={"limit": 1000, "offset": len(rows)}
        )
        response.raise_for_status()
        page = response.json()["documents"]
        rows += page
        if len(page) < 1000:
            return rows


async def baseline(
    client: httpx.AsyncClient, uploads: list[Upload], collection: str, timeout: float
) -> dict[str, int]:
    """Chunks per source when each file is ingested once, on a quiet system."""
    created = await client.post("/v1/collections", json={"name": collection})
    created.raise_for_status()
    job_ids = []
    for start in range(0, len(uploads), 50):
        files = [("files", (u.source, u.data, "text/plain")) for u in uploads[start : start + 50]]
        response = await client.post(f"/v1/collections/{collection}/documents", files=files)
        response.raise_for_status()
        job_ids += [job["id"] for job in response.json()["jobs"]]
    await job_states(client, job_ids, timeout)
    return {row["source"]: row["chunk_count"] for row in await listing(client, collection)}


def chunk_rows(database_url: str, collection: str) -> dict[str, int]:
    """Chunk rows per document source, counted in PostgreSQL."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT d.source, count(c.id) FROM documents d "
            "JOIN collections k ON k.id = d.collection_id "
            "LEFT JOIN chunks c ON c.document_id = d.id "
            "WHERE k.name = %s GROUP BY d.id, d.source",
            (collection,),
        ).fetchall()
    return {source: int(count) for source, count in rows}


def check(
    uploads: list[Upload],
    listed: list[dict[str, Any]],
    expected_chunks: dict[str, int],
    rows: dict[str, int],
) -> dict[str, Any]:
    """Accepted uploads against the listing. Lost: accepted but not ready, or with fewer chunks
    than one ingestion gives; duplicated: listed more than once, or with more chunks (in the
    listing or in the table) than one ingestion gives; unexpected: listed but never sent."""
    by_source = Counter(row["source"] for row in listed)
    ready = {row["source"]: row for row in listed if row["status"] == "ready"}
    accepted = [u for u in uploads if u.job_ids]
    lost, duplicated = [], []
    for upload in accepted:
        row = ready.get(upload.source)
        if row is None:
            lost.append(upload.source)
            continue
        want = expected_chunks.get(upload.source, row["chunk_count"])
        have = [row["chunk_count"], rows.get(upload.source, 0)]
        if by_source[upload.source] > 1 or max(have) > want:
            duplicated.append(upload.source)
        elif min(have) < want:
            lost.append(upload.source)
    sent = {u.source for u in uploads}
    return {
        "upload_requests_failed": sum(u.requests_failed for u in uploads),
        "uploaded": len(accepted),
        "accepted_twice": sum(len(u.job_ids) > 1 for u in accepted),
        "stored_though_request_failed": sum(
            1 for u in uploads if not u.job_ids and u.source in ready
        ),
        "indexed": len(accepted) - len(lost) - len(duplicated),
        "lost": lost,
        "duplicated": duplicated,
        "unchecked_against_baseline": sorted(
            u.source for u in accepted if u.source not in expected_chunks
        ),
        "unexpected": sorted(set(by_source) - sent),
    }
