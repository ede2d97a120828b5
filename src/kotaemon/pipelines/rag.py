"""RAG: retrieve → prompt → generate → cite, as a stream of events.

Events follow the contract in docs/architecture.md: tool events and ``sources`` first, then
``delta`` pieces of the answer, then exactly one ``done`` (the :class:`Answer`) or ``error``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from time import perf_counter
from typing import Any

import anyio

from kotaemon.agent.intents import Intent
from kotaemon.agent.orchestrator import ToolOutcome, ToolPlanner, unchecked_notice
from kotaemon.cache.cache import Cache
from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import KotaemonError
from kotaemon.core.language import Language, LanguagePair, detect_language, language_pair
from kotaemon.core.principal import Principal, require_principal
from kotaemon.core.schema import (
    Answer,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    RetrievalInfo,
    RetrievedChunk,
    Source,
    SourcesEvent,
    ToolResult,
    Usage,
)
from kotaemon.embeddings.base import estimate_tokens
from kotaemon.llms.base import ChatMessage, LLMInterface
from kotaemon.llms.evidence import Evidence, EvidenceScorer
from kotaemon.llms.extractive import ExtractiveAnswerer
from kotaemon.observability.metrics import ANSWERS
from kotaemon.observability.rag_record import RagRecord
from kotaemon.observability.stages import stage
from kotaemon.observability.tracing import current_ids
from kotaemon.pipelines import prompts
from kotaemon.pipelines.answer_cache import AnswerCache, replay
from kotaemon.pipelines.citations import CitationFilter, build_citations
from kotaemon.pipelines.rewrite import QuestionRewriter
from kotaemon.retrieval.retriever import RetrievalResult, VectorDBRetriever

log = logging.getLogger(__name__)
#: Best sentence score under which passages are refused although relevant: no answerable
#: question of SQuAD 2.0 or CMRC 2018 dev scored under it (docs/relevance-calibration.md).
MIN_EVIDENCE = 0.3


class RAGPipeline(BaseComponent):
    """Answers a question from the knowledge base, with citations.

    Example::

        pipeline = RAGPipeline(retriever, llm)          # llm=None: extractive answers
        answer = pipeline.run("宽限期是几天？")
        print(answer.text, answer.citations)
        for event in pipeline.stream("What is the late fee?"):
            ...

    :param min_relevance: top dense similarity under which the answer says nothing relevant
        was found; None takes the embedding model's calibrated threshold for the language pair
        of the question and the passages found (``en-en``, ``zh-en``…, ``mixed``).
    :param min_evidence: best sentence score under which passages that passed the relevance
        threshold are still refused (they do not hold an answer); None: never.
    :param max_output_tokens: cap on the answer's length.
    :param redact_records: leave the question, prompt and answer text out of the RAG record.
    :param planner: the tools, called beside retrieval; their results are cited like documents.
    :param system_prompts: the system prompt by language (``en``, ``zh``), replacing the
        default; the operator's configuration sets it (the assistant's role, its tone).
    :param answer_cache: where whole answers are kept (see :mod:`.answer_cache`); None: none.
    """

    def __init__(
        self,
        retriever: VectorDBRetriever,
        llm: LLMInterface | None = None,
        *,
        min_relevance: float | None = None,
        min_evidence: float | None = MIN_EVIDENCE,
        max_output_tokens: int = 1024,
        redact_records: bool = False,
        planner: ToolPlanner | None = None,
        system_prompts: Mapping[str, str] | None = None,
        answer_cache: Cache | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.scorer = EvidenceScorer(retriever.embedder)
        self.extractive = ExtractiveAnswerer(retriever.embedder, scorer=self.scorer)
        self.rewriter = QuestionRewriter(llm)
        self.min_relevance = min_relevance
        self.min_evidence = min_evidence
        self.max_output_tokens = max_output_tokens
        self.redact_records = redact_records
        self.planner = planner
        self.system = prompts.system_prompts(system_prompts)
        self.answer_cache = (
            AnswerCache(answer_cache, settings=self._generation_settings())
            if answer_cache is not None
            else None
        )

    def _generation_settings(self) -> dict[str, Any]:
        """Everything besides the question and the collections that shapes an answer."""
        return {
            "model": self.llm.model if self.llm else self.extractive.model,
            "temperature": getattr(self.llm, "temperature", None),
            "max_output_tokens": self.max_output_tokens,
            "system": {k: v.template for k, v in self.system.items()},
            "retrieval": self.retriever.config.model_dump(),
            "embedding_model": self.retriever.embedder.model,
            "min_relevance": self.min_relevance,
            "min_evidence": self.min_evidence,
        }

    def relevance_threshold(self, pair: LanguagePair) -> float | None:
        """The configured threshold, else the embedding model's calibrated one for ``pair``
        (else for the question's language, for a model calibrated per language only)."""
        if self.min_relevance is not None:
            return self.min_relevance
        thresholds = self.retriever.embedder.relevance_thresholds
        return thresholds.get(pair, thresholds.get(pair.split("-")[0]))

    async def arun(self, question: str, **kwargs: Any) -> Answer:
        """The final answer. :raises KotaemonError: if answering failed."""
        async for event in self.astream(question, **kwargs):
            if isinstance(event, DoneEvent):
                return event.answer
            if isinstance(event, ErrorEvent):
                raise event.error()
        raise RuntimeError("the answer stream ended without a done or error event")

    async def astream(
        self,
        question: str,
        *,
        principal: Principal | None = None,
        collections: Sequence[str] | None = None,
        metadata_filter: dict[str, Any] | None = None,
        history: Sequence[ChatMessage] = (),
    ) -> AsyncGenerator[Event, None]:
        """Events of one answer: sources, deltas, then done or error (never an exception).

        Each answer also logs its RAG record, whatever its end (a client that goes away
        included).

        :param principal: whose permissions apply; without one, the retriever's (if it has one).
        """
        record = RagRecord(question=question)
        try:
            caller = require_principal(
                principal if principal is not None else self.retriever.principal
            )
            answer = self._answer(question, caller, collections, metadata_filter, history, record)
            async with aclosing(answer):  # closing this stream closes the LLM's at once
                async for event in answer:
                    if isinstance(event, DoneEvent):
                        record.answered(event.answer)
                        ANSWERS.labels(event.answer.outcome).inc()
                    yield event
        except KotaemonError as exc:
            record.outcome, record.error_code = "error", exc.code
            ANSWERS.labels("error").inc()
            yield ErrorEvent.of(exc)
        except Exception:
            log.exception("answer failed")
            record.outcome, record.error_code = "error", "internal_error"
            ANSWERS.labels("error").inc()
            yield ErrorEvent(code="internal_error", message="answering failed unexpectedly; retry")
        finally:
            record.outcome = record.outcome or "cancelled"
            record.emit(redact=self.redact_records)

    async def _answer(
        self,
        question: str,
        principal: Principal,
        collections: Sequence[str] | None,
        metadata_filter: dict[str, Any] | None,
        history: Sequence[ChatMessage],
        record: RagRecord,
    ) -> AsyncGenerator[Event, None]:
        language = detect_language(question)
        if history:
            with stage("rewrite", record.timings_ms, span="rewrite question"):
                search_query = await self.rewriter.arun(question, history=history)
        else:
            search_query = question
        record.search_query = search_query
        intent = None
        if self.planner is not None:
            with stage("route", record.timings_ms, span="route intent"):
                intent = await self.planner.route(search_query)
            collections = await self._intent_collections(principal, collections, intent)
        cache_key = None
        if (
            self.answer_cache is not None
            and not history
            and not self._may_call_tools(principal, intent)
        ):
            targets = await self.retriever.targets(principal, collections)
            cache_key = self.answer_cache.key(question, targets, metadata_filter)
            if (cached := await self.answer_cache.get(cache_key)) is not None:
                record.retrieved([s for s in cached.sources if isinstance(s, RetrievedChunk)])
                for event in replay(cached, current_ids()[0]):
                    yield event
                return
        result, outcome = await self._gather(
            question, search_query, principal, collections, metadata_filter, intent, language,
            record,
        )  # fmt: skip
        record.timings_ms.update(result.timings)
        record.retrieved(result.chunks)
        record.tool_calls = [r.model_dump(mode="json") for r in outcome.records]
        for tool_event in outcome.events:
            yield tool_event
        info = self._relevance(result, search_query)
        found = result.chunks if info.has_relevant_context else []
        sources = self._fit(question, [*outcome.evidence(), *found], language)  # tools first
        support = await self._support(question, sources, info)
        if not info.has_relevant_context:  # the passages passed relevance but hold no answer
            sources = [s for s in sources if isinstance(s, ToolResult)]
        yield SourcesEvent(sources=sources)
        answer = Answer(
            answer_id=str(uuid.uuid4()),
            question=question,
            text="",
            language=language,
            outcome="answered" if sources else "no_context",
            call_log=outcome.records,
            model=self.llm.model if self.llm else self.extractive.model,
            extractive=self.llm is None,
            retrieval=info,
            trace_id=current_ids()[0],
        )
        if not sources:
            answer.text = prompts.NO_CONTEXT[language]
            yield DeltaEvent(text=answer.text)
            yield DoneEvent(answer=answer)
            return
        citation_filter = CitationFilter(len(sources))
        parts: list[str] = []
        if notice := unchecked_notice(outcome, language):
            parts.append(notice)
            yield DeltaEvent(text=notice)
        generated = self._generate(
            question, sources, language, history, answer, record, outcome, support
        )
        started = perf_counter()
        async with aclosing(generated):
            async for piece in generated:
                settled = citation_filter.feed(piece)
                if settled:
                    parts.append(settled)
                    yield DeltaEvent(text=settled)
        record.timings_ms["generate"] = (perf_counter() - started) * 1000
        tail = citation_filter.finish()
        if tail:
            parts.append(tail)
            yield DeltaEvent(text=tail)
        answer.text = "".join(parts)
        answer.citations = build_citations(citation_filter.used, sources)
        if cache_key is not None and self.answer_cache is not None:
            await self.answer_cache.put(cache_key, answer, sources)
        yield DoneEvent(answer=answer)

    async def _intent_collections(
        self, principal: Principal, collections: Sequence[str] | None, intent: Intent | None
    ) -> Sequence[str] | None:
        """The collections to search: those asked for, else the intent's that the caller may
        read (else every readable one)."""
        if collections is not None or intent is None or not intent.collections:
            return collections
        readable = await self.retriever.catalog.visible(principal, list(intent.collections))
        return [c.name for c in readable] or None

    def _may_call_tools(self, principal: Principal, intent: Intent | None) -> bool:
        """Whether tools may take part in this answer (its data is then live: never cached)."""
        if self.planner is None or not self.planner.registry.available(principal):
            return False
        return self.planner.llm is not None or (intent is not None and bool(intent.tools))

    async def _gather(
        self,
        question: str,
        search_query: str,
        principal: Principal,
        collections: Sequence[str] | None,
        metadata_filter: dict[str, Any] | None,
        intent: Intent | None,
        language: Language,
        record: RagRecord,
    ) -> tuple[RetrievalResult, ToolOutcome]:
        """Retrieval and the tool calls, side by side."""
        outcome = ToolOutcome()
        if self.planner is None:
            result = await self.retriever.arun(
                search_query,
                principal=principal,
                collections=collections,
                metadata_filter=metadata_filter,
            )
            return result, outcome
        planner = self.planner
        results: list[RetrievalResult] = []

        async def retrieve() -> None:
            results.append(
                await self.retriever.arun(
                    search_query,
                    principal=principal,
                    collections=collections,
                    metadata_filter=metadata_filter,
                )
            )

        async def call_tools() -> None:
            nonlocal outcome
            with stage("tools", record.timings_ms, span="tools"):
                try:
                    outcome = await planner.run(
                        question, principal, intent=intent, language=language
                    )
                except KotaemonError as exc:  # the model failed to plan: answer without tools
                    log.warning("tool planning failed: %s", exc)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(retrieve)
                tg.start_soon(call_tools)
        except* KotaemonError as group:
            raise group.exceptions[0] from None
        return results[0], outcome

    def _relevance(self, result: RetrievalResult, query: str) -> RetrievalInfo:
        # The threshold is the one of the best passage's pair: its score is the one compared.
        best = max(result.chunks, key=lambda c: c.dense_score or 0.0, default=None)
        found = None if best is None else best.language or detect_language(best.text)
        pair = language_pair(query, found)
        threshold = self.relevance_threshold(pair)
        top = result.top_dense_score
        relevant = bool(result.chunks) and (threshold is None or top is None or top >= threshold)
        return RetrievalInfo(
            query=query,
            top_dense_score=top,
            threshold=threshold,
            has_relevant_context=relevant,
            language_pair=pair,
        )

    async def _support(self, question: str, sources: list[Source], info: RetrievalInfo) -> Evidence:
        """Scores the sentences of the chunk sources once (the extractive answer quotes them,
        batch testing reads the best score) and withdraws relevance when even the best is
        clearly no answer."""
        if not any(isinstance(s, RetrievedChunk) for s in sources):
            return Evidence()
        support = await self.scorer.score(question, sources)
        info.evidence_score = support.best
        if self.min_evidence is not None and support.weaker_than(self.min_evidence):
            info.has_relevant_context = False
        return support

    async def _generate(
        self,
        question: str,
        sources: list[Source],
        language: Language,
        history: Sequence[ChatMessage],
        answer: Answer,
        record: RagRecord,
        outcome: ToolOutcome,
        support: Evidence,
    ) -> AsyncGenerator[str, None]:
        if self.llm is None:
            preface = self.planner.compose(outcome, 1, language) if self.planner else []
            yield await self.extractive.answer(
                question, sources, language, preface=preface, evidence=support
            )
            return
        messages = self._messages(question, sources, language, history)
        record.prompt = [{"role": m.role, "content": m.content} for m in messages]
        stream = self.llm.astream(messages, max_tokens=self.max_output_tokens)
        async with aclosing(stream):  # type: ignore[type-var]
            async for chunk in stream:
                if chunk.text:
                    yield chunk.text
                if chunk.usage:
                    answer.usage = Usage(
                        prompt_tokens=chunk.usage.prompt_tokens,
                        completion_tokens=chunk.usage.completion_tokens,
                    )

    def _budget(self, question: str, language: Language) -> int:
        """Prompt tokens left for sources and history once the fixed parts are counted."""
        if self.llm is None:
            return 10**9
        return (
            self.llm.context_window
            - self.max_output_tokens
            - estimate_tokens(self.system[language].template)
            - estimate_tokens(question)
            - 64  # template text and message framing
        )

    def _source_block(self, marker: int, source: Source, language: Language) -> str:
        if isinstance(source, ToolResult):
            title = prompts.TOOL_TITLE[language].format(tool=source.tool)
            return prompts.SOURCE.format(marker=marker, title=title, page="", text=source.text)
        page = prompts.PAGE[language].format(page=source.page) if source.page else ""
        return prompts.SOURCE.format(
            marker=marker, title=source.document_title, page=page, text=source.text
        )

    def _fit(self, question: str, sources: list[Source], language: Language) -> list[Source]:
        """The best sources that fit the model's window, in rank order.

        The first is always kept, cut to the budget if it alone is too long.
        """
        budget = self._budget(question, language)
        kept: list[Source] = []
        for source in sources:
            cost = estimate_tokens(self._source_block(len(kept) + 1, source, language))
            if cost > budget:
                if not kept:
                    share = max(budget, 64) / cost
                    cut = source.text[: int(len(source.text) * share)]
                    kept.append(source.model_copy(update={"text": cut}))
                break
            budget -= cost
            kept.append(source)
        return kept

    def _messages(
        self,
        question: str,
        sources: list[Source],
        language: Language,
        history: Sequence[ChatMessage],
    ) -> list[ChatMessage]:
        """System prompt, as much recent history as fits, then the sources and the question."""
        blocks = [self._source_block(n, c, language) for n, c in enumerate(sources, start=1)]
        budget = self._budget(question, language) - sum(estimate_tokens(b) for b in blocks)
        kept_history: list[ChatMessage] = []
        for message in reversed(history):
            budget -= estimate_tokens(message.content)
            if budget < 0:
                break
            kept_history.insert(0, message)
        user = prompts.USER[language].format(sources="\n\n".join(blocks), question=question)
        return [
            ChatMessage(role="system", content=self.system[language].format()),
            *kept_history,
            ChatMessage(role="user", content=user),
        ]
