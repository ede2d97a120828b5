"""One batch test from start to report, as ``kotaemon eval run`` does it: read the questions,
seed the collection, create (or resume) the run, execute it, compare, write the outputs.

The CLI keeps only the flags and the progress bar; the API's worker uses the runner directly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kotaemon.core.errors import InvalidInputError
from kotaemon.core.principal import Principal
from kotaemon.engine import Engine
from kotaemon.eval.compare import Comparison, compare
from kotaemon.eval.questions import QuestionSet
from kotaemon.eval.report import build_report, read_report, render_html
from kotaemon.eval.results import QuestionResult
from kotaemon.eval.runner import EvalOptions, EvalRunner, ResultHook
from kotaemon.store.database import is_uuid

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What a finished run produced."""

    run_id: str
    report: dict[str, Any]
    comparison: Comparison | None


async def stored_results(engine: Engine, principal: Principal, run_id: str) -> list[QuestionResult]:
    """A stored run's results (the principal's own run).

    :raises NotFoundError: if the principal has no such run.
    """
    await engine.store.evals.get(principal, run_id)
    return [
        QuestionResult.model_validate(r.result) for r in await engine.store.evals.results(run_id)
    ]


async def baseline_results(
    engine: Engine, principal: Principal, baseline: str
) -> tuple[list[QuestionResult], str]:
    """A baseline given as a run id or a JSON report file, with its label."""
    if is_uuid(baseline) and not Path(baseline).exists():
        return await stored_results(engine, principal, baseline), f"run {baseline}"
    path = Path(baseline)
    if not path.exists():
        raise InvalidInputError(
            f"--baseline {baseline!r} is neither a run id nor a file; pass a run id from "
            "`kotaemon eval list` or a report written with --json",
            code="invalid_baseline",
        )
    return read_report(path), path.name


async def seed(
    engine: Engine, principal: Principal, questions: QuestionSet, collection: str
) -> int:
    """Ingest the documents a BEIR or SQuAD set brings into ``collection``, once: documents
    stored already (by name) are skipped, so a second run embeds nothing.

    :returns: how many documents were added.
    """
    target = await engine.ensure_collection(collection, principal)
    present = {d.source for d in await engine.store.documents.in_collections([target])}
    added = 0
    for document in questions.documents:
        if document.source not in present:
            await engine.ingest.ingest_bytes(document.text.encode("utf-8"), document.source, target)
            added += 1
    return added


def runner(engine: Engine) -> EvalRunner:
    """The engine's eval runner (its pipeline, its store, its LLM for the judge)."""
    return EvalRunner(engine.rag, engine.store.evals, engine.llm)


async def start_run(
    engine: Engine,
    principal: Principal,
    questions: QuestionSet,
    collections: list[str],
    options: EvalOptions,
) -> str:
    """Seed the first collection with the set's documents (BEIR, SQuAD) and record the run."""
    if questions.documents:
        added = await seed(engine, principal, questions, collections[0])
        log.info(
            "seeded the collection",
            extra={
                "collection": collections[0],
                "added": added,
                "documents": len(questions.documents),
            },
        )
    run = await runner(engine).create(principal, questions, collections, options)
    return run.id


async def finish_run(
    engine: Engine,
    principal: Principal,
    run_id: str,
    *,
    baseline: str | None = None,
    on_result: ResultHook | None = None,
) -> Outcome:
    """Execute what is left of the run and build its report (with the comparison)."""
    run = await engine.store.evals.get(principal, run_id)
    summary = await runner(engine).execute(run.id, on_result, resume=True)
    assert summary is not None  # a resumed run always ends with a summary
    results = await stored_results(engine, principal, run.id)
    comparison = None
    if baseline is not None:
        before, label = await baseline_results(engine, principal, baseline)
        comparison = compare(results, before, label=label)
    run = await engine.store.evals.get(principal, run_id)
    return Outcome(run.id, build_report(run, summary, results, comparison), comparison)


def write_outputs(report: dict[str, Any], json_path: Path | None, html_path: Path | None) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(report), encoding="utf-8")
