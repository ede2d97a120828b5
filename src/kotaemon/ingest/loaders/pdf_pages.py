"""What on a PDF's pages is not its text: running headers and footers, table-of-contents and
index pages.

* A header (footer) is a line among the top (bottom) three of a page whose text, with its
  numbers masked, recurs at the top (bottom) of at least three pages: "BASH(1) General Commands
  Manual BASH(1)", "Page 3 of 10", "CONTENTS gnuplot 5.4 3"; or whose first four words do,
  making most of the line, as a book title followed by a changing chapter title. A lone page
  number ("12", "xii", "— 12 —", "第 3 页") as the first or last line is one too. A page of
  one or two lines has none (its text is the page).
* A line at the very top or bottom of a page that starts or ends with its printed page number
  is one, when the printed number runs with the page's own number on at least three pages
  ("4 Chapter 1. About this manual" on page 14, "1.3. Authors 5" on page 15).
* A table-of-contents page is one where most lines are entries ending in a page number, in
  non-decreasing order, with dot leaders or under a "Contents"/"目录" title (or following such a
  page). Lines from the top of the page to its last entry are dropped.
* An index page is one where most lines are entries ending in comma-separated page numbers
  ("signals, 12, 45-47") under an "Index"/"索引" title, following such a page, or with nearly
  every line an entry. Lines from its title or first entry to the end of the page are dropped.

Such text would only outrank the paragraphs that answer a question (it repeats every heading
and term with a page number), so it is not indexed at all: kept apart as ``Dropped`` for logs
and statistics. A low-weight index of it was weighed and refused: it would still reach an
answer whenever it was the best match, and the heading path each chunk carries already gives
retrieval what a table of contents knows.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kotaemon.ingest.loaders.blocks import DropReason

ZONE = 3  # lines at the top and at the bottom of a page where headers and footers live
MIN_REPEATS = 3  # pages a header or footer must recur on
FAMILY_WORDS = 4  # words a running header keeps while its chapter title changes
MIN_ENTRIES = 5  # entries that make a page a table of contents or an index

_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"\b(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})\b")  # i to xxxix: front-matter pages
_SPACES = re.compile(r"\s+")
_EDGE_NUMBER = re.compile(r"^(\d{1,4})\b|\b(\d{1,4})$")
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?#(?:\s*(?:of|/)\s*#)?|[-–—]\s*#\s*[-–—]|第\s*#\s*页(?:\s*[,，]?\s*共\s*#\s*页)?"
)
_LEADER_ENTRY = re.compile(r"\S.*?(?:\s*[.·•…⋯_]){3,}\s*(\d+|[ivxlcdm]+)", re.I)
_NUMBER_ENTRY = re.compile(r"\S.*?\s(\d{1,4})")
_INDEX_ENTRY = re.compile(r"\S.*?,\s*\d+(?:\s*[-–]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*\.?")
_TOC_TITLE = re.compile(r"\b(?:table of )?contents\b|目\s*录|目\s*次", re.I)
_INDEX_TITLE = re.compile(r"\bindex\b|索\s*引", re.I)


@dataclass(frozen=True, slots=True)
class PageLine:
    """One line of a page in reading order; ``y`` (upwards, in points) when the PDF says."""

    text: str
    y: float | None = None
    size: float | None = None
    bold: bool = False
    x: float | None = None


def classify(pages: Sequence[Sequence[PageLine]]) -> list[list[DropReason | None]]:
    """For each line of each page: why it is dropped, or None if it is text to keep."""
    marks: list[list[DropReason | None]] = [[None] * len(page) for page in pages]
    _mark_furniture(pages, marks)
    previous: DropReason | None = None
    for page, page_marks in zip(pages, marks, strict=True):
        previous = _mark_toc_or_index(page, page_marks, previous)
    return marks


def _key(text: str) -> str:
    """A line's text with numbers masked, to match a running header across pages."""
    lowered = _SPACES.sub(" ", text).strip().lower()
    return _ROMAN.sub("#", _DIGITS.sub("#", lowered)) if lowered else ""


def _family(key: str) -> str:
    """A header's first words, the same on every page when a short chapter title after them
    changes ("card handbook - fees", "card handbook - lost cards"): they must make most of
    the line, else a sentence's opening words would match."""
    words = key.split(" ")
    prefix = " ".join(words[:FAMILY_WORDS])
    return prefix + " …" if len(words) > FAMILY_WORDS and len(prefix) >= 0.6 * len(key) else key


def _zones(page: Sequence[PageLine]) -> tuple[list[int], list[int]]:
    """Indexes of the top and bottom lines: by height when known, else by reading order."""
    order = list(range(len(page)))
    if page and all(ln.y is not None for ln in page):
        order.sort(key=lambda i: -(page[i].y or 0.0))
    size = min(ZONE, len(page) // 2)  # a page of one or two lines has no header or footer
    return order[:size], order[len(order) - size :]


def _mark_furniture(
    pages: Sequence[Sequence[PageLine]], marks: list[list[DropReason | None]]
) -> None:
    tops: Counter[str] = Counter()
    bottoms: Counter[str] = Counter()
    zones = [_zones(page) for page in pages]
    for page, (top, bottom) in zip(pages, zones, strict=True):
        for zone, counts in ((top, tops), (bottom, bottoms)):
            keys = {_key(page[i].text) for i in zone} - {""}
            counts.update(keys | {_family(k) for k in keys})
    offsets = [
        _offsets(number, page, zone)
        for number, (page, zone) in enumerate(zip(pages, zones, strict=True))
    ]
    runs = Counter(offset for page_offsets in offsets for offset in set(page_offsets.values()))
    for page, page_marks, (top, bottom), page_offsets in zip(
        pages, marks, zones, offsets, strict=True
    ):
        for i, offset in page_offsets.items():
            if runs[offset] >= MIN_REPEATS:
                page_marks[i] = "header" if i == top[0] else "footer"
        edges: tuple[tuple[list[int], Counter[str], DropReason], ...] = (
            (top, tops, "header"),
            (bottom, bottoms, "footer"),
        )
        for zone, counts, reason in edges:
            if not zone:
                continue
            edge = zone[0] if reason == "header" else zone[-1]
            for i in zone:
                key = _key(page[i].text)
                lone_number = i == edge and _PAGE_NUMBER.fullmatch(key) is not None
                repeated = max(counts[key], counts[_family(key)]) >= MIN_REPEATS
                if key and (repeated or lone_number):
                    page_marks[i] = reason


def _offsets(
    number: int, page: Sequence[PageLine], zones: tuple[list[int], list[int]]
) -> dict[int, int]:
    """For the first and last line, if it starts or ends with a number: page index - number."""
    found = {}
    for i in {zones[0][0], zones[1][-1]} if zones[0] else ():
        if match := _EDGE_NUMBER.search(page[i].text.strip()):
            found[i] = number - int(match.group(1) or match.group(2))
    return found


def _mark_toc_or_index(
    page: Sequence[PageLine], marks: list[DropReason | None], previous: DropReason | None
) -> DropReason | None:
    """Mark the page's table-of-contents or index lines; returns which it was, if either."""
    body = [(i, _SPACES.sub(" ", page[i].text).strip()) for i in range(len(page)) if not marks[i]]
    body = [(i, text) for i, text in body if text]
    # a page going on from a contents or index page needs fewer entries: it may be its tail
    least = 1 if previous else MIN_ENTRIES
    if len(body) < least:
        return None
    titled = [i for i, ln in enumerate(page) if len(ln.text) <= 40]
    toc_titled = previous == "toc" or any(_TOC_TITLE.search(page[i].text) for i in titled)
    if _is_toc(body, toc_titled, 1 if previous == "toc" else MIN_ENTRIES):
        last = max(i for i, text in body if _toc_number(text) is not None)
        for i in range(last + 1):
            marks[i] = marks[i] or "toc"
        return "toc"
    index_titles = [i for i, text in body if len(text) <= 40 and _INDEX_TITLE.search(text)]
    titled_index = any(_INDEX_TITLE.search(page[i].text) for i in titled)
    if _is_index(
        body, previous == "index" or titled_index, 1 if previous == "index" else MIN_ENTRIES
    ):
        entries = [i for i, text in body if _INDEX_ENTRY.fullmatch(text)]
        first = min(entries + index_titles)
        for i in range(first, len(page)):
            marks[i] = marks[i] or "index"
        return "index"
    return None


def _toc_number(text: str) -> int | None:
    """The page number a contents entry ends with (0 for a roman one), or None."""
    if match := _LEADER_ENTRY.fullmatch(text):
        number = match.group(1)
        return int(number) if number.isdigit() else 0
    if match := _NUMBER_ENTRY.fullmatch(text):
        return int(match.group(1))
    return None


def _is_toc(body: list[tuple[int, str]], titled: bool, least: int) -> bool:
    numbers = [n for _, text in body if (n := _toc_number(text)) is not None]
    if len(numbers) < least or len(numbers) < 0.5 * len(body):
        return False
    pairs = list(itertools.pairwise(numbers))
    ordered = sum(a <= b for a, b in pairs) >= 0.8 * len(pairs)
    leaders = sum(1 for _, text in body if _LEADER_ENTRY.fullmatch(text))
    return ordered and (titled or leaders >= 0.3 * len(numbers))


def _is_index(body: list[tuple[int, str]], titled: bool, least: int) -> bool:
    entries = sum(1 for _, text in body if _INDEX_ENTRY.fullmatch(text))
    share = entries / len(body)
    return entries >= least and (share >= 0.8 or (titled and share >= 0.4))
