"""Split loaded blocks into chunks that follow the document's structure.

Chunks never cross a heading or a page. Each chunk carries its section's heading path
("Fees > Late fees"): stored apart from the text shown to people, and put in front of the text
that is embedded and keyword-indexed (``ChunkDraft.indexed_text``), which never exceeds
``chunk_size`` model tokens; the path takes at most a quarter of them.

Paragraphs, lists, tables and code blocks are kept whole when they fit. A paragraph too long for
a chunk is cut at sentence ends (Chinese 。！？； and Latin .!?;), then, for a sentence longer
than a chunk, at word or character boundaries; a chunk so cut repeats its last
``chunk_overlap`` tokens of sentences at the start of the next. A list, table or code block too
long for a chunk is cut between its lines, and each part of a table repeats its header rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kotaemon.core.text import IDEOGRAPH
from kotaemon.ingest.loaders import Block

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])\s*|(?<=[.])\s+|\n+")


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    text: str
    token_count: int
    page: int | None
    heading: str | None

    @property
    def indexed_text(self) -> str:
        """What is embedded and keyword-indexed: the heading path gives the chunk its context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(slots=True)
class _Open:
    units: list[tuple[str, int]] = field(default_factory=list)
    page: int | None = None

    @property
    def tokens(self) -> int:
        return sum(n for _, n in self.units)


class Splitter:
    """Packs blocks into token-bounded chunks.

    Example::

        splitter = Splitter(count_tokens=embedder.count_tokens, chunk_size=320, chunk_overlap=32)
        drafts = splitter.split(loaded_file.blocks)

    :raises ValueError: if ``chunk_overlap`` is not smaller than ``chunk_size``.
    """

    def __init__(
        self, count_tokens: Callable[[str], int], *, chunk_size: int = 320, chunk_overlap: int = 32
    ) -> None:
        if chunk_size < 16 or not 0 <= chunk_overlap < chunk_size:
            raise ValueError(
                f"need chunk_size >= 16 and 0 <= chunk_overlap < chunk_size, got "
                f"chunk_size={chunk_size}, chunk_overlap={chunk_overlap}"
            )
        self._count = count_tokens
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    def split(self, blocks: Iterable[Block]) -> list[ChunkDraft]:
        """The chunks of ``blocks``, in order.

        :returns: drafts whose ``indexed_text`` is at most ``chunk_size`` tokens.
        """
        drafts: list[ChunkDraft] = []
        headings: list[tuple[int, str]] = []
        path: str | None = None
        budget = self.chunk_size  # tokens left for the text once the heading path is in
        current = _Open()
        for block in blocks:
            if block.kind == "heading":
                drafts.extend(self._flush(current, path))
                current = _Open()
                headings = [h for h in headings if h[0] < block.level] + [(block.level, block.text)]
                path = self._path([h for _, h in headings])
                budget = self.chunk_size - (self._count(path + "\n") if path else 0)
                continue
            if current.units and block.page != current.page:
                drafts.extend(self._flush(current, path))
                current = _Open()
            current.page = block.page
            if block.kind == "paragraph" or self._count(block.text) <= budget:
                current = self._add_paragraph(current, block.text, path, drafts, budget)
            else:
                current = self._add_lines(current, block, path, drafts, budget)
        drafts.extend(self._flush(current, path))
        return drafts

    def _path(self, headings: list[str]) -> str | None:
        """The heading path, innermost headings first to go in when it is too long."""
        cap = self.chunk_size // 4
        for start in range(len(headings)):
            path = " > ".join(headings[start:])
            if self._count(path + "\n") <= cap:
                return path
        if not headings:
            return None
        innermost = headings[-1]  # a heading longer than the cap: cut it
        while innermost and self._count(innermost + "\n") > cap:
            innermost = innermost[: len(innermost) * 3 // 4]
        return innermost or None

    def _add_paragraph(
        self,
        current: _Open,
        text: str,
        path: str | None,
        drafts: list[ChunkDraft],
        budget: int,
    ) -> _Open:
        tokens = self._count(text)
        if tokens <= budget:
            units = [("\n\n" + text if current.units else text, tokens)]
        else:
            units = list(self._sentences(text, budget))
            if current.units:
                units[0] = ("\n\n" + units[0][0], units[0][1])
        for unit in units:
            if current.units and current.tokens + unit[1] > budget:
                drafts.extend(self._flush(current, path))
                carried = self._overlap(current.units)
                if sum(n for _, n in carried) + unit[1] > budget:
                    carried = []  # the overlap would push this unit over the size
                current = _Open(units=carried, page=current.page)
            current.units.append(unit)
        return current

    def _add_lines(
        self,
        current: _Open,
        block: Block,
        path: str | None,
        drafts: list[ChunkDraft],
        budget: int,
    ) -> _Open:
        """A list, table or code block longer than a chunk, in chunks of its own: cut between
        lines, each part of a table under its header rows; a line longer than a chunk is cut
        as a paragraph is."""
        drafts.extend(self._flush(current, path))
        lines = block.text.split("\n")
        header = "\n".join(lines[: block.header_rows])
        header_tokens = self._count(header + "\n") if header else 0
        if header_tokens > budget // 2:  # a header too big to repeat is a row like the others
            header, header_tokens = "", 0
        start = [(header, header_tokens)] if header else []
        part, rows = _Open(list(start), block.page), 0
        for line in lines[block.header_rows :] if header else lines:
            tokens = self._count(line)
            if (rows and part.tokens + tokens > budget) or tokens + header_tokens > budget:
                if rows:
                    drafts.extend(self._flush(part, path))
                part, rows = _Open(list(start), block.page), 0
            if tokens + header_tokens > budget:  # one line longer than a chunk
                for piece in self._sentences(line, budget):
                    drafts.extend(self._flush(_Open([piece], block.page), path))
                continue
            part.units.append(("\n" + line if part.units else line, tokens))
            rows += 1
        if rows:
            drafts.extend(self._flush(part, path))
        return _Open()

    def _sentences(self, text: str, budget: int) -> Iterator[tuple[str, int]]:
        for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
            sep = "" if IDEOGRAPH.search(sentence) else " "
            tokens = self._count(sentence)
            if tokens <= budget:
                yield sep + sentence, tokens
            else:
                yield from self._hard_split(sentence, sep, budget)

    def _hard_split(self, sentence: str, sep: str, budget: int) -> Iterator[tuple[str, int]]:
        """Cut an over-long sentence at spaces (or characters, without spaces) to fit a chunk.

        Parts are sized from the sentence's tokens-per-piece ratio, then shrunk until they fit,
        so a huge unpunctuated text costs a few tokenizer calls per chunk, not one per word.
        A single word longer than a chunk (a URL, a hash) is cut by characters.
        """
        by_words = " " in sentence.strip()
        pieces = sentence.split(" ") if by_words else list(sentence)
        joiner = " " if by_words else ""
        step = max(1, int(len(pieces) * budget * 0.9 / self._count(sentence)))
        start = 0
        while start < len(pieces):
            size = step
            while True:
                text = joiner.join(pieces[start : start + size])
                tokens = self._count(text)
                if tokens <= budget or size == 1:
                    break
                size = max(1, size * budget // tokens - 1)
            if tokens > budget:  # one word longer than a chunk
                yield from self._hard_split(text, sep, budget)
            else:
                yield sep + text, tokens
            start += size

    def _overlap(self, units: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """The last units, up to ``chunk_overlap`` tokens, to open the next chunk with; only
        the first loses its separator (the others keep their paragraph breaks)."""
        carried: list[tuple[str, int]] = []
        total = 0
        for text, tokens in reversed(units):
            if total + tokens > self.chunk_overlap:
                break
            carried.insert(0, (text, tokens))
            total += tokens
        if carried:
            carried[0] = (carried[0][0].lstrip("\n"), carried[0][1])
        return carried

    @staticmethod
    def _flush(current: _Open, path: str | None) -> list[ChunkDraft]:
        text = "".join(t for t, _ in current.units).strip()
        if not text:
            return []
        return [ChunkDraft(text=text, token_count=current.tokens, page=current.page, heading=path)]
