"""``/v1/evals``: batch tests run by a worker, with the caller's permissions (as chat).

``POST`` records the run and queues it; ``GET /v1/evals/{id}`` shows its progress,
``/results`` its per-question results, ``/report`` the HTML report once it has finished.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.responses import HTMLResponse, Response

from kotaemon.core.errors import ConflictError
from kotaemon.core.schema import JobError
from kotaemon.eval.questions import EvalQuestion, QuestionFileError, QuestionSet, parse_questions
from kotaemon.eval.report import build_report, render_html
from kotaemon.eval.results import QuestionResult
from kotaemon.eval.runner import EvalOptions, EvalRunner
from kotaemon.server.deps import EngineDep, EvalPrincipal
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import EvalCreate, EvalResultsResponse, EvalRunList, EvalRunPublic
from kotaemon.store.evals import EvalRunRecord

router = APIRouter(tags=["evals"])


@router.post(
    "/evals",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a batch test (run by a worker)",
    responses=error_responses(400, 403, 404, 409, 422, *COMMON_ERRORS),
)
async def start_eval(
    body: EvalCreate, engine: EngineDep, principal: EvalPrincipal
) -> EvalRunPublic:
    questions = _question_set(body)
    runner = EvalRunner(engine.rag, engine.store.evals, engine.llm)
    options = EvalOptions(
        concurrency=body.concurrency, judge=body.judge, min_evidence=body.min_evidence
    )
    run = await runner.create(principal, questions, body.collections, options)
    await engine.queue.enqueue_eval(run.id)
    return _public(run)


@router.get(
    "/evals",
    summary="Your batch tests, newest first",
    responses=error_responses(*COMMON_ERRORS),
)
async def list_evals(engine: EngineDep, principal: EvalPrincipal) -> EvalRunList:
    return EvalRunList(runs=[_public(r) for r in await engine.store.evals.runs(principal)])


@router.get(
    "/evals/{run_id}",
    summary="A batch test's progress (and its summary once finished)",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def get_eval(run_id: str, engine: EngineDep, principal: EvalPrincipal) -> EvalRunPublic:
    return _public(await engine.store.evals.get(principal, run_id), with_summary=True)


@router.get(
    "/evals/{run_id}/results",
    summary="A batch test's per-question results so far",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def eval_results(
    run_id: str, engine: EngineDep, principal: EvalPrincipal
) -> EvalResultsResponse:
    run = await engine.store.evals.get(principal, run_id)
    results = [r.result for r in await engine.store.evals.results(run.id)]
    return EvalResultsResponse(run=_public(run, with_summary=True), results=results)


@router.get(
    "/evals/{run_id}/report",
    response_class=Response,
    summary="A finished batch test's report, as one self-contained HTML page",
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **error_responses(404, 409, 422, *COMMON_ERRORS),
    },
)
async def eval_report(run_id: str, engine: EngineDep, principal: EvalPrincipal) -> Response:
    run = await engine.store.evals.get(principal, run_id)
    if run.summary is None:
        raise ConflictError(
            f"eval run {run_id} has not finished ({run.state}, {run.done}/{run.total}); "
            f"follow it with GET /v1/evals/{run_id}",
            code="eval_run_unfinished",
        )
    results = [
        QuestionResult.model_validate(r.result) for r in await engine.store.evals.results(run.id)
    ]
    return HTMLResponse(render_html(build_report(run, run.summary, results)))


def _question_set(body: EvalCreate) -> QuestionSet:
    """The questions of the request, from ``questions`` or from ``file``.

    :raises QuestionFileError: if both or neither are given, or the file is malformed.
    """
    if (body.questions is None) == (body.file is None):
        raise QuestionFileError("send either `questions` (a list) or `file` (its text), not both")
    if body.file is not None:
        return parse_questions(body.file, body.format, body.name)
    assert body.questions is not None
    questions = [
        EvalQuestion(
            id=q.id or str(i),
            question=q.question,
            answers=tuple(q.answers),
            sources=tuple(q.sources),
            tags=tuple(q.tags),
            answerable=q.answerable,
        )
        for i, q in enumerate(body.questions, start=1)
    ]
    if len({q.id for q in questions}) != len(questions):
        raise QuestionFileError("question ids must differ; leave `id` out to number them")
    return QuestionSet(body.name, "jsonl", questions)


def _public(run: EvalRunRecord, *, with_summary: bool = False) -> EvalRunPublic:
    error = (
        JobError(code=run.error_code, message=run.error_message or "") if run.error_code else None
    )
    return EvalRunPublic(
        id=run.id,
        name=run.name,
        collections=run.collections,
        state=run.state,
        total=run.total,
        done=run.done,
        error=error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        summary=run.summary if with_summary else None,
    )
