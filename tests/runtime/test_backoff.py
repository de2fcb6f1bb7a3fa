"""Backoff: the one formula every retry in actorbot waits by."""

from __future__ import annotations

import math
import random

import pytest

from actorbot.errors import ConfigError
from actorbot.runtime import Backoff


def test_the_ceiling_grows_by_the_factor_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0, factor=2.0)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [Backoff(1.0, 100.0, factor=3.0).ceiling(n) for n in (1, 2, 3)] == [1.0, 3.0, 9.0]
    assert Backoff(2.0, 2.0, factor=1.0).ceiling(50) == 2.0


def test_no_retry_yet_and_a_zero_initial_mean_no_wait() -> None:
    assert Backoff().ceiling(0) == 0.0
    assert Backoff().delay(0, random.Random(1)) == 0.0
    at_once = Backoff(initial=0.0, maximum=60.0)
    assert [at_once.delay(n, random.Random(1)) for n in (1, 2, 10)] == [0.0, 0.0, 0.0]


def test_attempts_far_past_the_maximum_stay_at_the_maximum() -> None:
    assert Backoff(1.0, 10.0).ceiling(10**6) == 10.0  # 2.0 ** 999_999 overflows a float
    assert Backoff(1.0, 10.0, factor=1e10).ceiling(100) == 10.0


def test_without_jitter_the_delay_is_the_ceiling() -> None:
    backoff = Backoff(0.05, 1.0, jitter=False)
    assert [backoff.delay(n) for n in (1, 2, 3, 10)] == [0.05, 0.1, 0.2, 1.0]


def test_jitter_draws_from_the_upper_half_of_the_ceiling() -> None:
    backoff = Backoff(1.0, 8.0)
    rng = random.Random(42)
    for attempt in range(1, 8):
        ceiling = backoff.ceiling(attempt)
        draws = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws), attempt
        assert max(draws) - min(draws) > ceiling / 4  # spread, not one value
    again = [Backoff(1.0, 8.0).delay(3, random.Random(7)) for _ in range(2)]
    assert again[0] == again[1]  # a seeded rng gives the same waits


@pytest.mark.parametrize("settings", [
    {"initial": -0.1},
    {"initial": 2.0, "maximum": 1.0},
    {"factor": 0.5},
    {"initial": math.nan},
    {"maximum": math.nan},
    {"factor": math.nan},
    {"maximum": math.inf},
])
def test_settings_that_make_no_sense_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="Backoff needs"):
        Backoff(**settings)  # type: ignore[arg-type]
    assert issubclass(ConfigError, ValueError)
