"""Relative dates in questions, resolved by code ("上个月", "last month" -> 2026-11), never by
the model."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    m: n
    for n, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for m in names
}  # fmt: skip
_RELATIVE = [
    (re.compile(r"上上个?月|two months ago|the month before last", re.I), -2),
    (re.compile(r"上个?月|last month|previous month|past month", re.I), -1),
    (re.compile(r"这个?月|本月|this month|current month", re.I), 0),
]
_ZH_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                "九": 9, "十": 10, "十一": 11, "十二": 12}  # fmt: skip
#: "11月", "2026年8月", "九月份" (a numeral, never 几 or 每: "几月", "每个月" name no month).
_ZH_MONTH = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2}|十[一二]?|[一二两三四五六七八九])\s*月")
_NAMES = "|".join(_MONTHS)
#: Full names stand alone ("my October statement"), except words that are verbs as often as
#: months; those need a preposition or a year: "in May", "for March 2026".
_BARE = "|".join(m for m in _MONTHS if len(m) > 4 and m != "march")
_EN_MONTH = re.compile(
    rf"\b(?:in|of|for|during)\s+({_NAMES})\b\.?(?:\s+(\d{{4}}))?|\b({_NAMES})\.?\s+(\d{{4}})\b"
    rf"|\b({_BARE})\b",
    re.I,
)
_ISO_MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?!\d)")  # also inside Chinese: 我2026-11的


def month_of(question: str, today: date) -> str | None:
    """The month a question is about, as ``YYYY-MM`` (None when it names none)."""
    for pattern, offset in _RELATIVE:
        if pattern.search(question):
            return _shift(today, offset)
    if match := _ISO_MONTH.search(question):
        year, month = int(match.group(1)), int(match.group(2))
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    if match := _ZH_MONTH.search(question):
        numeral = match.group(2)
        month = int(numeral) if numeral.isdigit() else _ZH_NUMERALS[numeral]
        year = int(match.group(1)) if match.group(1) else _latest_year(today, month)
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    if match := _EN_MONTH.search(question):
        name = match.group(1) or match.group(3) or match.group(5)
        year_text = match.group(2) or match.group(4)
        month = _MONTHS[name.lower()]
        year = int(year_text) if year_text else _latest_year(today, month)
        return f"{year:04d}-{month:02d}"
    return None


def _shift(today: date, months: int) -> str:
    index = today.year * 12 + today.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _latest_year(today: date, month: int) -> int:
    """A month named without a year is the most recent one (this year's, or last year's)."""
    return today.year if month <= today.month else today.year - 1
