"""The bot-wide rate budget shared by every worker through Redis.

Telegram's overall limit (about 30 messages a second) applies to the token, not to a
process: N workers each pacing themselves at 29/s would send 29·N. :class:`RedisLimiter`
plugs into the sender's :class:`~actorbot.sending.Limiter` seam and keeps the same rule
as the local :class:`~actorbot.sending.LocalLimiter` (a slot is held from its reservation
until ``window`` seconds after its answer), but in one sorted set per lane, with Redis
server time, changed by one Lua script per reservation: atomic across processes, one
clock for all. A slot whose process died before the answer frees itself after
``hold_timeout`` seconds.

Per-chat limits stay local: a chat lives on one worker at a time (its partition's).
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections import deque
from typing import TYPE_CHECKING, Final

import structlog

from actorbot.sending import RateLimits

if TYPE_CHECKING:
    import redis

    from actorbot.cluster._settings import Keys
    from actorbot.sending import Lane

log = structlog.get_logger("actorbot.cluster.limiter")

_RESERVE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
"""
"""KEYS: the lane's set; ARGV: slots, hold (us), member. -1: taken; else us to wait."""

_RELEASE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
return 0
"""
"""KEYS: the lane's set; ARGV: window (us), member: held ``window`` from now on."""

_RETRY: Final = 0.02
"""Seconds until asking again when every slot is held by a call still unanswered (whose
answer, possibly in another process, wakes nobody here) or Redis failed."""


class RedisLimiter:
    """A :class:`~actorbot.sending.Limiter` whose windows live in Redis (see the module
    docstring); used from the sender's thread only, as the seam requires."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        limits: RateLimits | None = None,
        *,
        hold_timeout: float = 30.0,
    ) -> None:
        limits = limits or RateLimits()
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)
        self._lanes: dict[str, tuple[str, int, int] | None] = {
            "overall": _lane(keys.limiter("overall"), limits.global_per_s,
                             limits.global_window, limits.margin),
            "paid": _lane(keys.limiter("paid"), limits.paid_per_s, limits.paid_window,
                          limits.margin),
        }
        self._hold_us = int(hold_timeout * 1e6)
        self._name = uuid.uuid4().hex[:12]
        self._counter = itertools.count()
        self._held: dict[str, deque[str]] = {"overall": deque(), "paid": deque()}
        self.waits = 0
        self.failures = 0

    def reserve(self, lane: Lane, now: float) -> float:
        spec = self._lanes[lane]
        if spec is None:
            return 0.0
        key, slots, window_us = spec
        member = f"{self._name}:{next(self._counter)}"
        try:
            wait_us = int(self._reserve(keys=[key], args=[slots, self._hold_us, member]))
        except Exception as exc:  # noqa: BLE001 - Redis away: hold sending, do not crash
            self.failures += 1
            log.warning("cluster.limiter_failed", error=type(exc).__name__)
            return _RETRY
        if wait_us < 0:
            self._held[lane].append(member)
            return 0.0
        self.waits += 1
        if wait_us > window_us:  # the oldest slot is a call not yet answered
            return _RETRY
        return max(wait_us / 1e6, 0.001)

    def release(self, lane: Lane, now: float) -> None:
        spec = self._lanes[lane]
        held = self._held[lane]
        if spec is None or not held:
            return
        member = held.popleft()  # which of our slots does not matter: their count does
        try:
            self._release(keys=[spec[0]], args=[spec[2], member])
        except Exception as exc:  # noqa: BLE001 - the slot frees itself after hold_timeout
            self.failures += 1
            log.warning("cluster.limiter_failed", error=type(exc).__name__)


def _lane(key: str, per_s: float, seconds: float, margin: float) -> tuple[str, int, int] | None:
    if math.isinf(per_s):
        return None
    slots = max(int(per_s * seconds + 1e-9), 1)  # as the local limiter counts them
    return key, slots, int((seconds + margin) * 1e6)
