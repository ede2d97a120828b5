"""PDF (pypdf): each page's lines with their height and font size, cleaned of running headers
and footers, table-of-contents and index pages (``pdf_pages``), then made into headings,
paragraphs and lists (``pdf_paragraphs``). Every block keeps its page number for citations."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from typing import Any

import pypdf

from kotaemon.core.errors import CorruptFileError, FileTooLargeError, IngestError
from kotaemon.ingest.loaders.blocks import Block, Dropped, line
from kotaemon.ingest.loaders.pdf_pages import PageLine, classify
from kotaemon.ingest.loaders.pdf_paragraphs import Paragraphs

_BOLD = re.compile(r"bold|black|heavy|demi", re.I)


def load_pdf(
    data: bytes, name: str, max_pages: int
) -> tuple[str | None, list[Block], list[Dropped]]:
    """(metadata title, blocks, dropped text); raises ``CorruptFileError``/``FileTooLargeError``."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptFileError(
                f"{name}: the PDF is password protected; upload a copy saved without the password"
            )
        if (pages := len(reader.pages)) > max_pages:
            raise FileTooLargeError(f"{name}: {pages} pages is over the {max_pages}-page limit")
        title = line(str(reader.metadata.title or "")) if reader.metadata else ""
        page_lines = [_lines(page) for page in reader.pages]
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many exception types on damaged files
        raise CorruptFileError(
            f"{name}: the PDF is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "re-export or re-download it"
        ) from exc
    marks = classify(page_lines)
    kept: list[tuple[int, list[PageLine]]] = []
    dropped: list[Dropped] = []
    for number, (page, page_marks) in enumerate(zip(page_lines, marks, strict=True), start=1):
        kept.append((number, [ln for ln, mark in zip(page, page_marks, strict=True) if not mark]))
        by_reason: dict[str, list[str]] = defaultdict(list)
        for ln, mark in zip(page, page_marks, strict=True):
            if mark:
                by_reason[mark].append(ln.text)
        dropped.extend(Dropped(r, "\n".join(t), number) for r, t in by_reason.items())  # type: ignore[arg-type]
    return title or None, Paragraphs(kept).blocks(), dropped


def _lines(page: pypdf.PageObject) -> list[PageLine]:
    """The page's text lines as pypdf reads them, each with the height and font size of its
    text (the size of most of its characters), and whether that font is bold."""
    out: list[PageLine] = []
    parts: list[str] = []
    y: float | None = None
    x: float | None = None
    sizes: dict[tuple[float, bool], int] = defaultdict(int)

    def end_line() -> None:
        nonlocal x, y
        text = "".join(parts).strip()
        if text:
            size, bold = max(sizes, key=sizes.__getitem__) if sizes else (None, False)
            out.append(PageLine(text, y, size, bold, x))
        parts.clear()
        sizes.clear()
        x = y = None

    def visit(
        text: str, cm: list[float], tm: list[float], font: dict[str, Any] | None, size: float
    ) -> None:
        nonlocal x, y
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                end_line()
            if not piece:
                continue
            parts.append(piece)
            if piece.strip() and (tm[0] or tm[3]):  # pypdf passes zero matrices with line breaks
                if y is None:
                    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
                bold = bool(_BOLD.search(str((font or {}).get("/BaseFont", ""))))
                sizes[(round(size * scale, 1), bold)] += len(piece.strip())

    page.extract_text(visitor_text=visit)
    end_line()
    return out
