"""Shared fixtures: threads left behind, a fake Bot API, a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actorbot.testing import FakeBotApi
from tests.helpers import engine_threads
from tests.redisd import RedisServer, find_binary, in_ci


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
    if find_binary() is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with RedisServer() as server:
        yield server
