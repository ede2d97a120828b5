"""A structure-keeping walk over an HTML page: every text block in reading order.

It emits a block at every block-level boundary, keeps headings, lists, tables and ``<pre>``
code verbatim, skips scripts and styles, and marks the blocks of the page's semantic chrome
(``<nav>``, ``<header>`` and ``<footer>`` outside ``<article>``/``<main>``, navigation
landmarks, hidden elements).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from kotaemon.ingest.loaders.blocks import Block, code, join_cjk_breaks, line, lines, para, table

_NEVER = {"script", "style", "noscript", "template", "svg", "iframe", "head", "title", "button"}
_CHROME = {"nav", "header", "footer"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search"}
_CONTENT = {"article", "main"}  # a header or footer inside them is content
_LISTS = {"ul", "ol", "dl", "menu"}
_BLOCK_TAGS = {"p", "div", "li", "dt", "dd", "blockquote", "section", "aside", "body", "html"}
_BLOCK_TAGS |= {"caption", "figure", "figcaption", "form", "fieldset", "address", "details"}
_BLOCK_TAGS |= {"summary", "center", "hr", "table", *_CONTENT, *_CHROME}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class HtmlWalker:
    """Collects a DOM's blocks in reading order.

    Example::

        walker = HtmlWalker()
        walker.walk(tree.body)
        blocks = [block for block, in_chrome in walker.finish() if not in_chrome]
    """

    def __init__(self) -> None:
        self.blocks: list[tuple[Block, bool]] = []
        self.inline: list[str] = []
        self.in_chrome = False

    def walk(self, node: LexborNode, in_content: bool = False) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or "-"
            if tag == "-text":
                self.inline.append(_SPACES.sub(" ", join_cjk_breaks(child.text_content or "")))
            elif tag == "br":
                self.inline.append("\n")
            elif tag.startswith("-") or tag in _NEVER:
                continue  # comments, scripts, styles
            elif not self.in_chrome and not in_content and _is_chrome(child, tag):
                self.flush()
                self.in_chrome = True
                self.walk(child, in_content)
                self.flush()
                self.in_chrome = False
            elif tag in _HEADINGS:
                self.flush()
                self.walk(child, in_content)
                self.flush(_HEADINGS[tag])
            elif tag == "pre":
                self.flush()
                if text := code(child.text(deep=True)):
                    self.add(Block(text, "code"))
            elif tag in _LISTS:
                self.flush()
                if items := _list_lines(child, 0):
                    self.add(Block("\n".join(items), "list"))
            elif tag == "table" and (block := _table(child)):
                self.flush()
                self.add(block)
            elif tag in _BLOCK_TAGS:
                self.flush()
                self.walk(child, in_content or tag in _CONTENT)
                self.flush()
            else:  # an inline element: its text joins the surrounding text
                self.walk(child, in_content)

    def finish(self) -> list[tuple[Block, bool]]:
        """The blocks, each with whether it is in the page's chrome."""
        self.flush()
        return self.blocks

    def add(self, block: Block) -> None:
        self.blocks.append((block, self.in_chrome))

    def flush(self, level: int = 0) -> None:
        text = lines("".join(self.inline))
        self.inline.clear()
        if text:
            self.add(Block(line(text), "heading", level) if level else para(text))


def _is_chrome(node: LexborNode, tag: str) -> bool:
    role = (node.attributes.get("role") or "").lower()
    return tag in _CHROME or role in _CHROME_ROLES or "hidden" in node.attributes


def _list_lines(node: LexborNode, depth: int) -> list[str]:
    """One line per item ("- text", "1. text"; a definition indented under its term)."""
    out: list[str] = []
    number = 0
    for item in node.iter():
        if item.tag not in ("li", "dt", "dd"):
            continue
        nested: list[LexborNode] = []
        text = line(join_cjk_breaks(_own_text(item, nested)))
        if item.tag == "dd":
            prefix = "  " * (depth + 1)
        elif item.tag == "dt" or node.tag != "ol":
            prefix = f"{'  ' * depth}- "
        else:
            number += 1
            prefix = f"{'  ' * depth}{number}. "
        if text:
            out.append(prefix + text)
        for sub in nested:
            out.extend(_list_lines(sub, depth + 1))
    return out


def _own_text(node: LexborNode, nested: list[LexborNode]) -> str:
    """The text of ``node`` without its nested lists, which are appended to ``nested``."""
    parts = []
    for child in node.iter(include_text=True):
        tag = child.tag or "-"
        if tag == "-text":
            parts.append(child.text_content or "")
        elif tag in _LISTS:
            nested.append(child)
        elif not tag.startswith("-") and tag not in _NEVER:
            sep = " " if tag in _BLOCK_TAGS or tag == "br" else ""
            parts.append(sep + _own_text(child, nested) + sep)
    return "".join(parts)


def _table(node: LexborNode) -> Block | None:
    rows: list[list[str]] = []
    header_rows = 0
    for row in node.css("tr"):
        cells = [c for c in row.iter() if c.tag in ("td", "th")]
        if not cells:
            continue
        if len(rows) == header_rows and all(c.tag == "th" for c in cells):
            header_rows += 1
        rows.append([line(c.text(deep=True, separator=" ")) for c in cells])
    return table(rows, header_rows)
