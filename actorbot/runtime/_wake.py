"""Waking an event loop from other threads, once per batch rather than once per item.

``loop.call_soon_threadsafe`` writes a byte to the loop's self-pipe on every call: a
system call on the calling thread, and a wake-up, a read and a callback on the loop's. With
a reply awaited per update, every settled call would pay that. A :class:`LoopWaker`
queues the callbacks and wakes its loop only when none is pending, so the callbacks that
arrive while the loop is busy (or not yet scheduled) share one wake-up.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any

_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker] = (
    weakref.WeakKeyDictionary())
_wakers_lock = threading.Lock()


class LoopWaker:
    """Runs ``callback(arg)`` on ``loop`` soon, from any thread, in the order given."""

    __slots__ = ("__weakref__", "_items", "_lock", "_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._items: list[tuple[Callable[[Any], object], Any]] = []
        self._pending = False

    def call(self, callback: Callable[[Any], object], arg: Any) -> None:
        """Queue ``callback(arg)``; on a closed loop it is dropped (nobody waits there)."""
        with self._lock:
            self._items.append((callback, arg))
            if self._pending:
                return
            self._pending = True
        try:
            self._loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the loop is closed: whoever waited on it is gone
            with self._lock:
                self._pending = False
                self._items.clear()

    def _run(self) -> None:
        with self._lock:
            items, self._items = self._items, []
            self._pending = False
        for callback, arg in items:
            callback(arg)


def waker_for(loop: asyncio.AbstractEventLoop) -> LoopWaker:
    """The one :class:`LoopWaker` of ``loop`` (made on first use, gone with the loop)."""
    waker = _wakers.get(loop)
    if waker is None:
        with _wakers_lock:
            waker = _wakers.get(loop)
            if waker is None:
                waker = _wakers[loop] = LoopWaker(loop)
    return waker
