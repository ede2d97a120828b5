"""Cues that a question asks about the asker's own live records, not about the rules.

"我上个月的账单还了吗？" needs the CRM; "逾期费用怎么算？" and "What happens if I pay late?" are
answered by the knowledge base, however close their wording. These cues are facts of the
language (pronouns, conditionals, how-to forms, dates, identifiers), the same for every
deployment; what a deployment's tools are about lives in its intents' examples.

Example::

    cues = live_cues("Did I pay my October statement?", date(2026, 12, 3))
    cues.live  # True: a first-person reference and a month
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kotaemon.agent.dates import month_of

#: The asker refers to themself: 我, 本人, 自己; I, me, my, mine.
_PERSONAL = re.compile(r"我|本人|自己|\b(?:i|me|my|mine|i'm|i've|i'd)\b", re.I)
#: A condition or a supposition asks what the rules say would happen, not what did.
_HYPOTHETICAL = re.compile(r"如果|假如|假设|要是|万一|\b(?:if|suppose|supposing|in case)\b", re.I)
#: How-to questions ask for a procedure, even about the asker's own things.
_PROCEDURAL = re.compile(
    r"怎么办|如何|怎样|(?:该|要)怎么|怎么(?:办理|开通|申请|设置|操作|查询|查看|修改)"
    r"|\bhow (?:do|can|should|could|would) (?:i|we|you)\b|\bhow to\b|\bwhat should i\b",
    re.I,
)
#: The most recent record, when no month is named: "最近一期", "my latest repayment".
_RECENT = re.compile(r"最近|近期|上一期|最新|\b(?:latest|recent|most recent|last)\b", re.I)
#: An identifier of one record: "ORD-2041", "C-1001", "#58213", "单号 20261103".
_RECORD_ID = re.compile(r"\b[A-Z]{1,5}-?\d{3,}\b|#\d{3,}|(?<!\d)\d{6,}(?!\d)")


@dataclass(frozen=True)
class Cues:
    """What the question says about whose data it needs, and when."""

    personal: bool
    time: bool
    record: bool
    hypothetical: bool
    procedural: bool

    @property
    def live(self) -> bool:
        """Whether the question asks about actual records: it names the asker, a time or a
        record, and is neither a supposition nor a how-to question."""
        if self.hypothetical or self.procedural:
            return False
        return self.personal or self.time or self.record

    @property
    def strength(self) -> int:
        """How many independent cues point at live data (0 when :attr:`live` is False)."""
        return (self.personal + self.time + self.record) if self.live else 0


def live_cues(question: str, today: date) -> Cues:
    return Cues(
        personal=bool(_PERSONAL.search(question)),
        time=month_of(question, today) is not None or bool(_RECENT.search(question)),
        record=bool(_RECORD_ID.search(question)),
        hypothetical=bool(_HYPOTHETICAL.search(question)),
        procedural=bool(_PROCEDURAL.search(question)),
    )
