"""Shared fixtures: the team's Bot API reference data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actorbot.testing import FakeBotApi
from tests.corpus import BOTAPI
from tests.helpers import engine_threads


@pytest.fixture(scope="session")
def botapi_dir() -> Path:
    if not BOTAPI.is_dir():
        pytest.skip(f"Bot API reference data not found at {BOTAPI}")
    return BOTAPI


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
