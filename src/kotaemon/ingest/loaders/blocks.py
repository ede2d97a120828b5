"""What a loader produces: a file's blocks in reading order, and the text it dropped, with the
whitespace rules every format shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from kotaemon.core.text import CJK_TEXT

BlockKind = Literal["heading", "paragraph", "list", "table", "code"]
#: Why text was left out: site chrome around an HTML page's main content, running page
#: headers and footers of a PDF, its table-of-contents and index pages.
DropReason = Literal["boilerplate", "header", "footer", "toc", "index"]

_CJK_BREAK = re.compile(rf"(?<=[{CJK_TEXT}])\s*\n\s*(?=[{CJK_TEXT}])")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Block:
    """One heading, paragraph, list, table or code block of a loaded file.

    A list holds one item per line, a table one row per line (cells joined by `` | ``) with its
    ``header_rows`` first, so that a table split across chunks can repeat them.
    """

    text: str
    kind: BlockKind
    level: int = 0  # a heading's level, 1-6
    page: int | None = None
    header_rows: int = 0


@dataclass(frozen=True, slots=True)
class Dropped:
    """Text a loader left out of the blocks, and why (kept for statistics and logs)."""

    reason: DropReason
    text: str
    page: int | None = None


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A file's title, sniffed media type, blocks in reading order, and what was dropped."""

    title: str
    media_type: str
    blocks: list[Block]
    dropped: list[Dropped] = field(default_factory=list)


def line(text: str) -> str:
    """Control characters dropped and all whitespace (newlines too) collapsed to one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def lines(text: str) -> str:
    """Whitespace collapsed inside each line; empty lines dropped."""
    return "\n".join(filter(None, map(line, text.splitlines())))


def flow(text: str) -> str:
    """Join wrapped lines: nothing between two CJK characters, else one space."""
    return line(_CJK_BREAK.sub("", text))


def join_cjk_breaks(text: str) -> str:
    """Line breaks between two CJK characters removed (Chinese wraps without spaces)."""
    return _CJK_BREAK.sub("", text)


def code(text: str) -> str:
    """Code kept verbatim, except control characters, trailing spaces and blank edge lines."""
    return "\n".join(_CONTROL.sub("", ln).rstrip() for ln in text.splitlines()).strip("\n")


def para(text: str, page: int | None = None) -> Block:
    return Block(text, "paragraph", 0, page)


def table(rows: list[list[str]], header_rows: int = 0, page: int | None = None) -> Block | None:
    """A table block from rows of cells (empty cells and rows dropped), or None if empty."""
    texts = [" | ".join(c for c in row if c) for row in rows]
    kept = [(i, t) for i, t in enumerate(texts) if t]
    if not kept:
        return None
    header = sum(1 for i, _ in kept if i < header_rows)
    header = header if header < len(kept) else 0  # a table of header rows only has none
    return Block("\n".join(t for _, t in kept), "table", 0, page, header)
