"""Runs a question set through the service's own RAG pipeline and stores each result as it
finishes, so a run killed halfway continues where it stopped.

Each question is answered by :meth:`RAGPipeline.astream` for the run's principal, exactly as
``POST /v1/chat`` answers it (retrieval settings, intent router, tools, the LLM or the
extractive answerer). The ranking behind hit@k and nDCG is read from the same retriever with
the same query and collections, to depth 10 (the query's embedding is cached by then).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter
from typing import Any

import anyio
from pydantic import BaseModel, Field

from kotaemon.core.errors import KotaemonError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Answer, DoneEvent, ErrorEvent
from kotaemon.eval.judge import AnswerJudge
from kotaemon.eval.questions import EvalQuestion, QuestionSet
from kotaemon.eval.results import RANK_DEPTH, QuestionResult, failed_question, score_answer
from kotaemon.eval.summary import summarize
from kotaemon.llms.base import LLMInterface
from kotaemon.pipelines.rag import RAGPipeline
from kotaemon.store.evals import EvalRunRecord, EvalStore

log = logging.getLogger(__name__)

#: ``on_result(result, done, total)``: called as each question's result is stored.
ResultHook = Callable[[QuestionResult, int, int], Awaitable[None] | None]


class EvalOptions(BaseModel):
    """How a run asks its questions (stored with the run: a resume asks the same way)."""

    concurrency: int = Field(default=4, ge=1, le=32, description="Questions asked at once.")
    judge: bool = Field(default=True, description="Use the LLM judge when an LLM is set.")
    min_evidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Below this answer-level evidence score a question is not covered.",
    )


class EvalRunner:
    """Creates eval runs and runs them through the service's pipeline.

    Example::

        runner = EvalRunner(engine.rag, engine.store.evals, engine.llm)
        run = await runner.create(principal, questions, ["docs"], EvalOptions())
        summary = await runner.execute(run.id)

    :param rag: the engine's pipeline (the one chat answers with).
    :param llm: the configured LLM, for the judge; None: no judge.
    """

    def __init__(self, rag: RAGPipeline, evals: EvalStore, llm: LLMInterface | None) -> None:
        self.rag = rag
        self.retriever = rag.retriever
        self.evals = evals
        self.judge = AnswerJudge(llm) if llm is not None else None

    async def create(
        self,
        principal: Principal,
        questions: QuestionSet,
        collections: Sequence[str],
        options: EvalOptions,
    ) -> EvalRunRecord:
        """Record a run after checking that ``principal`` may read every collection.

        :raises NotFoundError: if a collection is unknown or not readable (as chat says).
        """
        await self.retriever.targets(principal, list(collections))
        return await self.evals.create(
            principal,
            questions.name,
            collections,
            options.model_dump(),
            [q.to_json() for q in questions.questions],
        )

    async def execute(
        self, run_id: str, on_result: ResultHook | None = None, *, resume: bool = False
    ) -> dict[str, Any] | None:
        """Ask the run's questions that have no result yet, then store and return its summary.

        :param resume: continue a run that ended (failed, or finished with another code);
            without it, an ended run is left as it is (a queue's redelivery) and None returned.
        :raises KotaemonError: if the store fails; the run can be resumed later.
        """
        evals = self.evals
        run = await evals.record(run_id)
        if not await evals.start(run_id):
            if not resume:
                log.info("eval run already ended; nothing to do", extra={"run_id": run_id})
                return None
            await evals.reopen(run_id)
            await evals.start(run_id)
        done = await evals.done_positions(run_id)
        questions = [EvalQuestion.from_json(q) for q in run.questions]
        pending = [(i, q) for i, q in enumerate(questions) if i not in done]
        log.info(
            "eval run started",
            extra={"run_id": run_id, "total": run.total, "done": len(done)},
        )
        options = EvalOptions.model_validate(run.options)
        limiter = anyio.CapacityLimiter(options.concurrency)
        counter = [len(done)]

        async def one(position: int, question: EvalQuestion) -> None:
            async with limiter:
                result = await self.ask(run, position, question, options)
            if await evals.add_result(run_id, position, question.id, result.model_dump()):
                counter[0] += 1
            if on_result is not None:
                maybe = on_result(result, counter[0], run.total)
                if maybe is not None:
                    await maybe

        async with anyio.create_task_group() as tg:
            for position, question in pending:
                tg.start_soon(one, position, question)
        stored = [QuestionResult.model_validate(r.result) for r in await evals.results(run_id)]
        summary = await summarize(
            stored, self.retriever.embedder, judge=self._judge_prompt(options)
        )
        await evals.finish(run_id, summary)
        return summary

    async def ask(
        self, run: EvalRunRecord, position: int, question: EvalQuestion, options: EvalOptions
    ) -> QuestionResult:
        """One question through the pipeline, scored (a failure is a result, not an error)."""
        started = perf_counter()
        answer: Answer | None = None
        async for event in self.rag.astream(
            question.question, principal=run.principal, collections=run.collections
        ):
            if isinstance(event, DoneEvent):
                answer = event.answer
            elif isinstance(event, ErrorEvent):
                elapsed = (perf_counter() - started) * 1000
                return failed_question(position, question, event.code, event.message, elapsed)
        latency_ms = (perf_counter() - started) * 1000
        assert answer is not None, "the pipeline ends every stream with done or error"
        try:
            ranking = await self.retriever.arun(
                answer.retrieval.query,
                principal=run.principal,
                collections=run.collections,
                top_k=max(RANK_DEPTH, self.retriever.config.top_k),
            )
        except KotaemonError as exc:
            return failed_question(position, question, exc.code, exc.message, latency_ms)
        result = score_answer(
            position,
            question,
            answer,
            ranking.chunks,
            latency_ms,
            min_evidence=options.min_evidence,
        )
        if self.judge is not None and options.judge and question.answers:
            result.judge_correct = await self.judge.judge(
                question.question, question.answers, answer.text
            )
        return result

    def _judge_prompt(self, options: EvalOptions) -> str | None:
        return self.judge.prompt if self.judge is not None and options.judge else None
