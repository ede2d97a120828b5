"""Documents of a collection: upload (queued for a worker), list with status, delete, re-index;
and the ingestion jobs behind them.

An upload is checked whole before anything is stored: every file must have a usable name, fit
the size limit and be of a supported type (read from its bytes, not its name). Then all of its
files are stored and queued in one transaction, and the answer is ``202`` with one job each.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status

from kotaemon.core.errors import (
    FileTooLargeError,
    InvalidInputError,
    KotaemonError,
    NotFoundError,
)
from kotaemon.core.principal import Principal
from kotaemon.core.schema import IngestJob, JobState
from kotaemon.engine import Engine
from kotaemon.ingest.loaders import sniff_media_type
from kotaemon.ingest.pipeline import check_metadata
from kotaemon.server.audit import audit
from kotaemon.server.deps import EngineDep, ReaderPrincipal, SettingsDep, StoreDep, WriterPrincipal
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import DocumentList, DocumentPublic, JobList
from kotaemon.store.jobs import NewFile

router = APIRouter(tags=["documents"])

#: Uploads get KOTAEMON_MAX_UPLOAD_BYTES instead of the general body limit.
UPLOAD_PATH = r"/v1/collections/[^/]+/documents"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


@router.post(
    "/collections/{name}/documents",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload files; each is queued for ingestion and gets a job to follow",
    responses=error_responses(400, 403, 404, 413, 415, 422, *COMMON_ERRORS),
)
async def upload_documents(
    name: str,
    files: Annotated[
        list[UploadFile], File(description="One or more files (txt, md, html, pdf, docx).")
    ],
    request: Request,
    engine: EngineDep,
    store: StoreDep,
    principal: WriterPrincipal,
    settings: SettingsDep,
    metadata: Annotated[
        str | None,
        Form(description='A JSON object stored with every file, e.g. {"lang": "en"}.'),
    ] = None,
) -> JobList:
    collection = await store.collections.writable(principal, name)
    extra = _metadata(metadata)
    if len(files) > settings.max_upload_files:
        raise InvalidInputError(
            f"{len(files)} files in one upload; send at most {settings.max_upload_files} "
            "(KOTAEMON_MAX_UPLOAD_FILES)",
            code="too_many_files",
        )
    checked = [await _checked(upload, settings.max_file_bytes) for upload in files]
    names = [f.source for f in checked]
    if len(set(names)) != len(names):
        raise InvalidInputError(
            "two files of the upload have the same name; names identify documents",
            code="duplicate_file_name",
        )
    jobs = await engine.store.jobs.submit(
        collection,
        checked,
        submitted_by=principal.user_id,
        max_attempts=settings.ingest_max_attempts,
        metadata=extra,
    )
    await _enqueue(engine, jobs)
    for job in jobs:
        await audit(request, principal, "document.upload", resource=f"{name}/{job.source}")
    return JobList(jobs=jobs)


@router.get(
    "/collections/{name}/documents",
    summary="List a collection's documents with their ingestion status",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def list_documents(
    name: str,
    store: StoreDep,
    principal: ReaderPrincipal,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentList:
    collection = await store.collections.get(principal, name)
    rows = await store.documents.with_status(collection, limit=limit, offset=offset)
    return DocumentList(documents=[DocumentPublic.of(r) for r in rows])


@router.delete(
    "/collections/{name}/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a document and its chunks",
    responses=error_responses(403, 404, 422, *COMMON_ERRORS),
)
async def delete_document(
    name: str, document_id: str, request: Request, store: StoreDep, principal: WriterPrincipal
) -> None:
    collection = await store.collections.writable(principal, name)
    await store.documents.delete(collection, document_id=document_id)
    await audit(request, principal, "document.delete", resource=f"{name}/{document_id}")


@router.post(
    "/collections/{name}/documents/{document_id}/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Parse, split and embed a document again from its stored file",
    responses=error_responses(403, 404, 422, *COMMON_ERRORS),
)
async def reindex_document(
    name: str, document_id: str, engine: EngineDep, principal: WriterPrincipal
) -> JobList:
    return await _reindex(engine, principal, name, document_id)


@router.post(
    "/collections/{name}/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-index every document of a collection",
    responses=error_responses(403, 404, 422, *COMMON_ERRORS),
)
async def reindex_collection(name: str, engine: EngineDep, principal: WriterPrincipal) -> JobList:
    return await _reindex(engine, principal, name, None)


@router.get(
    "/collections/{name}/jobs",
    summary="List a collection's ingestion jobs, newest first",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def list_jobs(
    name: str,
    engine: EngineDep,
    store: StoreDep,
    principal: ReaderPrincipal,
    state: JobState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobList:
    collection = await store.collections.get(principal, name)
    return JobList(jobs=await engine.store.jobs.jobs(collection, state=state, limit=limit))


@router.get(
    "/jobs/{job_id}",
    summary="Follow one ingestion job: state, progress, result or error",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def get_job(
    job_id: str, engine: EngineDep, store: StoreDep, principal: ReaderPrincipal
) -> IngestJob:
    record = await engine.store.jobs.record(job_id)
    visible = await store.collections.visible(principal, [record.job.collection])
    if not visible or visible[0].id != record.collection_id:
        raise NotFoundError(f"job {job_id!r} not found", code="job_not_found")
    return record.job


async def _reindex(
    engine: Engine, principal: Principal, name: str, document_id: str | None
) -> JobList:
    store = engine.store
    assert store is not None
    collection = await store.collections.writable(principal, name)
    jobs = await engine.store.jobs.submit_reindex(
        collection,
        submitted_by=principal.user_id,
        max_attempts=engine.settings.ingest_max_attempts,
        document_id=document_id,
    )
    await _enqueue(engine, jobs)
    return JobList(jobs=jobs)


async def _enqueue(engine: Engine, jobs: list[IngestJob]) -> None:
    """Hand the jobs to the queue; if it is down, fail them so that none waits forever."""
    try:
        await engine.queue.enqueue([job.id for job in jobs])
    except KotaemonError as exc:
        for job in jobs:
            await engine.store.jobs.fail(
                job.id, exc.code, "the job could not be queued; upload again"
            )
        raise


async def _checked(upload: UploadFile, max_bytes: int) -> NewFile:
    """One uploaded file, read and checked: name, size and type (from the content)."""
    source = _source_name(upload.filename)
    if upload.size is not None and upload.size > max_bytes:
        raise _too_large(source, upload.size, max_bytes)
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(source, len(data), max_bytes)
    if not data:
        raise InvalidInputError(f"{source}: the file is empty", code="empty_file")
    media_type = await anyio.to_thread.run_sync(sniff_media_type, data, source)
    content_hash = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
    return NewFile(source=source, data=data, content_hash=content_hash, media_type=media_type)


def _source_name(filename: str | None) -> str:
    """The file's own name: any folders a client sent are dropped."""
    name = re.split(r"[/\\]", filename or "")[-1].strip()
    if not name or name in (".", "..") or len(name) > 255 or _UNSAFE_NAME.search(name):
        raise InvalidInputError(
            f"unusable file name {filename!r}: send each file with a name of 1-255 printable "
            "characters",
            code="invalid_file_name",
        )
    return name


def _too_large(source: str, size: int, limit: int) -> FileTooLargeError:
    return FileTooLargeError(
        f"{source}: {size} bytes is over the {limit}-byte limit per file (KOTAEMON_MAX_FILE_BYTES)"
    )


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"metadata is not valid JSON ({exc.msg}); send a JSON object", code="invalid_metadata"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError("metadata must be a JSON object", code="invalid_metadata")
    return check_metadata(value)
