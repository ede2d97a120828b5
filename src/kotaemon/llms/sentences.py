"""Sentences of a passage that can stand alone as an answer: fragments and navigation dropped.

A sentence worth quoting says something: it has enough words, is mostly letters, and is not
page furniture (breadcrumbs, "Next | Previous" links, a table of contents line, a bare heading).
"""

from __future__ import annotations

import re

from kotaemon.core.text import CJK_CHARACTER, IDEOGRAPH

# A sentence ends at Chinese end punctuation, or at ". ! ?" followed by a space (not at ";":
# the clause after it often holds the condition that answers); see _NO_END for "e.g.", "2.".
_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+(?=\S)")
# A piece ending so did not end a sentence: "e.g.", "i.e.", "etc.", "vs.", a numbering "2.".
_NO_END = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|Mr|Dr|No|Fig|Sec)\.|(?:^|\s)\d+(?:\.\d+)*\.)$")
_CLOSED = re.compile(r"[.!?:;。！？：；]$")
WRAP = 40  # a line at least this long that does not end a sentence was wrapped
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•·]|\d+[.)]|[A-Z][^a-z\n]{0,3}\s))")
_WORD = re.compile(r"[A-Za-z0-9][\w'’/.+:-]*")
_LETTER = re.compile(r"[^\W\d_]")
# Page furniture: arrows and separators between links, "Next / Prev / Home" links, dot leaders.
_NAVIGATION = re.compile(
    r"[»«›‹→←]|(?:\S\s+\|\s+\S.*){2,}|^(?:next|prev(?:ious)?|up|home|index|top|contents|"
    r"table of contents|show source|skip to (?:main )?content|上一页|下一页|返回|目录|首页)\b"
    r"|(?:\.\s?){6,}|copyright\s*(?:©|\(c\))",
    re.IGNORECASE,
)
# A section number ("9.3.", "3.2.3 "): a line that starts with one is a heading.
_SECTION_NUMBER = re.compile(r"(?:^|(?<=\s))\d+(?:\.\d+)+\.?(?=\s|[^\d.\s])")
MIN_WORDS = 4  # Latin words in a sentence that can stand alone
MIN_CJK = 6  # or Chinese characters
TERM_CHARS = 40  # a definition list's term is at most this long
DEFINITION_SPAN = 3  # statements a definition list's term heads (a description, examples, a note)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, hard-wrapped lines joined back, each stripped."""
    out: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        for line in _unwrap(paragraph):
            pieces = [p for p in _END.split(line) if p.strip()]
            merged: list[str] = []
            for piece in pieces:
                if merged and _NO_END.search(merged[-1]):
                    merged[-1] += " " + piece
                else:
                    merged.append(piece)
            out.extend(p.strip() for p in merged)
    return out


def _unwrap(paragraph: str) -> list[str]:
    """The paragraph's lines, hard-wrapped ones joined back (Chinese without a space); a short
    line or one that ends a sentence (a heading, a link) stays on its own."""
    lines: list[str] = []
    previous = ""  # the last raw line: what decides whether it was wrapped
    for line in (x.strip() for x in paragraph.splitlines()):
        if not line:
            continue
        wrapped = (
            previous
            and not _CLOSED.search(previous)
            and (len(previous) >= WRAP or line[0].islower())
            and not _NAVIGATION.search(previous)
            and not _NAVIGATION.search(line)
        )
        if not wrapped:
            lines.append(line)
        elif CJK_CHARACTER.search(previous[-1]) and CJK_CHARACTER.match(line):
            lines[-1] += line
        else:
            lines[-1] += " " + line
        previous = line
    return lines


def is_statement(sentence: str) -> bool:
    """Whether ``sentence`` says something by itself (not a fragment, heading or navigation)."""
    if _NAVIGATION.search(sentence):
        return False
    letters = len(_LETTER.findall(sentence))
    if letters < 0.5 * len(sentence.replace(" ", "")):
        return False  # mostly digits and symbols: a table row, a version list, a path list
    chinese = len(IDEOGRAPH.findall(sentence))
    if chinese >= MIN_CJK:
        return True
    # Mixed text counts both: "woody（Debian 3.0）是牛仔胡迪" says as much as six characters.
    words = len(_WORD.findall(sentence)) + chinese * MIN_WORDS / MIN_CJK
    return words >= MIN_WORDS and not _is_heading(sentence)


def _is_heading(sentence: str) -> bool:
    """A short line in Title Case with no end punctuation ("4.2 Package Relationships")."""
    words = sentence.split()
    if len(words) > 8 or sentence[-1] in ".!?:;,)":
        return False
    capitalised = sum(w[:1].isupper() or w[:1].isdigit() for w in words)
    return capitalised >= 0.7 * len(words)


def quotable_units(text: str) -> list[tuple[str, bool]]:
    """The units of ``text`` worth scoring, as (text, is_cue).

    A statement that ends with a colon takes the short lines after it (the command or value it
    introduces: "use the following command: apt-mark hold foo"). A question in the text (a FAQ
    entry) or a numbered heading is a cue: not quoted itself, it tells what the next unit
    answers. A line of several section numbers is a table of contents: dropped. A definition
    list's term (a short line) heads the statements of its definition, up to
    :data:`DEFINITION_SPAN` of them ("Applications/Emulators — Examples: wine, dosemu, qemu").
    Everything else that is not a statement is dropped.
    """
    units: list[tuple[str, bool]] = []
    introducing = False  # the last unit ends with a colon and may take a following line
    taken = 0
    term = ""  # a dropped one-to-three-word line before: the term a definition defines
    defined = 0  # statements of the term's definition so far
    for sentence in split_sentences(text):
        if len(_SECTION_NUMBER.findall(sentence)) >= 3:
            continue  # a table of contents line
        if (sentence[-1] in "?？" or _SECTION_NUMBER.match(sentence)) and len(sentence) <= 200:
            units.append((sentence, True))
            introducing, term = False, ""
        elif is_statement(sentence):
            units.append((f"{term} — {sentence}" if term else sentence, False))
            introducing, taken, defined = sentence[-1] in ":：", 0, defined + 1
            term = term if defined < DEFINITION_SPAN else ""
        elif introducing and taken < 2 and len(units[-1][0]) + len(sentence) < 400:
            units[-1] = (units[-1][0] + " " + sentence, False)
            taken += 1
        else:
            term, defined = (sentence if _is_term(sentence) else ""), 0
    return units


def _is_term(line: str) -> bool:
    """A definition list's term ("--force", "Recommends", "Applications/Emulators"): a short
    line (Chinese has no spaces: counted in characters), not a list item, a numbered heading, a
    clause or navigation."""
    words = line.split()
    if not 0 < len(words) <= 3 or len(line) > TERM_CHARS or line[0] in "-*•·" + "0123456789":
        return False
    return line[-1] not in ".!?。！？,，、;；" and not _NAVIGATION.search(line)
