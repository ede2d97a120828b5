"""What every :class:`~kotaemon.store.base.SearchIndex` must do, whatever the backend.

A backend's test module subclasses :class:`SearchIndexContract` and provides the ``indexed``
fixture: an index loaded with :data:`PASSAGES` (4-dimensional unit vectors, so that the nearest
passage of a query vector is known) in two collections. ``tests/store/test_search.py`` runs it
against PostgreSQL; a second backend's tests inherit it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from kotaemon.core.schema import Collection
from kotaemon.store.base import SearchIndex

pytestmark = pytest.mark.anyio


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@dataclass(frozen=True)
class Passage:
    key: str
    collection: str  # "a" or "b"
    text: str
    vector: np.ndarray
    metadata: dict[str, str]


PASSAGES = (
    Passage("grace", "a", "The grace period is three days after the due date.", unit(1, 0, 0, 0),
            {"lang": "en", "topic": "repayment"}),
    Passage("fee", "a", "A late payment fee of 5% applies once per cycle.", unit(0.8, 0.6, 0, 0),
            {"lang": "en", "topic": "fees"}),
    Passage("zh", "a", "信用卡还款宽限期为到期还款日后3天。", unit(0.9, 0, 0.43589, 0),
            {"lang": "zh", "topic": "repayment"}),
    Passage("other", "b", "The grace period of the other bank is ten days.", unit(1, 0, 0, 0.01),
            {"lang": "en", "topic": "repayment"}),
)  # fmt: skip


@dataclass(frozen=True)
class Indexed:
    """The loaded index, its two collections, and the document id of each passage (one chunk
    per document)."""

    index: SearchIndex
    a: Collection
    b: Collection
    ids: dict[str, str]

    def keys(self, chunks: Sequence[object]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[c.document_id] for c in chunks]  # type: ignore[attr-defined]


class SearchIndexContract:
    """Inherit it and define an ``indexed`` fixture returning :class:`Indexed`."""

    async def test_dense_search_ranks_by_cosine_similarity(self, indexed: Indexed) -> None:
        found = await indexed.index.dense_search([indexed.a], unit(1, 0.1, 0, 0), limit=3)
        assert indexed.keys(found) == ["grace", "zh", "fee"]
        scores = [c.dense_score for c in found]
        assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
        assert all(c.score == c.dense_score and c.keyword_score is None for c in found)
        assert found[0].dense_score == pytest.approx(float(unit(1, 0.1, 0, 0) @ unit(1, 0, 0, 0)))

    async def test_limit_bounds_the_results(self, indexed: Indexed) -> None:
        assert len(await indexed.index.dense_search([indexed.a], unit(1, 0, 0, 0), limit=1)) == 1
        found = await indexed.index.keyword_search([indexed.a, indexed.b], "grace", limit=1)
        assert len(found) == 1

    async def test_keyword_search_ranks_by_bm25(self, indexed: Indexed) -> None:
        found = await indexed.index.keyword_search([indexed.a], "late payment fee", limit=5)
        assert indexed.keys(found)[0] == "fee"
        assert all(c.keyword_score is not None and c.score == c.keyword_score for c in found)
        assert all(c.dense_score is None for c in found)
        chinese = await indexed.index.keyword_search([indexed.a], "宽限期是几天", limit=5)
        assert indexed.keys(chinese) == ["zh"]  # Chinese is segmented into words

    async def test_only_the_given_collections_are_searched(self, indexed: Indexed) -> None:
        dense = await indexed.index.dense_search([indexed.b], unit(1, 0, 0, 0), limit=10)
        assert indexed.keys(dense) == ["other"]
        keyword = await indexed.index.keyword_search([indexed.a], "other bank ten days", limit=10)
        assert "other" not in indexed.keys(keyword)
        both = await indexed.index.keyword_search([indexed.a, indexed.b], "grace period", limit=10)
        assert set(indexed.keys(both)) == {"grace", "other"}

    async def test_no_collections_find_nothing(self, indexed: Indexed) -> None:
        assert await indexed.index.dense_search([], unit(1, 0, 0, 0), limit=5) == []
        assert await indexed.index.keyword_search([], "grace", limit=5) == []

    async def test_a_query_without_words_finds_nothing(self, indexed: Indexed) -> None:
        assert await indexed.index.keyword_search([indexed.a], "the of and ？", limit=5) == []
        assert await indexed.index.keyword_search([indexed.a], "nonexistentword", limit=5) == []

    async def test_metadata_filters_are_containment(self, indexed: Indexed) -> None:
        topic = {"topic": "repayment"}
        dense = await indexed.index.dense_search(
            [indexed.a], unit(0.8, 0.6, 0, 0), limit=5, metadata_filter=topic
        )
        assert set(indexed.keys(dense)) == {"grace", "zh"}
        both = {"topic": "repayment", "lang": "zh"}
        keyword = await indexed.index.keyword_search(
            [indexed.a], "宽限期 grace", limit=5, metadata_filter=both
        )
        assert indexed.keys(keyword) == ["zh"]
        none = await indexed.index.dense_search(
            [indexed.a], unit(1, 0, 0, 0), limit=5, metadata_filter={"lang": "fr"}
        )
        assert none == []

    async def test_dense_search_can_keep_to_one_language(self, indexed: Indexed) -> None:
        query = unit(1, 0, 0, 0)
        chinese = await indexed.index.dense_search([indexed.a], query, limit=5, language="zh")
        assert indexed.keys(chinese) == ["zh"] and chinese[0].language == "zh"
        english = await indexed.index.dense_search([indexed.a], query, limit=5, language="en")
        assert indexed.keys(english) == ["grace", "fee"]
        every = await indexed.index.dense_search([indexed.a], query, limit=5)
        assert set(indexed.keys(every)) == {"grace", "fee", "zh"}
        keyword = await indexed.index.keyword_search([indexed.a], "宽限期", limit=5)
        assert [c.language for c in keyword] == ["zh"]

    async def test_results_say_where_they_come_from(self, indexed: Indexed) -> None:
        [hit] = await indexed.index.dense_search([indexed.b], unit(1, 0, 0, 0), limit=1)
        assert hit.kind == "chunk" and hit.collection == indexed.b.name
        assert hit.text == PASSAGES[3].text and hit.document_id and hit.source
        assert hit.metadata == PASSAGES[3].metadata
