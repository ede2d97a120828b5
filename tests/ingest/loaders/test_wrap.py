"""Wrapped lines joined again: hyphenation repaired conservatively, no space inside Chinese."""

from __future__ import annotations

import pytest

from kotaemon.ingest.loaders.wrap import join_wrapped, vocabulary


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
        ("incor\u2010", "porates", set(), "incorporates"),  # groff's hyphen
        ("non\u2010", "Debian", set(), "non-Debian"),
        ("pay -- ", "or not", set(), "pay -- or not"),
        ("信用卡还款", "宽限期为三天。", set(), "信用卡还款宽限期为三天。"),
        ("信用卡 card", "还款", set(), "信用卡 card 还款"),
    ],
)
def test_join_wrapped(left: str, right: str, vocabulary: set[str], joined: str) -> None:
    assert join_wrapped(left.strip(), right, vocabulary) == joined


def test_the_vocabulary_leaves_out_line_end_fragments() -> None:
    assert vocabulary(["a well-known rule, well", "the hyphen-", "ation"]) == {
        "a",
        "well-known",
        "rule",
        "well",
        "the",
        "ation",
    }
