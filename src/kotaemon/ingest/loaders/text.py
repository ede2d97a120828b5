"""Plain text and Markdown: paragraphs, and for Markdown headings, lists, tables and code."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kotaemon.ingest.loaders.blocks import Block, code, flow, para, table, text_blocks

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\n---[ \t]*\r?\n", re.S)
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def load_text(text: str) -> list[Block]:
    """One paragraph per run of non-blank lines."""
    return text_blocks(text)


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
