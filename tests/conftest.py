"""Shared fixtures: threads left behind, a fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actorbot.testing import FakeBotApi
from tests.helpers import engine_threads


@pytest.fixture
def no_thread_left() -> Iterator[None]:
    before = engine_threads()
    yield
    left = engine_threads() - before
    assert not left, f"threads left behind: {sorted(left)}"


@pytest.fixture
def tg() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server
