"""Word (.docx): headings by style (English or Chinese style names), paragraphs, lists and
tables with their header row."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from kotaemon.core.errors import CorruptFileError
from kotaemon.ingest.loaders.blocks import Block, line, lines, para, table
from kotaemon.ingest.loaders.limits import check_zip
from kotaemon.ingest.loaders.sniff import zip_infos

#: "Heading 1", "heading1", "标题 1" (Word's Chinese names); "Title" and "标题" are level 1.
_HEADING_STYLE = re.compile(r"(?:heading|标题)\s*([1-9])|title|标题", re.I)
_LIST_STYLE = re.compile(r"list|列表", re.I)
_NUMBERED_STYLE = re.compile(r"number|编号", re.I)


def load_docx(data: bytes, name: str, max_uncompressed: int) -> tuple[str | None, list[Block]]:
    """(core-properties title, blocks); raises ``FileTooLargeError`` or ``CorruptFileError``."""
    check_zip(zip_infos(data) or [], name, max_uncompressed)
    try:
        document = docx.Document(io.BytesIO(data))
        title = line(document.core_properties.title or "")
        blocks = list(_blocks(document))
    except Exception as exc:  # python-docx and lxml raise many exception types on damaged files
        raise CorruptFileError(
            f"{name}: the Word document is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "open it in Word, save it again and upload the new copy"
        ) from exc
    return title or None, blocks


def _blocks(document: DocxDocument) -> Iterator[Block]:
    items: list[str] = []
    counters: dict[int, int] = {}  # per level: the number of the last numbered item
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph) and (entry := _list_entry(item)):
            level, numbered, text = entry
            counters = {k: v for k, v in counters.items() if k <= level}
            counters[level] = counters.get(level, 0) + 1
            marker = f"{counters[level]}." if numbered else "-"
            items.append(f"{'  ' * level}{marker} {text}")
            continue
        if items:
            yield Block("\n".join(items), "list")
            items, counters = [], {}
        if isinstance(item, Table):
            if block := _table(item):
                yield block
        elif text := lines(item.text):
            style = _style(item)
            if match := _HEADING_STYLE.fullmatch(style):
                yield Block(line(text), "heading", min(int(match.group(1) or 1), 6))
            else:
                yield para(text)
    if items:
        yield Block("\n".join(items), "list")


def _style(paragraph: Paragraph) -> str:
    return ((paragraph.style.name if paragraph.style is not None else None) or "").strip()


def _list_entry(paragraph: Paragraph) -> tuple[int, bool, str] | None:
    """(level, numbered, text) of a list item, or None for other paragraphs.

    An item is numbered when its style says so ("List Number", "编号"); numbering defined
    directly on the paragraph is shown as a bullet (its format lives in numbering.xml).
    """
    text = line(paragraph.text)
    ppr = paragraph._p.pPr  # numbering lives in the paragraph properties or in its style
    numbering: Any = ppr.numPr if ppr is not None else None
    style = _style(paragraph)
    if not text or not (numbering is not None or _LIST_STYLE.search(style)):
        return None
    level = 0
    if numbering is not None and numbering.ilvl is not None and numbering.ilvl.val is not None:
        level = int(numbering.ilvl.val)
    elif match := re.search(r"(\d)\s*$", style):  # "List Bullet 2"
        level = int(match.group(1)) - 1
    return min(level, 8), bool(_NUMBERED_STYLE.search(style)), text


def _table(item: Table) -> Block | None:
    """Rows of cells; a merged cell is listed once per spanned column by python-docx: keep one.

    The first row is taken as the header (Word marks none reliably); it is repeated when a
    long table is split across chunks.
    """
    rows = []
    for row in item.rows:
        cells = row.cells
        cells = [c for i, c in enumerate(cells) if i == 0 or c is not cells[i - 1]]
        rows.append([line(c.text) for c in cells])
    return table(rows, header_rows=1 if len(rows) > 1 else 0)
