"""The RAG record: one log event per answer with everything needed to see why it came out so.

The question, the query searched, each retrieved chunk (id, snippet, scores), the final prompt,
the tool calls, the answer and the milliseconds of each stage, under the answer's id (the same id
as its row in ``answers``). With redaction on (the default outside local mode), the question,
the query, the prompt, the snippets and the answer are replaced by their length, and tool
arguments are hidden.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from kotaemon.core.schema import Answer, RetrievedChunk

log = logging.getLogger("kotaemon.rag")

SNIPPET_CHARS = 200


@dataclass
class RagRecord:
    question: str
    answer_id: str | None = None
    search_query: str | None = None
    chunks: list[dict[str, Any]] = field(default_factory=list)
    prompt: list[dict[str, str]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    answer: str | None = None
    outcome: str | None = None
    error_code: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def retrieved(self, chunks: list[RetrievedChunk]) -> None:
        self.chunks = [
            {
                "chunk_id": c.chunk_id,
                "document": c.document_title,
                "score": c.score,
                "dense_score": c.dense_score,
                "keyword_score": c.keyword_score,
                "snippet": c.text[:SNIPPET_CHARS],
            }
            for c in chunks
        ]

    def answered(self, answer: Answer) -> None:
        self.answer_id, self.outcome, self.answer = answer.answer_id, answer.outcome, answer.text

    def emit(self, *, redact: bool) -> None:
        record = asdict(self)
        record["timings_ms"] = {k: round(v, 2) for k, v in self.timings_ms.items()}
        if redact:  # what users asked and were told, and what was fetched for them
            for key in ("question", "search_query", "answer"):
                record[key] = _redacted(record[key])
            record["prompt"] = [
                {"role": m["role"], "content": _redacted(m["content"])} for m in record["prompt"]
            ]
            for chunk in record["chunks"]:
                chunk["snippet"] = _redacted(chunk["snippet"])
            for call in record["tool_calls"]:
                call["arguments"] = {name: "[redacted]" for name in call.get("arguments", {})}
        log.info("rag record", extra={"rag": record})


def _redacted(text: str | None) -> str | None:
    return None if text is None else f"[redacted: {len(text)} characters]"
