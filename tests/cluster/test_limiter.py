"""RedisLimiter: several limiters on one Redis share one window, held until answers."""

from __future__ import annotations

import math
from typing import Any

from actorbot.cluster import Cluster, RedisLimiter, connect
from actorbot.sending import RateLimits

KEYS = Cluster().keys("42:x")


def limiters(url: str, count: int, limits: RateLimits) -> tuple[Any, list[RedisLimiter]]:
    client = connect(url)
    return client, [RedisLimiter(client, KEYS, limits) for _ in range(count)]


def test_three_limiters_together_take_the_window_once(redis_url: str) -> None:
    client, three = limiters(redis_url, 3, RateLimits(global_per_s=10, global_window=1.0))
    try:
        granted = [lim for _ in range(5) for lim in three if lim.reserve("overall", 0) == 0]
        assert len(granted) == 10  # 10 in the window, whoever asks
        waits = [lim.reserve("overall", 0) for lim in three]
        assert all(0 < w <= 0.05 for w in waits)  # all held by unanswered calls: ask again
        for lim in granted[:4]:
            lim.release("overall", 0)  # answered: each slot now counts for the window
        wait = three[0].reserve("overall", 0)
        assert 0.5 < wait <= 1.02  # until the oldest answered slot leaves the window
    finally:
        client.close()


def test_an_unlimited_lane_asks_nothing(redis_url: str) -> None:
    client, (lim,) = limiters(redis_url, 1, RateLimits.unlimited())
    try:
        assert all(lim.reserve("overall", 0) == 0 for _ in range(1000))
        assert not client.keys("*")
        assert not math.isinf(lim.reserve("paid", 0))
    finally:
        client.close()


def test_a_redis_that_is_away_holds_sending_instead_of_failing() -> None:
    client = connect("redis://127.0.0.1:1/0")
    lim = RedisLimiter(client, KEYS, RateLimits())
    assert lim.reserve("overall", 0) == 0.02
    assert lim.failures == 1
    lim.release("overall", 0)  # nothing held: nothing to do
