"""A PDF's kept lines made into headings, paragraphs and lists again.

A paragraph ends at a gap wider than the document's usual line spacing for its font size, at a
change of font size, at a bullet, when a list item's text comes back to the bullet's margin,
or after a short line ending a sentence; it goes on across a page break when the last line
does not end a sentence and the next starts in lower case (and is cited at its first page).
Headings are lines in a font larger than the body text (the largest is level 1), or short bold
lines in capitals, as a manual page's "SYNOPSIS".

Wrapped lines are joined by ``wrap.join_wrapped`` (hyphenation repaired, no space inside
Chinese).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from kotaemon.core.text import CJK_TEXT
from kotaemon.ingest.loaders.blocks import Block, line
from kotaemon.ingest.loaders.pdf_pages import PageLine
from kotaemon.ingest.loaders.wrap import join_wrapped, vocabulary

_BULLET = re.compile(r"(?:[•◦▪▫●○■□‣⁃∙·*–-]|\d{1,2}[.)]|[a-z][.)])\s+\S")
_BULLET_MARK = re.compile(r"[•◦▪▫●○■□‣⁃∙·*–-]\s+")
_SENTENCE_END = re.compile(r"[.!?:;。！？：；)\]”\"']$")
_CAPS = re.compile(r"[A-Z0-9][A-Z0-9 ,&/()'-]*")
HEADING_RATIO = 1.15  # a font this much larger than the body text's is a heading's


@dataclass(slots=True)
class _Paragraph:
    page: int
    kind: str  # "heading", "item" or "paragraph"
    size: float | None
    lines: list[PageLine] = field(default_factory=list)


class Paragraphs:
    """Rebuilds blocks from the kept lines of each page (page numbers start at 1).

    Example::

        blocks = Paragraphs(pages).blocks()
    """

    def __init__(self, pages: Sequence[tuple[int, Sequence[PageLine]]]) -> None:
        self.pages = pages
        every = [ln for _, page in pages for ln in page]
        sizes = Counter[float]()
        for ln in every:
            if ln.size:
                sizes[round(ln.size * 2) / 2] += len(ln.text)
        self.body_size = sizes.most_common(1)[0][0] if sizes else None
        large = sorted({s for s in sizes if self._large(s)}, reverse=True)
        self.levels = {s: min(i + 1, 6) for i, s in enumerate(large)}
        self.caps_level = min(len(large) + 1, 6)
        self.vocabulary = vocabulary(ln.text for ln in every)
        self.spacings = _spacings(pages)

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        items: list[_Paragraph] = []
        for paragraph in self._paragraphs():
            if paragraph.kind == "item" and (not items or items[-1].page == paragraph.page):
                items.append(paragraph)
                continue
            if items:
                out.append(self._list(items))
                items = [paragraph] if paragraph.kind == "item" else []
                if items:
                    continue
            text = self._join(paragraph.lines)
            if paragraph.kind == "heading":
                out.append(Block(line(text), "heading", self._level(paragraph), paragraph.page))
            else:
                out.append(Block(text, "paragraph", 0, paragraph.page))
        if items:
            out.append(self._list(items))
        return [b for b in out if b.text]

    def _list(self, items: list[_Paragraph]) -> Block:
        texts = [_item(self._join(p.lines)) for p in items]
        return Block("\n".join(texts), "list", 0, items[0].page)

    def _paragraphs(self) -> Iterator[_Paragraph]:
        current: _Paragraph | None = None
        for number, page in self.pages:
            width = _typical_length(page)
            previous: PageLine | None = None
            for ln in page:
                kind = self._kind(ln)
                if current is None or self._breaks(current, previous, ln, kind, width):
                    if current is not None:
                        yield current
                    current = _Paragraph(number, kind, ln.size)
                current.lines.append(ln)
                previous = ln
        if current is not None:
            yield current

    def _kind(self, ln: PageLine) -> str:
        text = ln.text.strip()
        if len(text) <= 120 and ln.size and self._large(ln.size) and not text.isdigit():
            return "heading"
        if ln.bold and len(text) <= 60 and _CAPS.fullmatch(text) and any(c.isalpha() for c in text):
            return "heading"
        return "item" if _BULLET.match(text) else "paragraph"

    def _breaks(
        self,
        current: _Paragraph,
        previous: PageLine | None,
        ln: PageLine,
        kind: str,
        width: int,
    ) -> bool:
        last = current.lines[-1].text.strip()
        if previous is None:  # a new page: a paragraph may go on from the last one
            continues = (
                current.kind != "heading"
                and kind == "paragraph"
                and not _SENTENCE_END.search(last)
                and bool(re.match(rf"[a-z{CJK_TEXT}]", ln.text.strip()))
            )
            return not continues
        if kind == "item" or (kind == "heading") != (current.kind == "heading"):
            return True
        first = current.lines[0]
        if (
            current.kind == "item"
            and ln.x is not None
            and first.x is not None
            and ln.x <= first.x + 1
        ):
            return True  # back at the bullet's margin: the item has ended
        if current.size and ln.size and abs(current.size - ln.size) > 0.1 * current.size:
            return True
        spacing = self.spacings.get(ln.size or 0.0)
        if spacing and previous.y is not None and ln.y is not None:
            gap = previous.y - ln.y
            if gap < 0 or gap > 1.45 * spacing:
                return True
        if kind == "heading":
            return False
        return len(last) < 0.7 * width and bool(_SENTENCE_END.search(last))

    def _large(self, size: float) -> bool:
        return self.body_size is not None and size >= self.body_size * HEADING_RATIO

    def _level(self, paragraph: _Paragraph) -> int:
        size = round((paragraph.size or 0) * 2) / 2
        return self.levels.get(size, self.caps_level)

    def _join(self, lines: list[PageLine]) -> str:
        text = ""
        for ln in lines:
            part = line(ln.text)
            if not part:
                continue
            text = join_wrapped(text, part, self.vocabulary) if text else part
        return text


def _item(text: str) -> str:
    """A list item's line: a bullet becomes "- ", a number or letter ("1.", "a)") stays."""
    if bullet := _BULLET_MARK.match(text):
        return "- " + text[bullet.end() :]
    return text


def _typical_length(page: Sequence[PageLine]) -> int:
    lengths = sorted(len(ln.text.strip()) for ln in page if ln.text.strip())
    return lengths[int(len(lengths) * 0.9)] if lengths else 0


def _spacings(pages: Sequence[tuple[int, Sequence[PageLine]]]) -> dict[float, float]:
    """For each font size, the usual distance between two lines of one paragraph: the lower
    quartile of the gaps between consecutive lines of that size (paragraph gaps are wider)."""
    gaps: dict[float, list[float]] = {}
    for _, page in pages:
        for a, b in itertools.pairwise(page):
            if a.y is not None and b.y is not None and a.size and a.size == b.size and a.y > b.y:
                gaps.setdefault(a.size, []).append(a.y - b.y)
    return {size: sorted(found)[len(found) // 4] for size, found in gaps.items()}
