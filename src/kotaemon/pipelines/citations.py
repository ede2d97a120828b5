"""Citation markers: keep ``[n]`` that point at a source, drop the rest, even mid-stream."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kotaemon.core.schema import Citation, Source, ToolResult

_MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")
_PARTIAL = re.compile(r"\[[\d\s,，、]*$")
_MAX_MARKER_LENGTH = 24


class CitationFilter:
    """Rewrites streamed answer text so that only valid markers reach the reader.

    ``[2]`` stays when there are at least 2 sources; ``[9]`` with 3 sources vanishes;
    ``[1, 3]`` becomes ``[1][3]``. Text that might still become a marker (``"see [1"``) is held
    back until the next piece shows how it ends.
    """

    def __init__(self, source_count: int) -> None:
        self._count = source_count
        self._held = ""
        self.used: list[int] = []

    def feed(self, text: str) -> str:
        """The part of ``held + text`` that is settled, with markers checked."""
        text = self._held + text
        partial = _PARTIAL.search(text)
        if partial and len(text) - partial.start() <= _MAX_MARKER_LENGTH:
            self._held = text[partial.start() :]
            text = text[: partial.start()]
        else:
            self._held = ""
        return _MARKER.sub(self._replace, text)

    def finish(self) -> str:
        """Whatever is still held at the end of the stream."""
        text, self._held = self._held, ""
        return _MARKER.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        kept = []
        for part in re.split(r"[,，、]", match.group(1)):
            number = int(part)
            if 1 <= number <= self._count:
                kept.append(number)
                if number not in self.used:
                    self.used.append(number)
        return "".join(f"[{n}]" for n in kept)


def clean_markers(text: str, source_count: int) -> tuple[str, list[int]]:
    """A whole answer with invalid markers dropped, and the markers used in order."""
    citation_filter = CitationFilter(source_count)
    cleaned = citation_filter.feed(text) + citation_filter.finish()
    return cleaned, citation_filter.used


def build_citations(used: Sequence[int], sources: Sequence[Source]) -> list[Citation]:
    """One citation per used marker, pointing at the numbered source: a chunk or a tool result,
    as the source's type says."""
    citations = []
    for n in used:
        source = sources[n - 1]
        if isinstance(source, ToolResult):
            citations.append(
                Citation(marker=n, kind="tool", tool=source.tool, source=f"tool:{source.tool}",
                         snippet=snippet(source.text))
            )  # fmt: skip
            continue
        citations.append(
            Citation(
                marker=n,
                kind="chunk",
                document=source.document_title,
                document_id=source.document_id,
                chunk_id=source.chunk_id,
                source=source.source,
                page=source.page,
                snippet=snippet(source.text),
                score=source.score,
            )
        )
    return citations


def snippet(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
