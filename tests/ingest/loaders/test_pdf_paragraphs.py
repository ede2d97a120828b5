"""A PDF page's lines made into headings and paragraphs again."""

from __future__ import annotations

from kotaemon.ingest.loaders import Block
from kotaemon.ingest.loaders.pdf_pages import PageLine
from kotaemon.ingest.loaders.pdf_paragraphs import Paragraphs


def test_paragraphs_by_gap_and_headings_by_size() -> None:
    page = [
        PageLine("Repayment", y=800, size=16),
        PageLine("第一行文字，", y=770, size=10),
        PageLine("第二行文字。", y=758, size=10),
        PageLine("A new paragraph after a wider gap.", y=730, size=10),
    ]

    assert Paragraphs([(3, page)]).blocks() == [
        Block("Repayment", "heading", 1, 3),
        Block("第一行文字，第二行文字。", "paragraph", 0, 3),
        Block("A new paragraph after a wider gap.", "paragraph", 0, 3),
    ]


def test_without_positions_a_short_line_ending_a_sentence_ends_the_paragraph() -> None:
    lines = [
        "This is a long line of a paragraph that wraps to the next",
        "line here and ends.",
        "Another paragraph starts here and it is long enough to wrap",
        "again.",
    ]
    blocks = Paragraphs([(1, [PageLine(t) for t in lines])]).blocks()

    assert [b.text for b in blocks] == [
        "This is a long line of a paragraph that wraps to the next line here and ends.",
        "Another paragraph starts here and it is long enough to wrap again.",
    ]
