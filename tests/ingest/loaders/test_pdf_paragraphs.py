"""Wrapped lines joined again: hyphenation repaired conservatively, no space inside Chinese."""

from __future__ import annotations

import pytest

from kotaemon.ingest.loaders import Block
from kotaemon.ingest.loaders.pdf_pages import PageLine
from kotaemon.ingest.loaders.pdf_paragraphs import Paragraphs, join_wrapped


@pytest.mark.parametrize(
    ("left", "right", "vocabulary", "joined"),
    [
        ("the hyphen-", "ation of words", set(), "the hyphenation of words"),
        ("send an e-", "mail to us", set(), "send an e-mail to us"),  # one letter: a real hyphen
        ("a Wi-", "Fi network", set(), "a Wi-Fi network"),  # a capital follows
        ("code page ISO-", "8859-1", set(), "code page ISO-8859-1"),
        ("a well-", "known rule", {"well-known"}, "a well-known rule"),  # as written elsewhere
        ("a well-", "known rule", {"wellknown"}, "a wellknown rule"),
        ("the soft\u00ad", "ware", set(), "the software"),
        ("pay -- ", "or not", set(), "pay -- or not"),
        ("信用卡还款", "宽限期为三天。", set(), "信用卡还款宽限期为三天。"),
        ("信用卡 card", "还款", set(), "信用卡 card 还款"),
    ],
)
def test_join_wrapped(left: str, right: str, vocabulary: set[str], joined: str) -> None:
    assert join_wrapped(left.strip(), right, vocabulary) == joined


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
