"""Load .txt, .md, .html, .pdf and .docx files into blocks: headings, paragraphs, lists, tables
and code, in reading order, cleaned of what is not the document's text.

One module per format: ``text`` (plain text and Markdown), ``html`` (main content by
trafilatura, ``html_walker`` as its fallback), ``pdf`` (with ``pdf_pages`` for running headers,
footers, contents and index pages, and ``pdf_paragraphs`` for paragraphs and hyphenation),
``docx``; ``sniff`` reads the type from the content (see there for the rule on names), and
``blocks`` holds what they all produce.

Every failure is an ``IngestError`` whose message names the file and says what to do:
``UnsupportedFileError`` (binary or unknown content), ``CorruptFileError`` (unreadable, password
protected, or no text to index) and ``FileTooLargeError`` (over a size or page limit, or a
zip bomb).

Example::

    loaded = load_file(Path("handbook.pdf"))
    drafts = splitter.split(loaded.blocks)
"""

from __future__ import annotations

from pathlib import Path

from kotaemon.core.errors import CorruptFileError, FileTooLargeError
from kotaemon.ingest.loaders.blocks import Block, BlockKind, Dropped, DropReason, LoadedFile
from kotaemon.ingest.loaders.limits import too_large
from kotaemon.ingest.loaders.sniff import (
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    SUPPORTED_SUFFIXES,
    TEXT,
    sniff,
    sniff_media_type,
)
from kotaemon.ingest.loaders.text import load_markdown, load_text

__all__ = [
    "DOCX",
    "HTML",
    "MARKDOWN",
    "PDF",
    "SUPPORTED_SUFFIXES",
    "TEXT",
    "Block",
    "BlockKind",
    "DropReason",
    "Dropped",
    "LoadedFile",
    "load_bytes",
    "load_file",
    "sniff_media_type",
]

_NO_TEXT = {
    PDF: "no text to index: the PDF has no text layer, as a scan has; run OCR on it first "
    "(e.g. ocrmypdf) and upload the result",
    DOCX: "no text to index: the document is empty or holds only images; add the text",
    HTML: "no text to index: the page is empty or only markup and scripts; save the page with "
    "its content",
    TEXT: "no text to index: the file is empty or only blank lines; add text or leave it out",
}


def load_bytes(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = 50 * 2**20,
    max_pages: int = 2000,
    max_uncompressed_bytes: int = 200 * 2**20,
) -> LoadedFile:
    """Parse ``data``, the contents of ``filename``, into blocks; raises an ``IngestError``."""
    name = Path(filename).name or filename
    if len(data) > max_bytes:
        raise FileTooLargeError(too_large(name, len(data), max_bytes))
    media_type, text = sniff(data, name)
    title: str | None = None
    dropped: list[Dropped] = []
    # The parsers load on first use: the API only sniffs uploads, workers parse them.
    if media_type == PDF:
        from kotaemon.ingest.loaders.pdf import load_pdf

        title, blocks, dropped = load_pdf(data, name, max_pages)
    elif media_type == DOCX:
        from kotaemon.ingest.loaders.docx import load_docx

        title, blocks = load_docx(data, name, max_uncompressed_bytes)
    elif media_type == HTML:
        from kotaemon.ingest.loaders.html import load_html

        title, blocks, dropped = load_html(text, name)
    elif media_type == MARKDOWN:
        blocks = load_markdown(text)
    else:
        blocks, dropped = load_text(text)
    if not blocks:
        if dropped:
            raise CorruptFileError(
                f"{name}: no text to index: all of it is page headers and footers, a table of "
                "contents, an index or site navigation; upload the document that has the text"
            )
        raise CorruptFileError(f"{name}: {_NO_TEXT.get(media_type, _NO_TEXT[TEXT])}")
    # the headings of a PDF or plain text are guessed: the first may be "NAME" or "Dedication"
    headed = media_type in (HTML, MARKDOWN, DOCX)
    h1 = next((b.text for b in blocks if headed and b.kind == "heading" and b.level == 1), None)
    return LoadedFile(title or h1 or Path(name).stem or name, media_type, blocks, dropped)


def load_file(path: Path, *, max_bytes: int = 50 * 2**20, **limits: int) -> LoadedFile:
    """Load a file from disk, refusing one over ``max_bytes`` before reading it."""
    path = Path(path)
    if (size := path.stat().st_size) > max_bytes:
        raise FileTooLargeError(too_large(path.name, size, max_bytes))
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)  # a file that grew since stat() still fails the size check
    return load_bytes(data, path.name, max_bytes=max_bytes, **limits)
