"""The sender's settings object."""

from __future__ import annotations

import pytest

from actorbot import RateLimits, Sending
from actorbot.errors import ConfigError


@pytest.mark.parametrize(("options", "match"), [
    ({"http_workers": 0}, "http_workers and max_queue"),
    ({"max_queue": 0}, "http_workers and max_queue"),
    ({"max_retries": -1}, "max_retries"),
    ({"answer_deadline": 0}, "answer_deadline"),
    ({"retry_deadline": -1}, "retry_deadline"),
])
def test_sending_refuses_bad_values(options: dict[str, int], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Sending(**options)


def test_defaults_are_telegrams_limits() -> None:
    assert Sending().limits == RateLimits()
    assert Sending().http_workers == 256


@pytest.mark.parametrize("options", [
    {"global_per_s": 0}, {"private_burst": 0}, {"group_window": 0}, {"margin": -0.1},
])
def test_rate_limits_refuse_bad_values(options: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="RateLimits"):
        RateLimits(**options)


def test_a_retry_deadline_of_minutes_by_default() -> None:
    assert Sending().retry_deadline == 300.0
    assert Sending().limiter is None  # the sender builds a LocalLimiter of its limits
