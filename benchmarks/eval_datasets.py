"""Batch testing on real data, through ``kotaemon eval`` (the product command, not a shortcut).

* SQuAD 2.0 dev subset (en) and CMRC2018 trial (zh): the contexts are ingested by
  ``kotaemon eval run <squad.json>`` into a full collection; the answerable questions sampled are
  asked there (covered) and, in ``--folds`` folds, against a collection holding every article
  but the question's own fold (removed: the knowledge base lacks the topic). Reported: coverage,
  hit@k, EM/F1, and the ROC AUC of the best cosine between covered and removed; on SQuAD 2.0
  also answerable vs unanswerable (best cosine, and the answer-level evidence score when the
  pipeline sets it).
* SciFact (BEIR, test split): nDCG@10 and hit@k on the test queries, with ``--corpus-limit``
  abstracts ingested (the 5,183 of the full corpus take over an hour to embed on 2 cores).

Nothing is calibrated here: the relevance thresholds are the embedder's (calibrated on SQuAD 2.0
dev and CMRC2018 dev). Results: ``benchmarks/results/eval_<set>*.json`` (each a full
``kotaemon eval`` report) and ``benchmarks/results/eval_datasets.json`` (the figures).

    python benchmarks/eval_datasets.py [--questions 300] [--folds 4] [--corpus-limit 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kotaemon.eval.metrics import roc_auc

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
CACHE = Path(__file__).parent / ".cache" / "eval"
RESULTS = Path(__file__).parent / "results"
KOTAEMON = [str(Path(sys.executable).with_name("kotaemon"))]


def kotaemon(*args: str) -> None:
    """Run one ``kotaemon`` command on the benchmark's own embedded database."""
    env = os.environ | {"KOTAEMON_DATA_DIR": str(CACHE / "db"), "KOTAEMON_LOG_LEVEL": "WARNING"}
    env.pop("KOTAEMON_DATABASE_URL", None)
    env.pop("KOTAEMON_LLM_BASE_URL", None)
    completed = subprocess.run([*KOTAEMON, *args], env=env, check=False)
    if completed.returncode not in (0, 3):  # 3: a gate failed, which a benchmark does not set
        raise SystemExit(f"kotaemon {' '.join(args)} failed ({completed.returncode})")


def sampled_squad(source: Path, name: str, per_kind: int, rng: random.Random) -> Path:
    """A SQuAD file with every context and ``per_kind`` answerable (and as many unanswerable)
    questions sampled: the contexts are the knowledge base, the questions what is asked."""
    data = json.loads(source.read_text(encoding="utf-8"))
    pools: dict[bool, list[str]] = {True: [], False: []}
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False) and bool(qa["answers"])
                pools[answerable].append(qa["id"])
    keep = {i for pool in pools.values() for i in rng.sample(pool, min(per_kind, len(pool)))}
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["id"] in keep]
    path = CACHE / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def cross_lingual_xquad(asked: str, found: str) -> Path:
    """XQuAD with the paragraphs of language ``found`` and the questions of language ``asked``
    (the two files are parallel: the same ids), as one SQuAD file: a question in one language
    over documents in the other, for the relevance threshold of that language pair."""
    folder = EVALDATA / "xquad"
    questions = {
        qa["id"]: qa["question"]
        for article in json.loads((folder / f"xquad.{asked}.json").read_text("utf-8"))["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    data = json.loads((folder / f"xquad.{found}.json").read_text("utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["question"] = questions[qa["id"]]
    path = CACHE / f"xquad-{asked}-{found}-source.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def fold_inputs(squad: Path, name: str, folds: int) -> list[tuple[Path, Path]]:
    """For each fold: a folder with the contexts of every other fold's articles (as the SQuAD
    run names them), and the fold's answerable questions as JSONL."""
    from kotaemon.eval.questions import load_questions

    found = load_questions(squad)
    titles = sorted({d.source.rsplit("-", 1)[0] for d in found.documents})
    fold_of = {title: i % folds for i, title in enumerate(titles)}
    inputs = []
    for fold in range(folds):
        folder = CACHE / f"{name}-without-fold{fold}-of-{folds}"
        folder.mkdir(parents=True, exist_ok=True)
        for document in found.documents:
            if fold_of[document.source.rsplit("-", 1)[0]] != fold:
                (folder / document.source).write_text(document.text, encoding="utf-8")
        questions = CACHE / f"{name}-fold{fold}-of-{folds}.jsonl"
        with questions.open("w", encoding="utf-8") as out:
            for q in found.questions:
                if q.answerable and fold_of[q.sources[0].rsplit("-", 1)[0]] == fold:
                    row = q.to_json() | {"tags": ["removed"]}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        inputs.append((folder, questions))
    return inputs


def holdout_study(name: str, source: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Covered run on the full collection, removed runs on the fold collections."""
    squad = sampled_squad(source, name, args.questions, random.Random(13))
    covered_path = RESULTS / f"eval_{name}.json"
    if not (args.reuse_covered and covered_path.exists()):
        kotaemon("eval", "run", str(squad), "-c", name, "--json", str(covered_path),
                 "--html", str(RESULTS / f"eval_{name}.html"))  # fmt: skip
    covered = json.loads(covered_path.read_text(encoding="utf-8"))
    removed_scores: list[float] = []
    removed_covered: list[bool] = []
    removed_results: list[dict[str, Any]] = []
    for fold, (folder, questions) in enumerate(fold_inputs(squad, name, args.folds)):
        collection = f"{name}-without-fold{fold}-of-{args.folds}"
        kotaemon("ingest", str(folder), "-c", collection)
        path = RESULTS / f"eval_{name}_removed_fold{fold}_of_{args.folds}.json"
        kotaemon("eval", "run", str(questions), "-c", collection, "--json", str(path))
        removed = json.loads(path.read_text(encoding="utf-8"))
        removed_scores += [r["top_dense_score"] for r in removed["results"] if r["top_dense_score"]]
        removed_covered += [r["covered"] for r in removed["results"]]
        removed_results += removed["results"]
    answerable = [r for r in covered["results"] if r["answerable"]]
    covered_scores = [r["top_dense_score"] for r in answerable if r["top_dense_score"]]
    return {
        "run": covered["run"]["id"],
        "overall": covered["summary"]["overall"],
        "by_tag": covered["summary"]["by_tag"],
        "uncovered": covered["summary"]["uncovered"],
        "answerable_separation": covered["summary"]["answerable_separation"],
        "removed_separation": {
            "covered": len(covered_scores),
            "removed": len(removed_scores),
            "top_dense_score_auc": roc_auc(covered_scores, removed_scores),
            "removed_coverage": sum(removed_covered) / len(removed_covered)
            if removed_covered
            else None,
        },
        "removed_separation_by_pair": removed_by_pair(answerable, removed_results),
    }


def removed_by_pair(
    covered: list[dict[str, Any]], removed: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The article-removed AUC per language pair of the covered answer (the pair whose
    threshold applies to the question; the removed run's passages are other articles)."""
    pair_of = {r["id"]: r.get("language_pair") for r in covered}
    table: dict[str, dict[str, Any]] = {}
    for pair in sorted({p for p in pair_of.values() if p}):
        present = [r["top_dense_score"] for r in covered if r.get("language_pair") == pair]
        absent = [r["top_dense_score"] for r in removed if pair_of.get(r["id"]) == pair]
        present = [s for s in present if s is not None]
        absent = [s for s in absent if s is not None]
        table[pair] = {
            "covered": len(present),
            "removed": len(absent),
            "top_dense_score_auc": roc_auc(present, absent),
        }
    return table


def scifact(args: argparse.Namespace) -> dict[str, Any]:
    path = RESULTS / "eval_scifact.json"
    limit = ["--limit", str(args.scifact_queries)] if args.scifact_queries else []
    kotaemon("eval", "run", str(EVALDATA / "beir-scifact"), "-c", "scifact", "--split", "test",
             "--corpus-limit", str(args.corpus_limit), "--json", str(path), *limit,
             "--html", str(RESULTS / "eval_scifact.html"))  # fmt: skip
    report = json.loads(path.read_text(encoding="utf-8"))
    return {"run": report["run"]["id"], "overall": report["summary"]["overall"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=300, help="answerable (and unanswerable)")
    parser.add_argument("--folds", type=int, default=4, help="16 on SQuAD: one article each")
    parser.add_argument(
        "--reuse-covered", action="store_true", help="keep the covered run's report if present"
    )
    parser.add_argument("--corpus-limit", type=int, default=1000, help="SciFact abstracts")
    parser.add_argument("--scifact-queries", type=int, default=None, help="default: all 300")
    parser.add_argument(
        "--only",
        choices=["squad2", "cmrc2018", "scifact", "xquad-zh-en", "xquad-en-zh"],
        action="append",
    )
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    only = set(args.only or ["squad2", "cmrc2018", "scifact"])
    figures: dict[str, Any] = {"questions": args.questions, "folds": args.folds}
    if "squad2" in only:
        source = EVALDATA / "squad2-dev-subset" / "dev-v2.0.json"
        key = "squad2" if args.folds == 4 else f"squad2_{args.folds}_folds"
        figures[key] = holdout_study("squad2", source, args)
    if "cmrc2018" in only:
        source = EVALDATA / "cmrc2018" / "cmrc2018_trial.json"
        figures["cmrc2018_trial"] = holdout_study("cmrc2018-trial", source, args)
    for pair in ("zh-en", "en-zh"):  # cross-language pairs: only when asked for (slow)
        if f"xquad-{pair}" in only:
            asked, found = pair.split("-")
            source = cross_lingual_xquad(asked, found)
            figures[f"xquad_{asked}_{found}"] = holdout_study(f"xquad-{pair}", source, args)
    if "scifact" in only:
        figures["scifact_test"] = scifact(args) | {
            "corpus_limit": args.corpus_limit,
            "queries_limit": args.scifact_queries,
        }
    out = RESULTS / "eval_datasets.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    out.write_text(json.dumps(previous | figures, indent=1), encoding="utf-8")
    print_table(previous | figures)


def print_table(figures: dict[str, Any]) -> None:
    table = Table("set", "coverage", "hit@1", "hit@5", "hit@10", "MRR", "nDCG@10", "F1",
                  "contains", "AUC removed", "AUC unanswerable (cos / evidence)")  # fmt: skip

    def f(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for name in sorted(k for k in figures if isinstance(figures[k], dict)):
        if "overall" not in figures[name]:
            continue
        o = figures[name]["overall"]
        removed = figures[name].get("removed_separation") or {}
        unans = figures[name].get("answerable_separation") or {}
        table.add_row(
            name, f(o["coverage"]), f(o["hit_at_1"]), f(o["hit_at_5"]), f(o["hit_at_10"]),
            f(o["mrr"]), f(o["ndcg_at_10"]), f(o["f1"]), f(o["contains"]),
            f(removed.get("top_dense_score_auc")),
            f"{f(unans.get('top_dense_score_auc'))} / {f(unans.get('evidence_score_auc'))}",
        )  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
