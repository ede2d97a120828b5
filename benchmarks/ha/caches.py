"""Cache hit rates under the harness's load, summed over every replica's lifetime.

A replica's counters live as long as its process: each is read from ``/metrics`` just before
the harness stops or kills the replica, and from every replica at the end of the load, and the
readings are added up. Requests a replica served between its last reading and its end (at most
the moment a signal takes) are not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

CACHE_METRIC = "kotaemon_cache_requests"


def cache_counts(metrics_text: str) -> Counter[tuple[str, str]]:
    """Look-ups by (cache, result) in one ``/metrics`` page."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(metrics_text):
        if family.name != CACHE_METRIC:
            continue
        for sample in family.samples:
            if sample.name == f"{CACHE_METRIC}_total":
                counts[sample.labels["cache"], sample.labels["result"]] += int(sample.value)
    return counts


class CacheTally:
    """Adds up the cache counters of replicas read one after another."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.readings = 0
        self.unreadable: list[str] = []

    async def read(self, name: str, url: str) -> None:
        """Add the counters of the replica at ``url``; one that does not answer is noted."""
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"{url}/metrics")
                response.raise_for_status()
        except httpx.HTTPError as exc:
            self.unreadable.append(f"{name}: {type(exc).__name__}")
            return
        self.counts += cache_counts(response.text)
        self.readings += 1

    def summary(self) -> dict[str, Any]:
        """Per cache: hits, misses, errors and the hit rate among the look-ups that answered."""
        caches: dict[str, Any] = {}
        for cache in sorted({cache for cache, _ in self.counts}):
            hits, misses = self.counts[cache, "hit"], self.counts[cache, "miss"]
            errors = self.counts[cache, "error"]
            answered = hits + misses
            caches[cache] = {
                "hits": hits,
                "misses": misses,
                "errors": errors,
                "hit_rate_pct": round(100 * hits / answered, 1) if answered else None,
            }
        return {"caches": caches, "readings": self.readings, "unreadable": self.unreadable}


def rows(summary: dict[str, Any]) -> Iterable[tuple[str, ...]]:
    """Table rows: cache, hits, misses, errors, hit %."""
    for cache, c in summary["caches"].items():
        rate = "–" if c["hit_rate_pct"] is None else f"{c['hit_rate_pct']:.1f}"
        yield cache, str(c["hits"]), str(c["misses"]), str(c["errors"]), rate
