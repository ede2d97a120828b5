"""Relative months resolved by code."""

from datetime import date

import pytest

from kotaemon.agent.dates import month_of

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(
    ("question", "month"),
    [
        ("我上个月的信用卡还款有没有逾期？", "2025-12"),
        ("上月账单", "2025-12"),
        ("上上个月呢", "2025-11"),
        ("这个月的账单还了吗", "2026-01"),
        ("Was I late last month?", "2025-12"),
        ("my statement for this month", "2026-01"),
        ("11月的还款", "2025-11"),
        ("2025年3月的账单", "2025-03"),
        ("payment in March", "2025-03"),
        ("statement for Dec 2024", "2024-12"),
        ("the 2025-07 statement", "2025-07"),
        ("九月份的账单", "2025-09"),
        ("十一月那期", "2025-11"),
        ("Check my October statement", "2025-10"),
        ("May I ask what the annual fee is?", None),
        ("Does the March of interest never stop?", None),  # a bare "march" is not a month
        ("宽限期是几天？", None),
        ("每个月的账单日是几号？", None),
        ("一般几月份调整额度？", None),
        ("一个月内还清", None),
    ],
)
def test_month_of(question: str, month: str | None) -> None:
    assert month_of(question, TODAY) == month
