"""The offline intent router: the nearest example utterance (embedding model) plus keywords,
and, for intents that call tools, cues that the question is about live records.

Used when no LLM with tool calling is configured. Each intent names the tools it calls and the
collections it searches; a question no intent claims is a plain knowledge-base question. An
intent with tools claims only a question that asks about actual records (see
:mod:`kotaemon.agent.cues`): "逾期费用怎么算？" is as close to the billing examples as to the
rules, but names no one's account, so the knowledge base answers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from kotaemon.agent.cues import Cues, live_cues
from kotaemon.embeddings.base import Embedder

#: The lowest score that claims a question, unless the configuration sets ``router.threshold``
#: (0.8 kept the demo's labelled set right: tests/agent/test_router.py).
DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True)
class Intent:
    """What a kind of question needs: tools to call, collections to search.

    ``arguments`` says how the offline router fills each tool's parameters from the question:
    ``{"repayment_records": {"month": "month"}}`` fills ``month`` with the month the question
    names (see :mod:`kotaemon.agent.extractors`).
    """

    name: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    collections: tuple[str, ...] | None = None
    arguments: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: The lowest similarity to the examples at which this intent claims a question (None: the
    #: router's threshold alone).
    threshold: float | None = None


@dataclass(frozen=True)
class Route:
    """The router's decision: an intent (or None), every intent's score, and the cues seen."""

    intent: Intent | None
    scores: dict[str, float] = field(default_factory=dict)
    cues: Cues | None = None


class IntentRouter:
    """Scores a question against each intent's examples and keywords.

    Example::

        router = IntentRouter([billing, card_fees], embedder)
        await router.open()
        route = await router.route("我上个月的信用卡还款有没有逾期？")   # -> billing

    :param threshold: the lowest score that claims a question (calibrated on a labelled set:
        see ``tests/agent/router_set.jsonl``).
    :param keyword_weight: added per keyword found in the question (at most three).
    :param cue_weight: added to an intent with tools per live-data cue of the question (a
        first-person reference, a time, a record id): a personal question with a month leans
        to the tool even when its wording is close to a rule's.
    :param today: the date relative months are resolved against ("上个月").
    """

    def __init__(
        self,
        intents: Sequence[Intent],
        embedder: Embedder,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        keyword_weight: float = 0.03,
        cue_weight: float = 0.03,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.intents = list(intents)
        self.embedder = embedder
        self.threshold = threshold
        self.keyword_weight = keyword_weight
        self.cue_weight = cue_weight
        self.today = today
        self._examples: list[np.ndarray] = []

    async def open(self) -> None:
        self._examples = [
            np.vstack([await self.embedder.embed_query(e) for e in intent.examples])
            for intent in self.intents
        ]

    async def route(self, question: str) -> Route:
        if not self.intents:
            return Route(None)
        if not self._examples:
            await self.open()
        vector = await self.embedder.embed_query(question)
        cues = live_cues(question, self.today())
        similarity = {
            intent.name: float(np.max(examples @ vector))
            for intent, examples in zip(self.intents, self._examples, strict=True)
        }
        scores = {i.name: self._score(i, similarity[i.name], question, cues) for i in self.intents}
        eligible = [i for i in self.intents if self._may_claim(i, similarity[i.name], cues)]
        best = max(eligible, key=lambda i: scores[i.name], default=None)
        if best is None or scores[best.name] < self.threshold:
            return Route(None, scores, cues)
        return Route(best, scores, cues)

    def _may_claim(self, intent: Intent, similarity: float, cues: Cues) -> bool:
        """Tools fetch someone's records: an intent with tools claims only a question about
        actual records. An intent's own ``threshold`` bounds the similarity to its examples (a
        wrong call costs more than a wrong choice of collections)."""
        if intent.threshold is not None and similarity < intent.threshold:
            return False
        return cues.live or not intent.tools

    def _score(self, intent: Intent, similarity: float, question: str, cues: Cues) -> float:
        lowered = question.lower()
        hits = sum(1 for k in intent.keywords if k.lower() in lowered)
        score = similarity + self.keyword_weight * min(hits, 3)
        if intent.tools:
            score += self.cue_weight * cues.strength
        return score
