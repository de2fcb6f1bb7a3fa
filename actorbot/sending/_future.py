"""The future of an outgoing call: a pykka ThreadingFuture that waits only when asked to.

Every Bot API call returns a future, yet handlers rarely wait on one (results come back
as messages). pykka's ThreadingFuture builds a ``threading.Condition`` per future, a
visible share of the CPU a reply costs; this one builds it only for a caller that
actually blocks in :meth:`get`, on one lock shared by all call futures (held for a few
instructions at a time).

It is also awaitable without blocking: ``await self.sender.send_message(...)`` in an
``async def`` hook parks the task on an asyncio future that the thread settling the call
wakes through the loop's :class:`~actorbot.runtime.LoopWaker`; no thread waits per call.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from collections.abc import Generator
from typing import Any, TypeVar

from pykka import Future, ThreadingFuture, Timeout
from pykka._threading import ThreadingFutureResult

from actorbot.runtime import waker_for

_LOCK = threading.Lock()

T = TypeVar("T")


class CallFuture(ThreadingFuture[T]):
    """Same behaviour as :class:`pykka.ThreadingFuture` (it is one), lighter to make.

    ``T`` is what the Bot API method returns, so that ``get()`` is typed for callers of
    ``self.sender.send_message(...)`` and the like.
    """

    def __init__(self) -> None:
        Future.__init__(self)  # not ThreadingFuture's: no Condition yet
        self._result: ThreadingFutureResult | None = None
        self._waiters: threading.Condition | None = None
        self._awaiting: list[tuple[asyncio.AbstractEventLoop, int, asyncio.Future[None]]] | None
        self._awaiting = None
        self.error_seen = False
        """True once :meth:`get` raised the call's error to someone: they handled it, so the
        update it belonged to is acknowledged rather than parked."""

    def get(self, *, timeout: float | None = None) -> T:
        if self._get_hook is not None:
            return Future.get(self, timeout=timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        with _LOCK:
            while self._result is None:
                if self._waiters is None:
                    self._waiters = threading.Condition(_LOCK)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0.0:
                    raise Timeout(f"{timeout} seconds")
                self._waiters.wait(timeout=remaining)
            result = self._result
        if result.exc_info is not None:
            self.error_seen = True
            exc_type, exc_value, traceback = result.exc_info
            assert exc_type is not None
            if exc_value is None:
                exc_value = exc_type()
            if exc_value.__traceback__ is not traceback:
                raise exc_value.with_traceback(traceback)
            raise exc_value
        return result.value  # type: ignore[return-value]  # set() was given a T (or None)

    def __await__(self) -> Generator[None, None, T]:
        """The call's result (or its error raised), without blocking the event loop."""
        if self._get_hook is None:
            with _LOCK:
                waiter = None
                if self._result is None:
                    loop = asyncio.get_running_loop()
                    waiter = loop.create_future()
                    if self._awaiting is None:
                        self._awaiting = []
                    self._awaiting.append((loop, threading.get_ident(), waiter))
            if waiter is not None:
                yield from waiter
        return self.get()

    __iter__ = __await__

    def set(self, value: T | None = None) -> None:
        self._settle(ThreadingFutureResult(value=value))

    def set_exception(self, exc_info: Any = None) -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self._settle(ThreadingFutureResult(exc_info=exc_info))

    def _settle(self, result: ThreadingFutureResult) -> None:
        with _LOCK:
            if self._result is not None or self._get_hook is not None:
                raise queue.Full
            self._result = result
            if self._waiters is not None:
                self._waiters.notify_all()
            awaiting, self._awaiting = self._awaiting, None
        if awaiting:
            here = threading.get_ident()
            for loop, thread, waiter in awaiting:
                if thread == here and loop.is_running():
                    _wake(waiter)  # settled on the awaiting task's own loop: no hop
                else:  # one wake-up for every result settled meanwhile, not one each
                    waker_for(loop).call(_wake, waiter)

    def set_get_hook(self, func: Any) -> None:
        with _LOCK:
            if self._result is not None:
                raise queue.Full
            self._get_hook = func
            if self._waiters is not None:
                self._waiters.notify_all()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # a cancelled awaiter is gone
        waiter.set_result(None)
