"""Plain text and Markdown.

Plain text: one paragraph per run of non-blank lines, wrapped lines joined (``wrap``). A line
underlined with ``===``, ``***``, ``---``, ``~~~`` or ``^^^`` is a heading, its level by the
order the underline characters first appear (as reStructuredText does); so is a line in
capitals at the margin followed by indented text (a manual page's "SYNOPSIS"). Text with form
feeds is paged: blocks carry page numbers, and running headers and footers are dropped as in a
PDF (``pdf_pages``).

Markdown: headings, paragraphs, a whole list or table as one block, code verbatim.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kotaemon.ingest.loaders.blocks import Block, Dropped, DropReason, code, flow, line, para, table
from kotaemon.ingest.loaders.pdf_pages import PageLine, classify
from kotaemon.ingest.loaders.wrap import join_wrapped, vocabulary

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\n---[ \t]*\r?\n", re.S)
_MARKDOWN = MarkdownIt("commonmark").enable("table")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_UNDERLINE = re.compile(r"([=*\-~^#+])\1{2,}")
_MAN_SECTION = re.compile(r"[A-Z][A-Z0-9 ,/&()'-]{1,40}")


def load_text(text: str) -> tuple[list[Block], list[Dropped]]:
    """Blocks of a plain text, and the page headers and footers dropped from it."""
    pages = text.split("\f")
    dropped: list[Dropped] = []
    if len(pages) > 1:
        pages = _without_furniture(pages, dropped)
    known = vocabulary(text.splitlines())
    underlines: list[str] = []
    blocks: list[Block] = []
    for number, page in _numbered(pages):
        paragraphs = [p.split("\n") for p in _BLANK_LINE.split(page) if p.strip()]
        for i, lines in enumerate(paragraphs):
            lines = [ln.rstrip() for ln in lines if ln.strip()]
            following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
            page_number = number if len(pages) > 1 else None
            blocks.extend(_text_blocks(lines, following, underlines, known, page_number))
    return [b for b in blocks if b.text], dropped


def _numbered(pages: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(pages, start=1))


def _without_furniture(pages: list[str], dropped: list[Dropped]) -> list[str]:
    """The pages with their running header and footer lines (and contents or index pages)
    blanked; those lines go to ``dropped``."""
    raws = [page.split("\n") for page in pages]
    indexes = [[i for i, ln in enumerate(raw) if ln.strip()] for raw in raws]
    marks = classify(
        [[PageLine(raw[i]) for i in idx] for raw, idx in zip(raws, indexes, strict=True)]
    )
    for number, (raw, idx, page_marks) in enumerate(zip(raws, indexes, marks, strict=True), 1):
        by_reason: dict[DropReason, list[str]] = {}
        for i, mark in zip(idx, page_marks, strict=True):
            if mark:
                by_reason.setdefault(mark, []).append(raw[i].strip())
                raw[i] = ""
        dropped.extend(Dropped(r, "\n".join(t), number) for r, t in by_reason.items())
    return ["\n".join(raw) for raw in raws]


def _text_blocks(
    lines: list[str],
    following: list[str] | None,
    underlines: list[str],
    known: set[str],
    page: int | None,
) -> list[Block]:
    """One paragraph of lines, or an underlined heading, or a manual's section heading with
    the indented text under it."""
    if len(lines) == 2 and (mark := _UNDERLINE.fullmatch(lines[1].strip())):
        char = mark.group(1)
        if len(lines[1].strip()) >= 0.7 * len(lines[0].strip()):
            if char not in underlines:
                underlines.append(char)
            return [Block(line(lines[0]), "heading", min(underlines.index(char) + 1, 6), page)]
    below = lines[1:] or (following or [])[:1]
    if _MAN_SECTION.fullmatch(lines[0]) and below and below[0][:1].isspace():
        heading = Block(line(lines[0]), "heading", 1, page)
        return [heading, _paragraph(lines[1:], known, page)] if lines[1:] else [heading]
    return [_paragraph(lines, known, page)]


def _paragraph(lines: list[str], known: set[str], page: int | None) -> Block:
    text = ""
    for ln in lines:
        part = line(ln)
        text = join_wrapped(text, part, known) if text else part
    return Block(text, "paragraph", 0, page)


def load_markdown(text: str) -> list[Block]:
    """Headings, paragraphs, lists (one block each), tables, code blocks of a Markdown text."""
    return _MarkdownReader().read(_FRONT_MATTER.sub("", text, count=1))


class _MarkdownReader:
    """Turns markdown-it's token stream into blocks; a whole top-level list is one block."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.items: list[str] = []  # lines of the open top-level list
        self.numbers: list[int | None] = []  # per open list: next number, None if bulleted
        self.rows: list[list[str]] = []
        self.header_rows = 0
        self.heading_level = 0
        self.in_cell = False
        self.item_started = False

    def read(self, text: str) -> list[Block]:
        for token in _MARKDOWN.parse(text):
            self.token(token)
        return self.blocks

    def token(self, token: Token) -> None:
        kind = token.type
        if kind == "heading_open":
            self.heading_level = int(token.tag[1])
        elif kind == "heading_close":
            self.heading_level = 0
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            self.numbers.append(int(start or 1) if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.numbers.pop()
            if not self.numbers and self.items:
                self.blocks.append(Block("\n".join(self.items), "list"))
                self.items = []
        elif kind == "list_item_open":
            self.item_started = False
        elif kind == "thead_open":
            self.header_rows = -1  # rows until thead_close are header rows
        elif kind == "thead_close":
            self.header_rows = len(self.rows)
        elif kind == "tr_open":
            self.rows.append([])
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            self.in_cell = kind.endswith("_open")
        elif kind == "table_close":
            if block := table(self.rows, self.header_rows):
                self.blocks.append(block)
            self.rows, self.header_rows = [], 0
        elif kind in ("fence", "code_block") and (content := code(token.content)):
            if self.numbers:
                self.items.extend("  " * len(self.numbers) + ln for ln in content.splitlines())
            else:
                self.blocks.append(Block(content, "code"))
        elif kind == "inline" and (content := _inline_text(token)):
            self.inline(content)

    def inline(self, content: str) -> None:
        if self.in_cell:
            self.rows[-1].append(content)
        elif self.heading_level:
            self.blocks.append(Block(content, "heading", self.heading_level))
        elif self.numbers:
            indent = "  " * (len(self.numbers) - 1)
            if self.item_started:  # a later paragraph of the same item
                self.items.append(f"{indent}  {content}")
                return
            number = self.numbers[-1]
            if number is None:
                marker = "-"
            else:
                marker = f"{number}."
                self.numbers[-1] = number + 1
            self.items.append(f"{indent}{marker} {content}")
            self.item_started = True
        else:
            self.blocks.append(para(content))


def _inline_text(token: Token) -> str:
    """The plain text of an inline token: markup dropped, links and images keep their text."""
    parts = [
        "\n" if child.type in ("softbreak", "hardbreak") else child.content
        for child in token.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak", "html_inline")
        or (child.type == "image" and child.content)
    ]
    return flow("".join(parts))
