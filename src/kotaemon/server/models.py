"""The HTTP API's request and response bodies.

Request models (``…Request``, ``…Create``) are kept apart from response models (``…Public``,
``…Response``) so that what a client may send never grows by accident with what it is shown.
Answers, chunks and citations reuse the engine's own models (:mod:`kotaemon.core.schema`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kotaemon.core.language import Language
from kotaemon.core.schema import (
    Answer,
    Citation,
    Collection,
    Conversation,
    ConversationTurn,
    IngestJob,
    JobError,
    JobState,
    Rating,
    RetrievalInfo,
    RetrievedChunk,
    ToolCallRecord,
)
from kotaemon.retrieval.config import Mode, TopK

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
CollectionNames = Annotated[
    list[str] | None,
    Field(
        default=None,
        max_length=100,
        description="Collections to search; omitted: every collection you may read.",
    ),
]
MetadataFilter = Annotated[
    dict[str, Any] | None,
    Field(
        default=None,
        description="Keep chunks whose metadata contains every key of this object with an "
        "equal value (JSON containment).",
        examples=[{"lang": "en"}],
    ),
]


class _Request(BaseModel):
    """Unknown fields are refused, so a misspelt option fails loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class ChatRequest(_Request):
    """A question to answer from the knowledge base."""

    question: Question = Field(examples=["信用卡还款的宽限期是几天？"])
    collections: CollectionNames
    filter: MetadataFilter
    conversation_id: str | None = Field(
        default=None,
        description="Continue this conversation: the question is read in the light of its "
        "earlier turns. Omitted: a new conversation starts (its id is in the answer).",
    )
    stream: bool = Field(
        default=False,
        description="true: a text/event-stream of sources, delta… and one done or error event.",
    )


class SearchRequest(_Request):
    """A retrieval-only query: the chunks an answer would be built from."""

    query: Question = Field(examples=["late payment fee"])
    collections: CollectionNames
    filter: MetadataFilter
    top_k: TopK | None = Field(
        default=None, description="Chunks to return, 1-100 (default: KOTAEMON_TOP_K)."
    )
    mode: Mode | None = Field(default=None, description="Default: KOTAEMON_RETRIEVAL_MODE.")


class SearchResponse(BaseModel):
    chunks: list[RetrievedChunk]
    top_dense_score: float | None = Field(
        description="The best cosine similarity found (null in keyword mode or with no match)."
    )


class CollectionCreate(_Request):
    name: str = Field(
        min_length=1,
        description="1-64 letters, digits, '_', '.' or '-', starting with a letter or digit.",
        examples=["policies"],
    )
    description: str = Field(default="", max_length=2000)


class CollectionUpdate(_Request):
    description: str = Field(max_length=2000)


class CollectionPublic(BaseModel):
    """A collection as clients see it."""

    name: str
    description: str
    owner_id: str
    embedding_model: str
    dim: int
    document_count: int
    chunk_count: int
    languages: list[Language] = Field(description="The languages its documents are in.")

    @classmethod
    def of(cls, collection: Collection) -> CollectionPublic:
        return cls.model_validate(collection.model_dump(include=set(cls.model_fields)))


class CollectionList(BaseModel):
    collections: list[CollectionPublic]


class JobList(BaseModel):
    jobs: list[IngestJob]


DocumentStatus = Literal["queued", "processing", "ready", "failed"]


class LatestJob(BaseModel):
    id: str
    state: JobState
    error: JobError | None = None


class DocumentPublic(BaseModel):
    """A document of a collection, or a file whose ingestion has not produced one (yet)."""

    id: str | None = Field(description="null until the first ingestion succeeds.")
    source: str = Field(description="The document's name in the collection.")
    title: str | None
    media_type: str
    size_bytes: int
    chunk_count: int
    language: Language | None = Field(
        default=None, description="The language detected in its text (zh or en)."
    )
    status: DocumentStatus = Field(
        description="queued or processing while a job runs; ready once stored; failed when "
        "its only ingestion failed (see job.error)."
    )
    job: LatestJob | None = Field(description="The newest ingestion job of this name.")
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> DocumentPublic:
        job = None
        if row["job_id"]:
            error = (
                JobError(code=row["error_code"], message=row["error_message"] or "")
                if row["error_code"]
                else None
            )
            job = LatestJob(id=str(row["job_id"]), state=row["job_state"], error=error)
        if job and job.state == "queued":
            status: DocumentStatus = "queued"
        elif job and job.state == "running":
            status = "processing"
        else:
            status = "ready" if row["id"] else "failed"
        return cls(
            id=str(row["id"]) if row["id"] else None,
            source=row["source"],
            title=row["title"],
            media_type=row["media_type"],
            size_bytes=row["size_bytes"],
            chunk_count=row["chunk_count"],
            language=row["language"],
            status=status,
            job=job,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class DocumentList(BaseModel):
    documents: list[DocumentPublic]


class ConversationList(BaseModel):
    conversations: list[Conversation]


class ConversationDetail(BaseModel):
    conversation: Conversation
    turns: list[ConversationTurn]


class FeedbackCreate(_Request):
    """How an answer served you."""

    rating: Rating = Field(description="helpful, or wrong.")
    comment: str = Field(default="", max_length=4000)


# --- the OpenAI-compatible API ----------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class CompletionMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls… are accepted and ignored

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request. Sampling options (temperature, max_tokens…) are
    accepted and ignored: the server's settings apply."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(
        min_length=1,
        description="`kotaemon` (every collection you may read) or a collection's name.",
        examples=["kotaemon"],
    )
    messages: list[CompletionMessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class KotaemonExtras(BaseModel):
    """What kotaemon adds to an OpenAI response (standard clients ignore it)."""

    answer_id: str
    outcome: str
    extractive: bool
    call_log: list[ToolCallRecord]
    retrieval: RetrievalInfo
    trace_id: str | None = None

    @classmethod
    def of(cls, answer: Answer) -> KotaemonExtras:
        return cls.model_validate(answer.model_dump(include=set(cls.model_fields)))


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage
    citations: list[Citation] = Field(description="What the answer's [n] markers point at.")
    kotaemon: KotaemonExtras


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "kotaemon"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class HealthStatus(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable; safe to branch on.")
    message: str = Field(description="For people: what went wrong and what to do.")


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class EvalQuestionIn(BaseModel):
    """One question of an eval run, as a JSONL line gives it."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=200, description="Default: its position.")
    question: Question
    answers: list[str] = Field(default_factory=list, max_length=50)
    sources: list[str] = Field(
        default_factory=list, max_length=50, description="Expected documents: name or id."
    )
    tags: list[str] = Field(default_factory=list, max_length=20)
    answerable: bool | None = None


class EvalCreate(BaseModel):
    """Start an eval run: the questions (as objects, or as the text of a .jsonl or .csv file)
    and the collections they are asked against."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api", min_length=1, max_length=200)
    collections: list[str] = Field(min_length=1, max_length=100)
    questions: list[EvalQuestionIn] | None = Field(default=None, min_length=1, max_length=10_000)
    file: str | None = Field(
        default=None,
        max_length=5_000_000,
        description="A question file's text instead of `questions` (see `format`).",
    )
    format: Literal["jsonl", "csv"] = "jsonl"
    concurrency: int = Field(default=4, ge=1, le=32)
    judge: bool = Field(default=True, description="LLM judge, when an LLM is configured.")
    min_evidence: float | None = Field(default=None, ge=0, le=1)


class EvalRunPublic(BaseModel):
    """An eval run: how far it got (``done`` of ``total``) and, once finished, its summary."""

    id: str
    name: str
    collections: list[str]
    state: Literal["queued", "running", "succeeded", "failed"]
    total: int
    done: int
    error: JobError | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    summary: dict[str, Any] | None = None


class EvalRunList(BaseModel):
    runs: list[EvalRunPublic]


class EvalResultsResponse(BaseModel):
    """A run's per-question results so far (all of them once it has succeeded)."""

    run: EvalRunPublic
    results: list[dict[str, Any]]
