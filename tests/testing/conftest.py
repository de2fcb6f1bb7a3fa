"""Fixtures for the fake Bot API tests: a running server, an HTTP session, a manual clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi
from tests.testing.fake_helpers import Api, ManualClock

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    """Every test must leave no thread behind."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left behind: {[t.name for t in left]}"


@pytest.fixture
def tg() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def api(tg: FakeBotApi, session: requests.Session) -> Api:
    """``api("sendMessage", chat_id=1, text="hi")`` posts JSON; ``files=`` goes multipart."""

    def call(method: str, files: dict[str, Any] | None = None, **params: Any) -> requests.Response:
        url = f"{tg.api_url}/{method}"
        if files is not None:
            return session.post(url, data=params, files=files, timeout=10)
        return session.post(url, json=params, timeout=10)

    return call


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
