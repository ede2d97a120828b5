"""The data every part shares: documents, retrieved chunks, citations, answers and stream events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from kotaemon.core.errors import KotaemonError
from kotaemon.core.language import Language, LanguagePair


class RetrievedChunk(BaseModel):
    """A chunk found by retrieval, with where it comes from and how it scored."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["chunk"] = "chunk"
    chunk_id: str
    document_id: str
    collection: str
    document_title: str
    source: str
    text: str
    page: int | None = None
    heading: str | None = None
    score: float = Field(description="The fused score that ordered the results.")
    dense_score: float | None = Field(default=None, description="Cosine similarity, if found.")
    keyword_score: float | None = Field(default=None, description="BM25 score, if found.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    language: Language | None = Field(
        default=None, description="The language of the chunk's document (zh or en)."
    )


class ToolResult(BaseModel):
    """What one tool call returned, as a source the answer cites like a document.

    A source is a chunk or a tool result by its type, never by data a user can write: a passage
    uploaded with any metadata stays a chunk.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["tool"] = "tool"
    call_id: str
    tool: str
    text: str = Field(description="The result as the model reads it (JSON text, cut to length).")
    data: Any = Field(default=None, description="The result as the tool returned it.")


#: What an answer may cite: retrieved chunks and tool results.
Source = Annotated[RetrievedChunk | ToolResult, Field(discriminator="kind")]


class Citation(BaseModel):
    """What one ``[n]`` marker of an answer points at."""

    marker: int
    kind: Literal["chunk", "tool"]
    document: str | None = None
    document_id: str | None = None
    chunk_id: str | None = None
    source: str | None = None
    page: int | None = None
    tool: str | None = None
    snippet: str
    score: float | None = None


class ToolCallRecord(BaseModel):
    """One line of an answer's call log."""

    tool: str
    arguments: dict[str, Any] = Field(description="Arguments, secrets redacted.")
    status: Literal["ok", "error", "timeout", "denied"]
    duration_ms: float
    error: str | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class RetrievalInfo(BaseModel):
    """How well the knowledge base covered the question (used by batch testing)."""

    query: str = Field(description="What was searched: the question, made standalone.")
    top_dense_score: float | None = None
    threshold: float | None = None
    has_relevant_context: bool
    language_pair: LanguagePair | None = Field(
        default=None,
        description="The question's language and that of the best passages (en-en, zh-zh, "
        "zh-en, en-zh, mixed): the pair whose calibrated threshold applied.",
    )
    evidence_score: float | None = Field(
        default=None,
        description="How well the best sentence of the sources answers the question (0-1): "
        "answer-level evidence, beside the passage-level top_dense_score.",
    )


Outcome = Literal["answered", "no_context", "error"]


class Answer(BaseModel):
    """The final answer: text with ``[n]`` markers, what they cite, and how it was made."""

    answer_id: str
    question: str
    text: str
    language: Literal["zh", "en"]
    outcome: Outcome
    citations: list[Citation] = Field(default_factory=list)
    call_log: list[ToolCallRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str
    extractive: bool = Field(description="True when no LLM was configured.")
    retrieval: RetrievalInfo
    conversation_id: str | None = None
    trace_id: str | None = None
    cached: bool = Field(
        default=False, description="Served from the answer cache (KOTAEMON_ANSWER_CACHE)."
    )


class Replay(BaseModel):
    """An answer with its numbered sources: what streams it again (a cache, an idempotent
    retry)."""

    answer: Answer
    sources: list[Source]


class SourcesEvent(BaseModel):
    """The numbered sources of the answer: source ``n`` is what marker ``[n]`` cites."""

    type: Literal["sources"] = "sources"
    sources: list[Source]


class ToolStartEvent(BaseModel):
    type: Literal["tool_start"] = "tool_start"
    call_id: str
    tool: str
    arguments: dict[str, Any]


class ToolEndEvent(BaseModel):
    type: Literal["tool_end"] = "tool_end"
    call_id: str
    record: ToolCallRecord


class DeltaEvent(BaseModel):
    type: Literal["delta"] = "delta"
    text: str


class DoneEvent(BaseModel):
    type: Literal["done"] = "done"
    answer: Answer


class ErrorEvent(BaseModel):
    """The answer failed; ``code`` is stable, ``status`` the HTTP status it is served with."""

    type: Literal["error"] = "error"
    code: str
    message: str
    _status: int = PrivateAttr(default=500)

    @classmethod
    def of(cls, error: KotaemonError) -> ErrorEvent:
        event = cls(code=error.code, message=error.message)
        event._status = error.status
        return event

    @property
    def status(self) -> int:
        return self._status

    def error(self) -> KotaemonError:
        """The event as an exception, with its status (to raise it again)."""
        error = KotaemonError(self.message, code=self.code)
        error.status = self._status
        return error


Event = Annotated[
    SourcesEvent | ToolStartEvent | ToolEndEvent | DeltaEvent | DoneEvent | ErrorEvent,
    Field(discriminator="type"),
]


class Collection(BaseModel):
    """A named set of documents, embedded with one model, owned by a user."""

    id: str
    name: str
    description: str = ""
    owner_id: str
    embedding_model: str
    dim: int
    space_id: int
    chunk_count: int = 0
    document_count: int = 0
    version: int = Field(
        default=0, description="Bumped by every write to the collection (caches are keyed by it)."
    )
    languages: list[Language] = Field(
        default_factory=list, description="The languages its documents are in."
    )


class DocumentInfo(BaseModel):
    """A stored document."""

    id: str
    collection: str
    source: str
    title: str
    media_type: str
    size_bytes: int
    chunk_count: int
    content_hash: str
    language: Language | None = Field(
        default=None, description="The language detected in its text (zh or en)."
    )


JobState = Literal["queued", "running", "succeeded", "failed"]


class JobProgress(BaseModel):
    stage: str | None = Field(description="parsing, embedding or storing, while running.")
    done: int = Field(description="Chunks embedded so far.")
    total: int = Field(description="Chunks to embed (0 until the file is parsed).")


class JobError(BaseModel):
    code: str
    message: str


class IngestJob(BaseModel):
    """The ingestion of one file into a collection, run by a worker (at least once)."""

    id: str
    collection: str
    kind: Literal["ingest", "reindex"]
    source: str = Field(description="The document's name in the collection.")
    media_type: str
    size_bytes: int
    state: JobState
    attempts: int
    max_attempts: int
    progress: JobProgress
    result: Literal["added", "replaced", "unchanged"] | None = None
    document_id: str | None = None
    chunk_count: int | None = None
    error: JobError | None = Field(
        default=None,
        description="Why the job failed (state failed), or why the last attempt failed while "
        "it waits for a retry (state queued).",
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Conversation(BaseModel):
    """A user's multi-turn chat; follow-up questions are read in its light."""

    id: str
    title: str
    collections: list[str] | None = Field(description="Searched by every turn; null: all.")
    created_at: datetime
    updated_at: datetime


class ConversationTurn(BaseModel):
    answer_id: str
    question: str
    answer: str
    outcome: Outcome
    citations: list[Citation]
    created_at: datetime


Rating = Literal["helpful", "wrong"]


class Feedback(BaseModel):
    """A user's rating of one answer."""

    answer_id: str
    rating: Rating
    comment: str
    created_at: datetime
    updated_at: datetime
