"""The ``kotaemon`` command: ingest documents, ask questions, search, list collections, run
batch tests (``kotaemon eval``).

The answer goes to stdout; logs and progress go to stderr, so ``kotaemon ask … > answer.txt``
captures only the answer. The command acts as the local user (a one-machine install): its
engine is built with ``local_user=True``, the only place besides scripts where that holds.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from kotaemon.core.errors import KotaemonError
from kotaemon.core.schema import DeltaEvent, DoneEvent, ErrorEvent, SourcesEvent, ToolEndEvent
from kotaemon.engine import DEFAULT_COLLECTION, Engine
from kotaemon.ingest.pipeline import FileResult, discover
from kotaemon.observability.logging import setup_logging
from kotaemon.retrieval.config import Mode
from kotaemon.settings import Settings

if TYPE_CHECKING:
    from kotaemon.eval.compare import Comparison

app = typer.Typer(
    help="kotaemon: cited answers from your knowledge base.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")

CollectionOption = Annotated[
    str, typer.Option("--collection", "-c", help="Collection name.", show_default=True)
]


def _settings(*, service: bool = False, **overrides: object) -> Settings:
    """The settings from the environment and the command's flags (``overrides``; None: not
    given), validated together, with logging set up: JSON to stdout for the service, text to
    stderr otherwise (stdout carries the answer)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            (f"KOTAEMON_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        err.print(f"[red]error:[/] invalid configuration: {escape(problems)}")
        raise typer.Exit(2) from None
    log_format = settings.log_format or ("json" if service else "text")
    setup_logging(settings.log_level, log_format, sys.stdout if service else sys.stderr)
    return settings


def _run(
    job: Callable[[Engine], Awaitable[T]],
    settings: Settings | None = None,
    *,
    with_agent: bool = True,
) -> T:
    """Open the engine, run ``job``, close; a kotaemon error becomes a one-line message."""
    settings = settings or _settings()

    async def main() -> T:
        async with Engine(settings, with_agent=with_agent) as engine:
            return await job(engine)

    try:
        return anyio.run(main)
    except KotaemonError as exc:
        err.print(f"[red]error:[/] {escape(exc.message)} [dim]({exc.code})[/]")
        raise typer.Exit(1) from None


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file or a folder (searched recursively).")],
    collection: CollectionOption = DEFAULT_COLLECTION,
    force: Annotated[bool, typer.Option(help="Re-ingest files that have not changed.")] = False,
) -> None:
    """Add documents (.txt .md .html .pdf .docx) to a collection."""
    if not path.exists():
        err.print(f"[red]error:[/] {escape(str(path))}: no such file or folder")
        raise typer.Exit(2)

    async def job(engine: Engine) -> list[FileResult]:
        target = await engine.ensure_collection(collection)
        files = discover(path)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
        ) as progress:
            task = progress.add_task("ingesting", total=len(files))

            def advance(result: FileResult) -> None:
                progress.update(task, advance=1, description=Path(result.source).name)

            return await engine.ingest.arun(path, target, force=force, on_file=advance)

    results = _run(job)
    for r in results:
        name = escape(r.source)
        if r.status == "failed":
            err.print(f"[red]failed[/]    {name}: {escape(r.error or '')} [dim]({r.error_code})[/]")
        else:
            err.print(
                f"{r.status:<10}{name} ({r.chunk_count} chunks)"
                if r.chunk_count
                else f"{r.status:<10}{name}"
            )
    counts = {
        s: sum(r.status == s for r in results) for s in ("added", "replaced", "unchanged", "failed")
    }
    err.print(
        ", ".join(f"{n} {s}" for s, n in counts.items())
        + f" — collection {escape(repr(collection))}"
    )
    if counts["failed"]:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    collection: Annotated[
        list[str] | None,
        typer.Option(
            "--collection", "-c", help="Collections to search (repeatable); default: all."
        ),
    ] = None,
) -> None:
    """Answer a question from the knowledge base, streaming, then list the sources."""
    if not question.strip():
        err.print("[red]error:[/] the question is empty")
        raise typer.Exit(2)

    async def job(engine: Engine) -> None:
        async for event in engine.rag.astream(question, collections=collection):
            if isinstance(event, DeltaEvent):
                out.out(event.text, end="")
            elif isinstance(event, DoneEvent):
                out.out("")
                if event.answer.citations:
                    out.print("\nSources:")
                for c in sorted(event.answer.citations, key=lambda c: c.marker):
                    if c.kind == "tool":
                        out.print(f"  [{c.marker}] {c.tool} (tool)", markup=False)
                        continue
                    page = f", page {c.page}" if c.page else ""
                    out.print(f"  [{c.marker}] {c.document}{page} — {c.source}", markup=False)
            elif isinstance(event, ErrorEvent):
                raise event.error()
            elif isinstance(event, ToolEndEvent):
                r = event.record
                err.print(f"tool {escape(r.tool)}: {r.status} ({r.duration_ms:.0f} ms)")
            elif isinstance(event, SourcesEvent) and not event.sources:
                logging.getLogger(__name__).info("no relevant sources found")

    _run(job)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    collection: Annotated[
        list[str] | None,
        typer.Option(
            "--collection", "-c", help="Collections to search (repeatable); default: all."
        ),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", "-k", help="1 to 100. Default: KOTAEMON_TOP_K (6).")
    ] = None,
    mode: Annotated[
        Mode | None, typer.Option(help="Default: KOTAEMON_RETRIEVAL_MODE (hybrid).")
    ] = None,
) -> None:
    """Show the chunks retrieval finds for a query, with their scores."""

    async def job(engine: Engine) -> None:
        result = await engine.retriever.arun(query, collections=collection, top_k=top_k, mode=mode)
        if not result.chunks:
            err.print("nothing found")
        table = Table("#", "score", "document", "page", "text", show_lines=True)
        for i, chunk in enumerate(result.chunks, start=1):
            text = chunk.text if len(chunk.text) <= 300 else chunk.text[:299] + "…"
            table.add_row(
                str(i),
                f"{chunk.score:.4f}",
                Text(chunk.document_title),
                str(chunk.page or ""),
                Text(text),
            )
        out.print(table)

    _run(job)


@app.command()
def collections() -> None:
    """List the collections you can read."""

    async def job(engine: Engine) -> None:
        table = Table("name", "documents", "chunks", "languages", "embedding model", "owner")
        for c in await engine.store.catalog.visible(engine.local_principal):
            table.add_row(
                c.name,
                str(c.document_count),
                str(c.chunk_count),
                " ".join(c.languages),
                c.embedding_model,
                Text(c.owner_id),
            )
        out.print(table)

    _run(job)


@app.command()
def documents(
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", "-c", help="Collections to list (repeatable); default: all."),
    ] = None,
) -> None:
    """List the documents of the collections you can read."""

    async def job(engine: Engine) -> None:
        targets = await engine.store.catalog.visible(engine.local_principal, collection)
        table = Table("collection", "title", "type", "chunks", "source")
        for d in await engine.store.documents.in_collections(targets):
            table.add_row(
                d.collection, Text(d.title), d.media_type, str(d.chunk_count), Text(d.source)
            )
        out.print(table)

    _run(job)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. Default: KOTAEMON_HOST (127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on. Default: KOTAEMON_PORT (8000)."),
    ] = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run ingestion jobs in this process (one machine; in production run "
            "`kotaemon worker` apart).",
        ),
    ] = False,
) -> None:
    """Run the HTTP service (chat, search, collections, health probes); logs go to stdout."""
    from kotaemon.server.runner import serve as run_server  # FastAPI loads only for this command

    run_server(_settings(service=True, host=host, port=port), with_worker=worker)


@app.command("worker")
def worker_command() -> None:
    """Run queued jobs (uploads, re-indexing, eval runs) until SIGTERM; logs go to stdout.

    /healthz, /readyz and /metrics are served on KOTAEMON_WORKER_PORT (8001; 0: off)."""

    from kotaemon.server.worker_app import work_with_probes  # the HTTP stack loads here only

    settings = _settings(service=True)

    async def job(engine: Engine) -> None:
        await work_with_probes(settings, engine)

    _run(job, settings)  # with the agent: eval runs answer with its tools, as chat does


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (under a lock: safe while replicas start)."""
    from kotaemon.engine import database_url
    from kotaemon.store import migrate as migrations

    settings = _settings()

    async def main() -> str | None:
        url = await database_url(settings)
        await anyio.to_thread.run_sync(migrations.upgrade, url)
        return await anyio.to_thread.run_sync(migrations.current_revision, url)

    try:
        revision = anyio.run(main)
    except KotaemonError as exc:
        err.print(f"[red]error:[/] {escape(exc.message)} [dim]({exc.code})[/]")
        raise typer.Exit(1) from None
    err.print(f"database schema at revision {revision}")


eval_app = typer.Typer(
    help="Batch testing: which questions the knowledge base answers, and CI gates.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("run")
def eval_run(
    questions: Annotated[
        Path | None,
        typer.Argument(
            help="Questions: .jsonl, .csv, a SQuAD .json (its contexts are ingested first) or a "
            "BEIR folder (its corpus is ingested first). Omit with --resume."
        ),
    ] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", "-c", help="Collections to search (repeatable)."),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report.")] = None,
    html_path: Annotated[Path | None, typer.Option("--html", help="Write the HTML report.")] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Compare with a previous run: its id or its --json file.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option(help="Continue a run that stopped (its id); asks only the rest.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Questions at once.")] = 4,
    limit: Annotated[int | None, typer.Option(min=1, help="Ask only the first N.")] = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split.")] = "test",
    corpus_limit: Annotated[
        int | None,
        typer.Option(min=1, help="BEIR: ingest the expected documents plus others up to N."),
    ] = None,
    min_evidence: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="Not covered below this answer-evidence score."),
    ] = None,
    judge: Annotated[bool, typer.Option(help="LLM judge (only with an LLM configured).")] = True,
    min_coverage: Annotated[float | None, typer.Option(min=0, max=1, help="Gate.")] = None,
    min_hit_at_5: Annotated[float | None, typer.Option(min=0, max=1, help="Gate.")] = None,
    min_f1: Annotated[float | None, typer.Option(min=0, max=1, help="Gate.")] = None,
    max_regressions: Annotated[
        int | None, typer.Option(min=0, help="Gate (needs --baseline).")
    ] = None,
) -> None:
    """Ask a question set through the service's pipeline; report coverage and quality.

    Exit status: 0 all gates passed, 3 a gate failed, 1 an error, 2 a usage error."""
    from kotaemon.eval.gates import GATE_FAILED, Gates
    from kotaemon.eval.questions import load_questions
    from kotaemon.eval.runner import EvalOptions
    from kotaemon.eval.session import finish_run, start_run, write_outputs

    if (questions is None) == (resume is None):
        err.print("[red]error:[/] pass a question file, or --resume RUN_ID (not both)")
        raise typer.Exit(2)
    if questions is not None and not collection:
        err.print("[red]error:[/] pass --collection (-c) with the collection to test")
        raise typer.Exit(2)
    gates = Gates(
        min_coverage=min_coverage,
        min_hit_at_5=min_hit_at_5,
        min_f1=min_f1,
        max_regressions=max_regressions,
    )
    options = EvalOptions(concurrency=concurrency, judge=judge, min_evidence=min_evidence)
    found = None
    if questions is not None:
        try:
            found = load_questions(questions, split=split, limit=limit, corpus_limit=corpus_limit)
        except KotaemonError as exc:
            err.print(f"[red]error:[/] {escape(exc.message)} [dim]({exc.code})[/]")
            raise typer.Exit(2) from None

    async def job(engine: Engine) -> dict[str, object]:
        principal = engine.local_principal
        run_id = resume
        if found is not None:
            if found.documents:
                err.print(
                    f"{len(found.documents)} documents of {escape(found.name)}: ingesting new"
                )
            run_id = await start_run(engine, principal, found, list(collection or []), options)
        assert run_id is not None
        err.print(f"eval run {run_id}")
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
        ) as progress:
            record = await engine.store.evals.get(principal, run_id)
            task = progress.add_task("asking", total=record.total, completed=record.done)

            def advance(_: object, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            outcome = await finish_run(
                engine, principal, run_id, baseline=baseline, on_result=advance
            )
        write_outputs(outcome.report, json_path, html_path)
        return outcome.report

    report = _run(job)
    summary: dict[str, Any] = report["summary"]  # type: ignore[assignment]
    _print_summary(summary)
    failures = gates.failures(summary["overall"], _comparison_of(report))
    for failure in failures:
        err.print(f"[red]gate failed:[/] {escape(failure)}")
    if failures:
        raise typer.Exit(GATE_FAILED)


def _comparison_of(report: dict[str, object]) -> Comparison | None:
    from kotaemon.eval.compare import Comparison

    data = report.get("comparison")
    return Comparison.model_validate(data) if data else None


def _print_summary(summary: dict[str, Any]) -> None:
    """The headline figures, overall and by tag, on stderr (stdout stays free)."""
    table = Table(box=None, pad_edge=False)
    table.add_column("tag", no_wrap=True)
    for header in ("n", "cover", "hit@1", "hit@5", "hit@10", "MRR", "nDCG", "EM", "F1"):
        table.add_column(header, justify="right", no_wrap=True)
    rows = [("all", summary["overall"]), *summary["by_tag"].items()]
    for tag, agg in rows:
        cells = [agg[k] for k in ("coverage", "hit_at_1", "hit_at_5", "hit_at_10", "mrr")]
        cells += [agg[k] for k in ("ndcg_at_10", "exact_match", "f1")]
        table.add_row(
            Text(tag), str(agg["questions"]), *("–" if c is None else f"{c:.3f}" for c in cells)
        )
    err.print(table)
    kinds = summary["uncovered"]
    err.print(
        f"not covered: {kinds['missing_topic']} missing topic, {kinds['missing_answer']} "
        f"missing answer, {kinds['error']} errors"
    )
    if separation := summary.get("answerable_separation"):
        dense, evidence = separation["top_dense_score_auc"], separation["evidence_score_auc"]
        err.print(
            f"answerable vs unanswerable AUC: best cosine {dense:.3f}, evidence "
            + (f"{evidence:.3f}" if evidence is not None else "not measured")
        )


@eval_app.command("list")
def eval_list() -> None:
    """List your eval runs, newest first."""

    async def job(engine: Engine) -> None:
        table = Table("id", "name", "collections", "state", "done", "created")
        for run in await engine.store.evals.runs(engine.local_principal):
            table.add_row(
                run.id,
                Text(run.name),
                Text(", ".join(run.collections)),
                run.state,
                f"{run.done}/{run.total}",
                f"{run.created_at:%Y-%m-%d %H:%M}",
            )
        out.print(table)

    _run(job)
