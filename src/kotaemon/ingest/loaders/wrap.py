"""Wrapped lines of one paragraph joined again.

Lines are joined with a space, or with nothing between Chinese characters. A word hyphenated
at the end of a line is joined conservatively ("hyphen-" + "ation" is "hyphenation"): the
hyphen stays when the next line starts with a capital or a digit ("Wi-Fi", "ISO-8859"), when
the first part is one letter ("e-mail"), or when the document writes the word with its hyphen
elsewhere ("well-known"); it goes otherwise, since most line-end hyphens are a typesetter's. A
soft hyphen (U+00AD) always goes; groff's hyphen (U+2010) is treated as "-".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kotaemon.core.text import CJK_TEXT

_LETTERS = "A-Za-z\u00c0-\u024f"
_WORD = re.compile(rf"[{_LETTERS}]+(?:[-\u2010][{_LETTERS}]+)*")
_HYPHENATED = re.compile(rf"(?:^|[^{_LETTERS}\u2010-])([{_LETTERS}]+)[-\u2010]$")
_NEXT_WORD = re.compile(rf"[{_LETTERS}0-9]+")
_CJK_END = re.compile(rf"[{CJK_TEXT}]$")
_CJK_START = re.compile(rf"^[{CJK_TEXT}]")


def join_wrapped(left: str, right: str, known: set[str]) -> str:
    """Two lines of one paragraph joined; ``known`` is the document's ``vocabulary``."""
    if left.endswith("\u00ad"):  # a soft hyphen is only ever a line-break hyphen
        return left[:-1] + right
    if (match := _HYPHENATED.search(left)) and (nxt := _NEXT_WORD.match(right)):
        head, tail = match.group(1), nxt.group(0)
        if _keeps_hyphen(head, tail, known):
            return left[:-1] + "-" + right
        return left[:-1] + right
    if _CJK_END.search(left) and _CJK_START.search(right):
        return left + right
    return f"{left} {right}"


def _keeps_hyphen(head: str, tail: str, known: set[str]) -> bool:
    if not tail[0].islower() or len(head) == 1:
        return True
    return f"{head}-{tail}".lower() in known  # else a typesetter's hyphen


def vocabulary(lines: Iterable[str]) -> set[str]:
    """Words as the document writes them inside lines (line-end fragments left out)."""
    words: set[str] = set()
    for text in lines:
        text = text.rstrip().replace("\u2010", "-")
        found = _WORD.findall(text)
        if found and text.endswith("-"):
            found = found[:-1]
        words.update(w.lower() for w in found)
    return words
