"""The limits themselves, on time passed in: sliding windows, answered windows, buckets."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from actorbot.errors import ConfigError
from actorbot.sending import AnsweredWindow, LocalLimiter, RateLimits, SlidingWindow, TokenBucket


def test_a_sliding_window_holds_in_every_window_from_a_cold_start() -> None:
    window = SlidingWindow(3, 1.0)
    for t in (0.0, 0.1, 0.2):
        assert window.wait(t) == 0.0
        window.take(t)
    assert window.wait(0.5) == pytest.approx(0.5)  # the first leaves the window at 1.0
    assert window.wait(1.0) == 0.0
    window.take(1.0)
    assert window.wait(1.05) == pytest.approx(0.05)
    assert window.fresh_at() == 2.0


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(1.0, 2, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(1.0)
    assert bucket.wait(0.5) == pytest.approx(0.5)
    assert bucket.fresh_at() == pytest.approx(2.0)


def test_an_answered_window_counts_a_slot_until_its_answer_and_a_window_after() -> None:
    window = AnsweredWindow(2, 1.0)
    window.take()
    window.take()
    assert window.wait(0.0) == math.inf  # both in flight: not before an answer
    window.answered(0.3)  # a cold connection: the answer came late, so did the request
    assert window.wait(0.3) == pytest.approx(1.0)
    assert window.wait(1.3) == 0.0


def test_the_local_limiter_reserves_per_lane_and_waits_for_a_release() -> None:
    limits = RateLimits(global_per_s=2, paid_per_s=3, margin=0.0)
    limiter = LocalLimiter(limits)
    assert [limiter.reserve("overall", 0.0) for _ in range(3)] == [0.0, 0.0, math.inf]
    assert [limiter.reserve("paid", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    limiter.release("overall", 0.1)
    assert limiter.reserve("overall", 0.1) == pytest.approx(1.0)
    assert limiter.reserve("overall", 1.1) == 0.0
    unlimited = LocalLimiter(RateLimits.unlimited())
    assert all(unlimited.reserve("overall", 0.0) == 0.0 for _ in range(1000))


@pytest.mark.parametrize("make", [lambda: SlidingWindow(0, 1.0),
                                  lambda: AnsweredWindow(1, 0.0)])
def test_bad_windows_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ConfigError):
        make()
