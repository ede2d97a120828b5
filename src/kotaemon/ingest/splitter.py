"""Split loaded blocks into chunks of at most ``chunk_size`` model tokens.

Chunks never cross a heading or a page; paragraphs are kept whole when they fit and otherwise cut
at sentence ends (Chinese 。！？； and Latin .!?;), then, for a sentence longer than a chunk, at
word or character boundaries. A chunk cut for size repeats its last ``chunk_overlap`` tokens of
sentences at the start of the next chunk.
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
        drafts: list[ChunkDraft] = []
        headings: list[tuple[int, str]] = []
        current = _Open()
        for block in blocks:
            if block.kind == "heading":
                drafts.extend(self._flush(current, headings))
                current = _Open()
                headings = [h for h in headings if h[0] < block.level] + [(block.level, block.text)]
                continue
            if current.units and block.page != current.page:
                drafts.extend(self._flush(current, headings))
                current = _Open()
            current.page = block.page
            current = self._add_paragraph(current, block.text, headings, drafts)
        drafts.extend(self._flush(current, headings))
        return drafts

    def _add_paragraph(
        self, current: _Open, text: str, headings: list[tuple[int, str]], drafts: list[ChunkDraft]
    ) -> _Open:
        tokens = self._count(text)
        if tokens <= self.chunk_size:
            units = [("\n\n" + text if current.units else text, tokens)]
        else:
            units = list(self._sentences(text))
            if current.units:
                units[0] = ("\n\n" + units[0][0], units[0][1])
        for unit in units:
            if current.units and current.tokens + unit[1] > self.chunk_size:
                drafts.extend(self._flush(current, headings))
                carried = self._overlap(current.units)
                if sum(n for _, n in carried) + unit[1] > self.chunk_size:
                    carried = []  # the overlap would push this unit over the size
                current = _Open(units=carried, page=current.page)
            current.units.append(unit)
        return current

    def _sentences(self, text: str) -> Iterator[tuple[str, int]]:
        for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
            sep = "" if IDEOGRAPH.search(sentence) else " "
            tokens = self._count(sentence)
            if tokens <= self.chunk_size:
                yield sep + sentence, tokens
            else:
                yield from self._hard_split(sentence, sep)

    def _hard_split(self, sentence: str, sep: str) -> Iterator[tuple[str, int]]:
        """Cut an over-long sentence at spaces (or characters, without spaces) to fit a chunk.

        Parts are sized from the sentence's tokens-per-piece ratio, then shrunk until they fit,
        so a huge unpunctuated text costs a few tokenizer calls per chunk, not one per word.
        A single word longer than a chunk (a URL, a hash) is cut by characters.
        """
        by_words = " " in sentence.strip()
        pieces = sentence.split(" ") if by_words else list(sentence)
        joiner = " " if by_words else ""
        step = max(1, int(len(pieces) * self.chunk_size * 0.9 / self._count(sentence)))
        start = 0
        while start < len(pieces):
            size = step
            while True:
                text = joiner.join(pieces[start : start + size])
                tokens = self._count(text)
                if tokens <= self.chunk_size or size == 1:
                    break
                size = max(1, size * self.chunk_size // tokens - 1)
            if tokens > self.chunk_size:  # one word longer than a chunk
                yield from self._hard_split(text, sep)
            else:
                yield sep + text, tokens
            start += size

    def _overlap(self, units: list[tuple[str, int]]) -> list[tuple[str, int]]:
        carried: list[tuple[str, int]] = []
        total = 0
        for text, tokens in reversed(units):
            if total + tokens > self.chunk_overlap:
                break
            carried.insert(0, (text.lstrip("\n"), tokens))
            total += tokens
        return carried

    @staticmethod
    def _flush(current: _Open, headings: list[tuple[int, str]]) -> list[ChunkDraft]:
        text = "".join(t for t, _ in current.units).strip()
        if not text:
            return []
        heading = " > ".join(h for _, h in headings) or None
        return [
            ChunkDraft(text=text, token_count=current.tokens, page=current.page, heading=heading)
        ]
