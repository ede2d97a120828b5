"""Answers from real documents: Debian's manuals (HTML, text, PDF; English and Chinese).

Ingests the corpus of ``realdocs/corpus.json`` into a fresh collection, then asks every question
of ``realdocs/questions.jsonl`` through the service's pipeline (``engine.rag``), in three modes:

* ``extractive`` (no LLM): right when an expected source is cited and the expected facts are in
  the answer; an unanswerable question is right when refused (``no_context``);
* ``llm``: the fake OpenAI-compatible server of the tests answers; right when the prompt it
  received carries an expected source among its numbered sources (retrieval for generation);
* ``agent``: the general questions again, extractive, with the demo agent (examples/agent.yaml
  and its CRM) loaded: none of them should call a tool or warn that one failed.

Prints a table per mode; the report (figures, every answer, the corpus manifest with package
versions) goes to benchmarks/results/real_documents.json. Embeddings are cached by content hash,
so a rerun only re-embeds changed chunks.

    python benchmarks/real_documents.py --install-packages     # make bench-documents
    python benchmarks/real_documents.py --skip-ingest --only zh- x-zh-en --modes extractive
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console

from kotaemon.core.errors import NotFoundError
from kotaemon.core.principal import Principal
from kotaemon.core.schema import Answer, DoneEvent, ErrorEvent, RetrievedChunk, SourcesEvent
from kotaemon.engine import Engine, database_url
from kotaemon.observability.logging import setup_logging
from kotaemon.settings import Settings
from realdocs.corpus import (
    install,
    installed_versions,
    load_corpus,
    manifest,
    materialize,
    packages,
)
from realdocs.questions import QUESTIONS, Question, load_questions
from realdocs.report import furniture, print_tables
from realdocs.scoring import (
    Observation,
    Score,
    chunk_kind,
    doc_type,
    fact_present,
    score_agent,
    score_extractive,
    score_llm,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "real_documents.json"
DATA_DIR = Path(__file__).parent / ".cache" / "real_documents"
COLLECTION = "real-documents"
CRM_TOKEN = "demo-crm-token"
SCORE_FIELDS = ("correct", "refused", "source_ok", "fact_ok", "top_source_ok", "tool_free")
SCORERS = {"extractive": score_extractive, "llm": score_llm, "agent": score_agent}
log = logging.getLogger("benchmarks.real_documents")
console = Console(stderr=True)


def settings(data_dir: Path, url: str | None, **overrides: Any) -> Settings:
    """The defaults, except what the benchmark controls (no LLM, no agent unless given)."""
    fixed = {"data_dir": data_dir, "database_url": url, "llm_base_url": None, "agent_config": None}
    return Settings(_env_file=None, **{**fixed, **overrides})  # type: ignore[call-arg]


async def prepare_collection(engine: Engine, copies: Sequence[Path], *, fresh: bool) -> dict:
    """Ingest every document into a new collection (unless reusing it); chunks per file."""
    store = engine.store
    assert store is not None
    if fresh:
        with suppress(NotFoundError):
            await store.collections.delete(Principal.local(), COLLECTION)
    collection = await engine.ensure_collection(COLLECTION)
    if fresh:
        started = time.perf_counter()
        for path in copies:
            t0 = time.perf_counter()
            result = await engine.ingest.ingest_file(path, collection)
            fields = {"file": path.name, "status": result.status, "chunks": result.chunk_count}
            log.info("ingested", extra={**fields, "seconds": round(time.perf_counter() - t0, 1)})
            if result.status == "failed":
                log.warning("not ingested", extra={"file": path.name, "error": result.error})
        log.info("corpus ingested", extra={"seconds": round(time.perf_counter() - started)})
    documents = await store.documents.in_collections([collection])
    if not documents:
        raise SystemExit(f"collection {COLLECTION!r} is empty: run without --skip-ingest")
    return {Path(d.source).name: d.chunk_count for d in documents}


async def ask(
    engine: Engine, question: Question
) -> tuple[Answer | None, list[RetrievedChunk], str]:
    """The answer (None on an error event), the sources it was given, and the error text."""
    sources: list[RetrievedChunk] = []
    async for event in engine.rag.astream(
        question.question, principal=engine.local_principal, collections=[COLLECTION]
    ):
        if isinstance(event, SourcesEvent):
            sources = event.sources
        elif isinstance(event, DoneEvent):
            return event.answer, sources, ""
        elif isinstance(event, ErrorEvent):
            return None, sources, f"{event.code}: {event.message}"
    return None, sources, "the stream ended without done"


def carried_sources(sources: Sequence[RetrievedChunk], requests: Sequence[dict]) -> list[str]:
    """The sources whose numbered block ("[n] title" and its text) is in the prompt sent."""
    prompt = "\n".join(
        m["content"]
        for r in requests
        for m in (r["json"] or {}).get("messages", [])
        if isinstance(m.get("content"), str)
    )
    return [
        s.source
        for n, s in enumerate(sources, start=1)
        if f"[{n}] {s.document_title}" in prompt and s.text[:60] in prompt
    ]


def row(
    question: Question, seen: Observation, score: Score, corpus, sources, quoted, seconds
) -> dict:
    return {
        "id": question.id,
        "question": question.question,
        "pair": question.pair,
        "doc_type": doc_type(question, corpus),
        "answerable": question.answerable,
        "tags": list(question.tags),
        "expected_sources": list(question.expected_sources),
        "outcome": seen.outcome,
        "text": seen.text,
        "cited": [Path(s).name for s in seen.cited],
        "cited_kinds": quoted,
        "prompt_sources": None
        if seen.prompt_sources is None
        else [Path(s).name for s in seen.prompt_sources],
        "retrieved": [
            {
                "file": Path(c.source).name,
                "page": c.page,
                "heading": c.heading,
                "dense": c.dense_score,
                "kind": chunk_kind(c.text, c.heading),
                "has_facts": question.answerable
                and all(fact_present(f, c.text) for f in question.expected_facts),
                "text": c.text[:160],
            }
            for c in sources
        ],
        "top_dense_score": seen.top_dense_score,
        "threshold": seen.threshold,
        "evidence_score": seen.evidence_score,
        "tool_calls": list(seen.tool_calls),
        "tool_warning": seen.tool_warning,
        **{k: getattr(score, k) for k in SCORE_FIELDS},
        "seconds": round(seconds, 2),
    }


async def run_mode(engine: Engine, mode: str, questions, corpus, fake=None) -> list[dict]:
    rows = []
    for question in questions:
        before = len(fake.chat_requests) if fake else 0
        started = time.perf_counter()
        answer, sources, error = await ask(engine, question)
        seconds = time.perf_counter() - started
        carried = carried_sources(sources, fake.chat_requests[before:]) if fake else None
        if answer is None:
            seen = Observation(outcome="error", text=error, prompt_sources=carried)
        else:
            seen = Observation.from_answer(answer, carried)
        score = SCORERS[mode](question, seen)
        quoted = [
            chunk_kind(sources[c.marker - 1].text, sources[c.marker - 1].heading)
            for c in (answer.citations if answer else [])
            if c.kind == "chunk" and c.marker <= len(sources)
        ]
        if not sources:  # refused: what retrieval found, for the analysis
            found = await engine.retriever.arun(
                question.question, principal=engine.local_principal, collections=[COLLECTION]
            )
            sources = found.chunks
        rows.append(row(question, seen, score, corpus, sources, quoted, seconds))
        if engine.planner is not None and engine.planner.router is not None:
            route = await engine.planner.router.route(question.question)
            rows[-1]["intent"] = route.intent.name if route.intent else None
            rows[-1]["intent_scores"] = {k: round(v, 3) for k, v in route.scores.items()}
        log.info("asked", extra={"mode": mode, "id": question.id, "correct": score.correct})
    return rows


@contextmanager
def crm_server() -> Iterator[int]:
    """The demo CRM (examples/crm/server.py) on a free loopback port, stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "crm" / "server.py"), "--port", str(port)],
        env={**os.environ, "CRM_TOKEN": CRM_TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the demo CRM did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def agent_config(data_dir: Path, port: int) -> Path:
    """examples/agent.yaml with the CRM's URL pointing at ``port``."""
    text = (ROOT / "examples" / "agent.yaml").read_text(encoding="utf-8")
    path = data_dir / "agent.yaml"
    path.write_text(text.replace("127.0.0.1:8100", f"127.0.0.1:{port}"), encoding="utf-8")
    return path


def git_commit() -> str | None:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


async def main(args: argparse.Namespace) -> None:
    setup_logging("WARNING", "json", sys.stderr)
    log.setLevel(logging.INFO)
    corpus = load_corpus()
    questions = load_questions(args.questions, corpus)
    if args.only:
        questions = [q for q in questions if any(q.id.startswith(o) for o in args.only)]
    names = packages(corpus)
    versions = installed_versions(names)
    if missing := [n for n, v in versions.items() if v is None]:
        if not args.install_packages:
            raise SystemExit(f"missing Debian packages {missing}: rerun with --install-packages")
        install(missing)
        versions = installed_versions(names)
    data_dir = args.data_dir.resolve()
    copies = materialize(corpus, data_dir / "corpus")
    url = args.database_url or await database_url(settings(data_dir, None))
    report: dict[str, Any] = {"command": " ".join(sys.argv), "commit": git_commit(), "modes": {}}
    async with Engine(settings(data_dir, url), with_agent=False) as engine:
        chunks = await prepare_collection(engine, copies, fresh=not args.skip_ingest)
        s = engine.settings
        report["settings"] = {
            "embedding_model": engine.embedder.model,
            "relevance_thresholds": dict(engine.embedder.relevance_thresholds),
            "min_relevance": s.min_relevance,
            "top_k": s.top_k,
            "retrieval_mode": s.retrieval_mode,
            "chunk_size": s.chunk_size,
        }
        report["corpus"] = manifest(corpus, versions, copies, chunks)
        if "extractive" in args.modes:
            report["modes"]["extractive"] = await run_mode(engine, "extractive", questions, corpus)
    if "llm" in args.modes:
        sys.path.insert(0, str(ROOT))
        from tests.fakes.openai_server import FakeOpenAIServer

        with FakeOpenAIServer() as fake:
            llm = settings(data_dir, url, llm_base_url=fake.base_url, llm_max_retries=0)
            async with Engine(llm, with_agent=False) as engine:
                report["modes"]["llm"] = await run_mode(engine, "llm", questions, corpus, fake)
    general = [q for q in questions if q.general]
    if "agent" in args.modes and general:
        os.environ.setdefault("CRM_TOKEN", CRM_TOKEN)  # read by the agent config
        with crm_server() as port:
            demo = settings(
                data_dir,
                url,
                agent_config=agent_config(data_dir, port),
                local_attributes={"customer_id": "C-1001"},
            )
            async with Engine(demo) as engine:
                report["modes"]["agent"] = await run_mode(engine, "agent", general, corpus)
    for mode, rows in report["modes"].items():
        subset = [q for q in questions if mode != "agent" or q.general]
        scores = [Score(**{k: r[k] for k in SCORE_FIELDS}) for r in rows]
        report["modes"][mode] = {
            "summary": summarise(subset, scores, corpus),
            "furniture": furniture(rows, mode),
            "rows": rows,
        }
    report["questions"] = len(questions)
    print_tables(report)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"report: {args.results}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--only", nargs="+", metavar="ID", help="question ids or id prefixes")
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["extractive", "llm", "agent"],
        choices=["extractive", "llm", "agent"],
    )
    parser.add_argument("--skip-ingest", action="store_true", help="reuse the ingested collection")
    parser.add_argument(
        "--install-packages", action="store_true", help="apt-get install missing corpus packages"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="embedded PostgreSQL, copies"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL with pgvector instead of the embedded one"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
