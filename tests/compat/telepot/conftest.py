"""A fake Telegram for telepot programs: ``api.using`` points unchanged telepot code at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actorbot import RateLimits
from actorbot.compat.telepot import api
from actorbot.sending import Sending
from actorbot.testing import FakeBotApi


@pytest.fixture
def telegram(tg: FakeBotApi, no_thread_left: None) -> Iterator[FakeBotApi]:
    """The fake Bot API, as the default server of every telepot bot made in the test."""
    with api.using(base_url=tg.base_url, sending=Sending(limits=RateLimits.unlimited()),
                   poll_timeout=1, stats_interval=None):
        yield tg
