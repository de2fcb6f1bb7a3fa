"""Helpers for tests that run the engine: waiting on conditions, no thread left behind."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from actorbot.engine._engine import Engine
from actorbot.intake import Polling
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi

FAKE_THREADS = "fake-telegram"


def eventually(
    predicate: Callable[[], object], timeout: float = 30, what: str = "it",
    interval: float = 0.002,
) -> None:
    """Wait for ``predicate`` with a deadline (the engine offers no event for every state);
    a costly predicate gets a longer ``interval``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def engine_threads() -> set[str]:
    return {t.name for t in threading.enumerate()
            if not t.name.startswith(FAKE_THREADS) and t is not threading.main_thread()}


def make_engine(tg: FakeBotApi, routes: list[Any], **options: Any) -> Engine:
    options.setdefault("intake", Polling(timeout=1))
    options.setdefault("stats_interval", None)
    options.setdefault("sending", Sending(limits=RateLimits.unlimited()))  # no flood control
    return Engine(tg.token, routes, connection=tg.connection, **options)


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Undo what configure_logging() (or a docs sample calling it) does to global state."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        structlog.configure(**saved)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
