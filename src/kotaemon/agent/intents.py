"""The offline intent router: the nearest example utterance (embedding model) plus keywords.

Used when no LLM with tool calling is configured. Each intent names the tools it calls and the
collections it searches; a question no intent claims is a plain knowledge-base question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

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


@dataclass(frozen=True)
class Route:
    """The router's decision: an intent (or None) and every intent's score."""

    intent: Intent | None
    scores: dict[str, float] = field(default_factory=dict)


class IntentRouter:
    """Scores a question against each intent's examples and keywords.

    Example::

        router = IntentRouter([billing, card_fees], embedder)
        await router.open()
        route = await router.route("我上个月的信用卡还款有没有逾期？")   # -> billing

    :param threshold: the lowest score that claims a question (calibrated on a labelled set:
        see ``tests/agent/router_set.jsonl``).
    :param keyword_weight: added per keyword found in the question (at most three).
    """

    def __init__(
        self,
        intents: Sequence[Intent],
        embedder: Embedder,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        keyword_weight: float = 0.03,
    ) -> None:
        self.intents = list(intents)
        self.embedder = embedder
        self.threshold = threshold
        self.keyword_weight = keyword_weight
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
        lowered = question.lower()
        scores = {}
        for intent, examples in zip(self.intents, self._examples, strict=True):
            hits = sum(1 for k in intent.keywords if k.lower() in lowered)
            similarity = float(np.max(examples @ vector))
            scores[intent.name] = similarity + self.keyword_weight * min(hits, 3)
        best = max(self.intents, key=lambda i: scores[i.name])
        return Route(best if scores[best.name] >= self.threshold else None, scores)
