"""HTML: the page's main content as headings, paragraphs, lists, tables and code; navigation,
banners, cookie notices, sidebars and footers are dropped.

trafilatura decides what the main content is; the structure comes from the page itself
(``HtmlWalker``), because trafilatura's output loses headings on pages without a content
container (a man page, a DocBook chapter) and collapses ``<pre>`` it does not take for code. A
block of the page is kept when most of its word trigrams are in trafilatura's text (a block of
one or two words, when they are and a neighbour is kept); a heading is kept when anything under
it is. trafilatura itself distrusts an extraction under 250 characters (its
``MIN_EXTRACTED_SIZE``): then, or when it finds nothing, the page's blocks are kept less its
semantic chrome, so a short page, a table alone or a fragment without ``<body>`` is never lost.
The title is the page's ``<title>`` (else its first ``<h1>``).
"""

from __future__ import annotations

import itertools
import logging
import re

import trafilatura
from selectolax.lexbor import LexborHTMLParser

from kotaemon.core.errors import CorruptFileError
from kotaemon.core.text import IDEOGRAPHS
from kotaemon.ingest.loaders.blocks import Block, Dropped, line
from kotaemon.ingest.loaders.html_walker import HtmlWalker

log = logging.getLogger(__name__)

#: Below this many characters of main content, the page's own text is kept instead.
MIN_MAIN_CHARS = 250
_TOKEN = re.compile(rf"[{IDEOGRAPHS}]|[^\W_{IDEOGRAPHS}]+")
_PERMALINK = re.compile(r"\s*[¶§#]$")  # "Files¶": a heading's anchor link
_N = 3  # words per shingle
_HEADING_TAGS = {f"h{n}" for n in range(1, 7)}


def load_html(text: str, name: str) -> tuple[str | None, list[Block], list[Dropped]]:
    """(page title, main-content blocks, the page's other text as ``boilerplate``)."""
    tree = LexborHTMLParser(text)
    walker = HtmlWalker()
    top = tree.body or tree.root
    if top is None:  # nothing parsed at all
        return None, [], []
    try:
        walker.walk(top)
    except RecursionError as exc:
        raise CorruptFileError(f"{name}: HTML nested too deeply to read; save it as text") from exc
    candidates = [(_clean(block), in_chrome) for block, in_chrome in walker.finish()]
    page_chars = sum(len(b.text) for b, in_chrome in candidates if not in_chrome)
    main = _main_text(_without_section_ids(text, tree), name)
    if main is None or len(main) < min(MIN_MAIN_CHARS, page_chars):
        keep = [not in_chrome for _, in_chrome in candidates]
    else:
        keep = _selected([b for b, _ in candidates], main)
    blocks = [b for (b, _), kept in zip(candidates, keep, strict=True) if kept]
    dropped = [
        Dropped("boilerplate", b.text)
        for (b, _), kept in zip(candidates, keep, strict=True)
        if not kept
    ]
    title = tree.css_first("head > title")
    return (line(title.text()) if title else None), blocks, dropped


def _clean(block: Block) -> Block:
    if block.kind != "heading" or not _PERMALINK.search(block.text):
        return block
    return Block(_PERMALINK.sub("", block.text), block.kind, block.level)


def _without_section_ids(text: str, tree: LexborHTMLParser) -> str:
    """The page without the ids of elements that hold a heading: such an id is the heading's
    slug ("sharing-configuration-files"), and trafilatura takes words like "share" or
    "comment" in an id for a social or comment widget and drops the section. A page with no
    such id goes to trafilatura as it came (serializing it again changes what lxml reads)."""
    changed = False
    for node in tree.css("[id]"):
        if any(child.tag in _HEADING_TAGS for child in node.iter()):
            del node.attrs["id"]
            changed = True
    return (tree.html or text) if changed else text


def _main_text(text: str, name: str) -> str | None:
    """trafilatura's main content of the page as text, or None if it found none."""
    try:
        return trafilatura.extract(
            text,
            output_format="txt",
            include_tables=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            include_formatting=False,
            with_metadata=False,
            favor_recall=True,
        )
    except Exception as exc:  # an extractor bug must not lose the file: the walk still has it
        log.warning(
            "main-content extraction failed; keeping the page less its navigation",
            extra={"file": name, "error": f"{type(exc).__name__}: {exc}"},
        )
        return None


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _selected(blocks: list[Block], main: str) -> list[bool]:
    """Which blocks are main content: mostly in ``main``; headings over kept blocks."""
    words = _tokens(main)
    shingles = {tuple(words[i : i + _N]) for i in range(len(words) - _N + 1)}
    pairs = set(itertools.pairwise(words))
    vocabulary = set(words)
    keep: list[bool | None] = []
    for block in blocks:
        tokens = _tokens(block.text)
        if block.kind == "heading" or not tokens:
            keep.append(None)  # decided below
        elif len(tokens) < _N:
            found = tuple(tokens) in pairs if len(tokens) == 2 else tokens[0] in vocabulary
            keep.append(None if found else False)  # kept if a neighbour is
        else:
            grams = [tuple(tokens[i : i + _N]) for i in range(len(tokens) - _N + 1)]
            keep.append(sum(g in shingles for g in grams) >= 0.5 * len(grams))
    _short_blocks_follow_neighbours(blocks, keep)
    return _headings_follow_sections(blocks, keep)


def _short_blocks_follow_neighbours(blocks: list[Block], keep: list[bool | None]) -> None:
    for i, block in enumerate(blocks):
        if keep[i] is None and block.kind != "heading":
            near = [keep[j] for j in (i - 1, i + 1) if 0 <= j < len(keep)]
            keep[i] = any(k is True for k in near)


def _headings_follow_sections(blocks: list[Block], keep: list[bool | None]) -> list[bool]:
    """A heading is kept when a block of its section (up to the next heading at its level or
    above) is kept."""
    decided = [bool(k) for k in keep]
    for i, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        for j in range(i + 1, len(blocks)):
            other = blocks[j]
            if other.kind == "heading" and other.level <= block.level:
                break
            if other.kind != "heading" and decided[j]:
                decided[i] = True
                break
    return decided
