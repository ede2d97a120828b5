"""Ingest files into a collection: load → split → embed (cached) → store in one transaction.

Re-ingesting an unchanged file does no work (content hash); a changed file replaces its chunks
atomically; a bad file is reported and the rest go on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import anyio.to_process
import anyio.to_thread
import numpy as np

from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import (
    ConfigurationError,
    CorruptFileError,
    EmbeddingModelMismatchError,
    FileTooLargeError,
    InvalidInputError,
    KotaemonError,
)
from kotaemon.core.language import detect_language
from kotaemon.core.schema import Collection
from kotaemon.embeddings.base import Embedder
from kotaemon.ingest.loaders import DOCX, HTML, PDF, LoadedFile, load_bytes, sniff_media_type
from kotaemon.ingest.splitter import ChunkDraft, Splitter
from kotaemon.observability.metrics import CACHE_REQUESTS
from kotaemon.store.base import ChunkRecord, DocumentRecord
from kotaemon.store.documents import DocumentStore
from kotaemon.store.embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)

FileStatus = Literal["added", "replaced", "unchanged", "failed"]
#: ``on_progress(stage, done, total)``: stage is parsing, embedding or storing.
Progress = Callable[[str, int, int], Awaitable[None]]
#: Formats whose parsers decompress or interpret the file, or run heuristics of unbounded cost
#: on it (HTML main-content extraction): parsed in a child process that is killed when it
#: overruns its time (zip and PDF bombs, pathological pages).
_ISOLATED_TYPES = frozenset({PDF, DOCX, HTML})


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file."""

    source: str
    status: FileStatus
    chunk_count: int = 0
    document_id: str | None = None
    error_code: str | None = None
    error: str | None = None


class IngestPipeline(BaseComponent):
    """Loads, splits, embeds and stores documents.

    Example::

        pipeline = IngestPipeline(store.documents, store.embedding_cache, embedder,
                                  chunk_size=320, chunk_overlap=32,
                                  max_file_bytes=50 * 2**20, parse_timeout=120)
        results = await pipeline.arun(Path("docs/"), collection)

    The sizes and limits have no defaults here: they are settings (``KOTAEMON_CHUNK_SIZE``…).

    :param max_file_bytes: larger files are refused with ``file_too_large``.
    :param parse_timeout: seconds a PDF, Word or HTML file may take to parse (``parse_timeout``).
    """

    def __init__(
        self,
        documents: DocumentStore,
        embedding_cache: EmbeddingCache,
        embedder: Embedder,
        *,
        chunk_size: int,
        chunk_overlap: int,
        max_file_bytes: int,
        parse_timeout: float,
    ) -> None:
        if chunk_size > embedder.max_tokens:
            raise ConfigurationError(
                f"chunk_size {chunk_size} is over what {embedder.model} reads "
                f"({embedder.max_tokens} tokens); lower KOTAEMON_CHUNK_SIZE"
            )
        self.documents = documents
        self.embedding_cache = embedding_cache
        self.embedder = embedder
        self.splitter = Splitter(
            embedder.count_tokens, chunk_size=chunk_size, chunk_overlap=chunk_overlap
        )
        self.max_file_bytes = max_file_bytes
        self.parse_timeout = parse_timeout

    async def arun(
        self,
        path: Path,
        collection: Collection,
        *,
        force: bool = False,
        on_file: Callable[[FileResult], None] | None = None,
    ) -> list[FileResult]:
        """Ingest a file or every file under a folder.

        :param force: re-ingest files whose content has not changed.
        :param on_file: called after each file (for progress bars).
        :raises InvalidInputError: if ``path`` does not exist.
        """
        files = discover(path)
        results = []
        for file in files:
            result = await self.ingest_file(file, collection, force=force)
            results.append(result)
            if on_file:
                on_file(result)
        return results

    async def ingest_file(
        self, path: Path, collection: Collection, *, force: bool = False
    ) -> FileResult:
        """Ingest one file; failures come back as a ``failed`` result, never as an exception."""
        source = str(path.resolve())
        try:
            if path.stat().st_size > self.max_file_bytes:
                raise FileTooLargeError(
                    f"{path.name}: {path.stat().st_size} bytes is over the "
                    f"{self.max_file_bytes}-byte limit (KOTAEMON_MAX_FILE_BYTES)"
                )
            data = await anyio.Path(path).read_bytes()
            return await self.ingest_bytes(data, source, collection, force=force)
        except KotaemonError as exc:  # this file failed; the next one may not
            log.warning("file not ingested: %s (%s)", source, exc.code)
            return FileResult(source, "failed", error_code=exc.code, error=exc.message)
        except OSError as exc:
            return FileResult(
                source, "failed", error_code="unreadable_file", error=f"{path}: {exc}"
            )

    async def ingest_bytes(
        self,
        data: bytes,
        source: str,
        collection: Collection,
        *,
        force: bool = False,
        metadata: dict[str, Any] | None = None,
        keep_file: bool = True,
        on_progress: Progress | None = None,
    ) -> FileResult:
        """Ingest a file's bytes under the name ``source`` (its identity in the collection).

        :param keep_file: store the bytes for re-indexing (False when they are stored already).
        :param on_progress: awaited as the work moves from parsing to embedding to storing.
        :raises IngestError: if the file is unsupported, corrupt, too large or too slow to parse.
        :raises InvalidInputError: if ``metadata`` uses a reserved key.
        """
        check_metadata(metadata or {})
        if collection.embedding_model != self.embedder.model:
            raise EmbeddingModelMismatchError(
                f"collection {collection.name!r} is embedded with {collection.embedding_model}, "
                f"but this process uses {self.embedder.model}; use that model or re-embed the "
                "collection"
            )
        progress = on_progress or _no_progress
        content_hash = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
        if not force and await self.documents.content_hash(collection, source) == content_hash:
            return FileResult(source, "unchanged")
        await progress("parsing", 0, 0)
        loaded = await self._parse(data, Path(source).name)
        _log_cleaning(Path(source).name, loaded)
        drafts = await anyio.to_thread.run_sync(self.splitter.split, loaded.blocks)
        if not drafts:
            raise CorruptFileError(f"{Path(source).name}: only headings, no text to index")
        chunks = await self._prepare_chunks(collection, drafts, progress)
        document = DocumentRecord(
            source=source,
            title=loaded.title,
            media_type=loaded.media_type,
            content_hash=content_hash,
            size_bytes=len(data),
            metadata=metadata or {},
            language=detect_language(" ".join(d.text for d in drafts)),
            data=data if keep_file else None,
        )
        await progress("storing", len(chunks), len(chunks))
        written = await self.documents.write(collection, document, chunks, force=force)
        return FileResult(
            source, written.status, chunk_count=written.chunk_count, document_id=written.document_id
        )

    async def _parse(self, data: bytes, name: str) -> LoadedFile:
        """Parse in a thread, or for PDF and Word in a child process killed at the time limit."""
        if len(data) > self.max_file_bytes:  # before any parsing work
            return load_bytes(data, name, max_bytes=self.max_file_bytes)
        load = partial(load_bytes, data, name, max_bytes=self.max_file_bytes)
        media_type = await anyio.to_thread.run_sync(sniff_media_type, data, name)
        if media_type not in _ISOLATED_TYPES:
            return await anyio.to_thread.run_sync(load)
        try:
            with anyio.fail_after(self.parse_timeout):
                return await anyio.to_process.run_sync(load, cancellable=True)
        except TimeoutError:
            raise CorruptFileError(
                f"{name}: parsing took over {self.parse_timeout:g} s and was stopped; the file "
                "may be malformed or a decompression bomb (KOTAEMON_INGEST_PARSE_TIMEOUT_SECONDS)",
                code="parse_timeout",
            ) from None

    async def _prepare_chunks(
        self, collection: Collection, drafts: Sequence[ChunkDraft], progress: Progress
    ) -> list[ChunkRecord]:
        texts = [d.indexed_text for d in drafts]
        vectors = await self._embed_cached(collection.space_id, texts, progress)
        return [
            ChunkRecord(
                text=draft.text,
                indexed_text=indexed,
                ordinal=ordinal,
                token_count=draft.token_count,
                embedding=vector,
                page=draft.page,
                heading=draft.heading,
            )
            for ordinal, (draft, indexed, vector) in enumerate(
                zip(drafts, texts, vectors, strict=True)
            )
        ]

    async def _embed_cached(
        self, space_id: int, texts: Sequence[str], progress: Progress
    ) -> list[np.ndarray]:
        """Embed texts batch by batch, reusing vectors of any text this model embedded before.

        Each batch is cached as soon as it is embedded, so a retried job resumes where the
        last attempt stopped.
        """
        hashes = [hashlib.sha256(t.encode()).digest() for t in texts]
        cached = await self.embedding_cache.get(space_id, hashes)
        missing = list(dict.fromkeys(h for h in hashes if h not in cached))
        CACHE_REQUESTS.labels("embedding", "hit").inc(len(set(hashes)) - len(missing))
        CACHE_REQUESTS.labels("embedding", "miss").inc(len(missing))
        by_hash = dict(zip(hashes, texts, strict=True))
        total = len(set(hashes))
        step = self.embedder.batch_size
        for start in range(0, len(missing), step):
            await progress("embedding", total - len(missing) + start, total)
            batch = missing[start : start + step]
            vectors = await self.embedder.embed_documents([by_hash[h] for h in batch])
            fresh = dict(zip(batch, vectors, strict=True))
            await self.embedding_cache.put(space_id, fresh)
            cached.update(fresh)
        return [cached[h] for h in hashes]


#: Metadata keys the system sets or may set on chunks and citations: an upload may not use them,
#: so that nothing a writer sends can pass for what the system decided (a tool's record…).
RESERVED_METADATA_KEYS = frozenset(
    {"kind", "tool", "data", "source", "page", "heading", "collection", "document_id",
     "chunk_id", "score", "citation"}
)  # fmt: skip
RESERVED_METADATA_PREFIXES = ("kotaemon", "_")


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` for a document, if none of its keys is reserved.

    :raises InvalidInputError: ``reserved_metadata_key``, naming the key.
    """
    for key in metadata:
        if key in RESERVED_METADATA_KEYS or key.lower().startswith(RESERVED_METADATA_PREFIXES):
            raise InvalidInputError(
                f"metadata key {key!r} is reserved for kotaemon; rename it (reserved: "
                f"{', '.join(sorted(RESERVED_METADATA_KEYS))}, and keys starting with "
                "'kotaemon' or '_')",
                code="reserved_metadata_key",
            )
    return metadata


def _log_cleaning(name: str, loaded: LoadedFile) -> None:
    """How much text the loader kept and dropped, by reason (boilerplate, header, toc…)."""
    dropped: dict[str, int] = {}
    for item in loaded.dropped:
        dropped[item.reason] = dropped.get(item.reason, 0) + len(item.text)
    log.info(
        "file loaded",
        extra={
            "file": name,
            "media_type": loaded.media_type,
            "blocks": len(loaded.blocks),
            "kept_chars": sum(len(b.text) for b in loaded.blocks),
            "dropped_chars": dropped,
        },
    )


async def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def discover(path: Path) -> list[Path]:
    """The files to ingest at ``path``: the file itself, or every non-hidden file below a folder.

    Files of unsupported types inside a folder are kept, so that each gets its own clear error.
    :raises InvalidInputError: if the path does not exist.
    """
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder", code="path_not_found")
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
