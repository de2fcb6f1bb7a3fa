"""Where telepot bots connect, and the engine options they run with.

telepot always talked to ``api.telegram.org``. To point unchanged telepot code at a
local Bot API server, or at :class:`actorbot.testing.FakeBotApi` in tests, set the
defaults once (or for a block with :func:`using`); a bot's own keyword arguments win::

    from actorbot.compat.telepot import api
    api.configure(base_url=fake.base_url, sending=Sending(limits=RateLimits.unlimited()))
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from actorbot.api import DEFAULT_BASE_URL

__all__ = ["configure", "defaults", "using"]

_lock = threading.Lock()
_defaults: dict[str, Any] = {"base_url": DEFAULT_BASE_URL}


def configure(**options: Any) -> dict[str, Any]:
    """Set defaults for bots created afterwards: ``base_url``, ``poll_timeout`` (seconds
    each long poll waits, whatever ``message_loop`` asks: tests want 1) and any
    :class:`~actorbot.Engine` keyword but ``intake`` and ``handling`` (``sending``,
    ``journal``, ``hooks``...). Returns the previous ones."""
    with _lock:
        previous = dict(_defaults)
        _defaults.update(options)
        return previous


def defaults() -> dict[str, Any]:
    with _lock:
        return dict(_defaults)


@contextlib.contextmanager
def using(**options: Any) -> Iterator[None]:
    """:func:`configure` for the duration of a ``with`` block."""
    previous = configure(**options)
    try:
        yield
    finally:
        with _lock:
            _defaults.clear()
            _defaults.update(previous)
