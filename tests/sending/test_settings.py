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
])
def test_sending_refuses_bad_values(options: dict[str, int], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Sending(**options)


def test_defaults_are_telegrams_limits() -> None:
    assert Sending().limits == RateLimits()
    assert Sending().http_workers == 256
