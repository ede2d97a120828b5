"""Token-bucket rate limits per principal and per client address.

With ``KOTAEMON_REDIS_URL`` the buckets live in Redis (one atomic script per check, on Redis's
clock), so a limit holds across replicas; without it they live in this process (single-replica
mode, said at start-up). When Redis is down, a check lets the request through or refuses it, by
``KOTAEMON_RATE_LIMIT_FAIL_OPEN``; the outage is logged once (:class:`SharedRedis`).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from kotaemon.cache.redis import RedisUnavailable, SharedRedis
from kotaemon.core.errors import UnavailableError

log = logging.getLogger(__name__)

# KEYS[1]: the bucket. ARGV: refill per second, capacity. Returns 0, or seconds to wait.
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or t
tokens = math.min(capacity, tokens + math.max(0, t - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', t)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class RateLimiter(Protocol):
    async def take(self, key: str, per_minute: int) -> float:
        """Take a token from ``key``'s bucket: 0 if allowed, else seconds until one is free."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Buckets in this process (one event loop: no lock needed)."""

    #: Buckets kept before full ones are dropped (they would refill to full anyway).
    MAX_BUCKETS = 100_000

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, key: str, per_minute: int) -> float:
        rate, capacity = per_minute / 60, float(per_minute)
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        if len(self._buckets) >= self.MAX_BUCKETS:
            self._evict(now)
        self._buckets[key] = (tokens, now)
        return wait

    def _evict(self, now: float) -> None:
        """Drop the buckets idle for longest (those that have refilled), never all of them."""
        idle = sorted(self._buckets.items(), key=lambda item: item[1][1])
        for key, _ in idle[: len(idle) // 2]:
            del self._buckets[key]

    async def close(self) -> None:
        pass


class RedisRateLimiter:
    """Buckets in Redis, shared by every replica (the engine's :class:`SharedRedis`)."""

    def __init__(
        self, redis: SharedRedis, *, fail_open: bool, prefix: str = "kotaemon:rate:"
    ) -> None:
        self.redis = redis
        self._script = redis.client.register_script(_TAKE)
        self.fail_open = fail_open
        self.prefix = prefix

    async def take(self, key: str, per_minute: int) -> float:
        keys, args = [self.prefix + key], [per_minute / 60, per_minute]
        try:
            wait = await self.redis.call(lambda _: self._script(keys=keys, args=args))
        except RedisUnavailable as exc:
            if self.fail_open:
                return 0.0
            raise UnavailableError(
                "rate limits cannot be checked (Redis is unavailable); retry shortly",
                code="rate_limit_unavailable",
            ) from exc
        return float(wait)

    async def close(self) -> None:
        pass  # the engine closes the shared Redis


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's address: the peer's, or when the peer is a trusted proxy, the nearest
    untrusted address of ``X-Forwarded-For`` (which the client itself cannot forge)."""
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    address = peer or "unknown"
    if not forwarded_for or not is_trusted(address):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            return hop
        address = hop
    return address
