"""Fixtures for the cluster tests: each test gets its own Redis database, flushed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.redisd import RedisServer


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's redis-server, flushed before each test."""
    import redis  # the test extra

    client: Any = redis.Redis(port=redis_server.port)
    client.flushall()
    client.close()
    return redis_server.url
