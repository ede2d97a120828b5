"""Ingest files into a collection: load → split → embed (cached) → store in one transaction.

Re-ingesting an unchanged file does no work (content hash); a changed file replaces its chunks
atomically; a bad file is reported and the rest go on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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
from kotaemon.core.schema import Collection
from kotaemon.embeddings.base import Embedder
from kotaemon.ingest.loaders import load_bytes
from kotaemon.ingest.splitter import ChunkDraft, Splitter
from kotaemon.retrieval.bm25 import KeywordTerms
from kotaemon.store.base import ChunkRecord, DocumentRecord, VectorStore

log = logging.getLogger(__name__)

FileStatus = Literal["added", "replaced", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file."""

    source: str
    status: FileStatus
    chunk_count: int = 0
    error_code: str | None = None
    error: str | None = None


class IngestPipeline(BaseComponent):
    """Loads, splits, embeds and stores documents.

    Example::

        pipeline = IngestPipeline(store, embedder, chunk_size=320, chunk_overlap=32)
        results = await pipeline.arun(Path("docs/"), collection)

    :param max_file_bytes: larger files are refused with ``file_too_large``.
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        chunk_size: int = 320,
        chunk_overlap: int = 32,
        max_file_bytes: int = 50 * 2**20,
    ) -> None:
        if chunk_size > embedder.max_tokens:
            raise ConfigurationError(
                f"chunk_size {chunk_size} is over what {embedder.model} reads "
                f"({embedder.max_tokens} tokens); lower KOTAEMON_CHUNK_SIZE"
            )
        self.store = store
        self.embedder = embedder
        self.splitter = Splitter(
            embedder.count_tokens, chunk_size=chunk_size, chunk_overlap=chunk_overlap
        )
        self.max_file_bytes = max_file_bytes

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
        metadata: dict | None = None,
    ) -> FileResult:
        """Ingest a file's bytes under the name ``source`` (its identity in the collection).

        :raises IngestError: if the file is unsupported, corrupt or too large.
        """
        if collection.embedding_model != self.embedder.model:
            raise EmbeddingModelMismatchError(
                f"collection {collection.name!r} is embedded with {collection.embedding_model}, "
                f"but this process uses {self.embedder.model}; use that model or re-embed the "
                "collection"
            )
        content_hash = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
        if not force and await self.store.document_hash(collection, source) == content_hash:
            return FileResult(source, "unchanged")
        loaded = await anyio.to_thread.run_sync(
            lambda: load_bytes(data, Path(source).name, max_bytes=self.max_file_bytes)
        )
        drafts = await anyio.to_thread.run_sync(self.splitter.split, loaded.blocks)
        if not drafts:
            raise CorruptFileError(f"{Path(source).name}: only headings, no text to index")
        chunks = await self._prepare_chunks(collection, drafts)
        document = DocumentRecord(
            source=source,
            title=loaded.title,
            media_type=loaded.media_type,
            content_hash=content_hash,
            size_bytes=len(data),
            metadata=metadata or {},
        )
        written = await self.store.write_document(
            collection, document, chunks, _bm25_vector, force=force
        )
        return FileResult(source, written.status, chunk_count=written.chunk_count)

    async def _prepare_chunks(
        self, collection: Collection, drafts: Sequence[ChunkDraft]
    ) -> list[ChunkRecord]:
        texts = [d.indexed_text for d in drafts]
        vectors = await self._embed_cached(collection.space_id, texts)
        keyword_terms = await anyio.to_thread.run_sync(lambda: [KeywordTerms.of(t) for t in texts])
        records = []
        for ordinal, (draft, vector, terms) in enumerate(
            zip(drafts, vectors, keyword_terms, strict=True)
        ):
            records.append(
                ChunkRecord(
                    text=draft.text,
                    ordinal=ordinal,
                    token_count=draft.token_count,
                    embedding=vector,
                    term_tf=terms.tf,
                    term_count=terms.length,
                    page=draft.page,
                    heading=draft.heading,
                )
            )
        return records

    async def _embed_cached(self, space_id: int, texts: Sequence[str]) -> list[np.ndarray]:
        """Embed texts, reusing vectors of any text this model embedded before."""
        hashes = [hashlib.sha256(t.encode()).digest() for t in texts]
        cached = await self.store.cached_embeddings(space_id, hashes)
        missing = list(dict.fromkeys(h for h in hashes if h not in cached))
        if missing:
            by_hash = dict(zip(hashes, texts, strict=True))
            vectors = await self.embedder.embed_documents([by_hash[h] for h in missing])
            fresh = dict(zip(missing, vectors, strict=True))
            await self.store.cache_embeddings(space_id, fresh)
            cached.update(fresh)
        return [cached[h] for h in hashes]


def _bm25_vector(chunk: ChunkRecord, avgdl: float):
    return KeywordTerms(chunk.term_tf, chunk.term_count).bm25_vector(avgdl)


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
