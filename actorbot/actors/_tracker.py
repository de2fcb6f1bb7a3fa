"""Updates in flight: entered the engine, not yet finished by every handler they reached.

Updates are *admitted* when they enter (the poller hands a batch over, or ``feed``), so the
count includes batches the router has not looked at yet and the poller's bound is exact.
The router then says how many handlers each update reaches and the handlers finish it. A
lock and a condition instead of messages: a per-update "done" message to the router would
double its traffic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class InFlight:
    """Counts updates in flight; ``wait_below`` and ``wait_idle`` block without polling."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._remaining: dict[int, int] = {}
        self.admitted = 0
        self.finished = 0
        self.on_finished: Callable[[int], None] | None = None
        """Called (outside the lock) with each seq when all its handlers are done."""
        self.congested: Callable[[], bool] | None = None
        """Also hold fetching while this says so (the sender's queue is long); whoever
        makes it false again calls :meth:`poke`."""

    def __len__(self) -> int:
        return self.admitted - self.finished

    def admit(self, count: int) -> None:
        """``count`` updates entered the engine; each will be finished exactly once."""
        with self._cond:
            self.admitted += count

    def begin(self, seq: int, handlers: int) -> None:
        """``seq`` entered the engine and will be finished ``handlers`` times (0: done)."""
        if handlers <= 0:
            self._done(seq)
            return
        with self._cond:
            self._remaining[seq] = handlers

    def finish(self, seq: int) -> None:
        with self._cond:
            left = self._remaining.get(seq)
            if left is None:
                return
            if left > 1:
                self._remaining[seq] = left - 1
                return
            del self._remaining[seq]
            self.finished += 1
            self._cond.notify_all()
        if self.on_finished is not None:
            self.on_finished(seq)

    def _done(self, seq: int) -> None:
        with self._cond:
            self.finished += 1
            self._cond.notify_all()
        if self.on_finished is not None:
            self.on_finished(seq)

    def poke(self) -> None:
        """Wake the waiters to look again (``congested`` changed)."""
        with self._cond:
            self._cond.notify_all()

    def wait_below(self, limit: int, timeout: float | None = None) -> bool:
        """Block until fewer than ``limit`` updates are in flight (and nothing downstream is
        congested); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        congested = self.congested
        with self._cond:
            while self.admitted - self.finished >= limit or (
                congested is not None and limit > 1 and congested()
            ):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is in flight; False on timeout."""
        return self.wait_below(1, timeout)
