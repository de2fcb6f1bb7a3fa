"""Shared fixtures: threads left behind, a fake Bot API, a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actorbot.testing import FakeBotApi
from tests.helpers import engine_threads
from tests.redisd import RedisServer, in_ci, missing_reason


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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session (tests use their own key prefix or FLUSHDB).
    Missing binary: a failure in CI (``.ci/run`` installs it), a skip elsewhere."""
    missing = missing_reason()
    if missing is not None:
        if in_ci():
            pytest.fail(f"{missing}: in CI the Redis tests must run, not skip")
        pytest.skip(missing)
    with RedisServer() as server:
        yield server
