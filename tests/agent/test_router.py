"""The offline router on a labelled set of zh, en and mixed questions (none of them among the
configured examples): account questions with a month call the CRM, account questions without
one call nothing (the answer asks for the month), rule questions go to the knowledge base."""

from __future__ import annotations

from datetime import date

import pytest

from benchmarks.router import LABELLED, evaluate, load_labelled
from kotaemon.agent.cues import live_cues
from kotaemon.embeddings.bundled import BundledE5Embedder

pytestmark = pytest.mark.anyio

ITEMS = load_labelled(LABELLED)
#: The floor per language. The first 113 questions calibrated the demo intent's threshold
#: (0.88) and are all right; the last 44 were written afterwards and scored 0.95 (zh and en)
#: before joining the set, 0.986 overall now. Before the router required live-data cues the
#: first 113 scored 0.72 (zh) and 0.84 (en). 0.95 leaves room for a few new hard cases per
#: language without retuning, and catches a regression of that size (mixed: 14 questions).
MIN_ACCURACY = {"zh": 0.95, "en": 0.95, "mixed": 0.9}


def test_the_labelled_set_covers_both_languages_and_every_decision() -> None:
    languages = [item["language"] for item in ITEMS]
    assert len(ITEMS) >= 100 and languages.count("zh") >= 40 and languages.count("en") >= 40
    decisions = {(item["intent"], item["call"]) for item in ITEMS}
    assert decisions == {(None, False), ("billing_query", True), ("billing_query", False)}
    assert len({item["question"] for item in ITEMS}) == len(ITEMS)


async def test_router_accuracy_by_language(
    embedder: BundledE5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "t")
    await embedder.open()
    report = await evaluate(embedder, ITEMS)
    print({k: f"{v.right}/{v.total}" for k, v in report.by_language.items()})
    for language, floor in MIN_ACCURACY.items():
        assert report.accuracy(language) >= floor, (language, report.wrong)


TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("question", "live"),
    [
        ("我上个月的账单还了吗？", True),  # the asker and a month
        ("上月信用卡有没有欠款没还", True),  # a month alone
        ("订单 ORD-20431 到哪了？", True),  # a record id
        ("What is the status of my latest repayment?", True),
        ("逾期费用怎么算？", False),  # the rules: no one's records
        ("What is the late fee?", False),
        ("如果我这个月没按时还款会怎么样？", False),  # a supposition
        ("If I miss a payment this month, what fee will I be charged?", False),
        ("我该怎么查询自己的账单？", False),  # a how-to question
        ("How do I check my statement online?", False),
        ("每个月的账单日是几号？", False),  # every month is no month
    ],
)
def test_live_data_cues(question: str, live: bool) -> None:
    assert live_cues(question, TODAY).live is live
