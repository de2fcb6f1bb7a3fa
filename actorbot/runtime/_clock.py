"""One timer service for every timeout in the engine.

Idle timeouts, scheduled messages and retry delays for any number of actors share one heap
and one thread: a ``threading.Timer`` per actor would cost a thread each. Callbacks run on
the clock's thread and must be quick (typically ``actor_ref.tell(message)``).

:class:`ManualClock` runs the same heap on virtual time that tests advance explicitly, so
timing-dependent behaviour is tested without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from actorbot.errors import StateError

log = structlog.get_logger("actorbot.clock")


class Timer:
    """A scheduled callback; :meth:`cancel` is O(1) (the heap entry is skipped later)."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]):
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Schedules callbacks on monotonic time, from one thread started by :meth:`start`."""

    def __init__(self, *, name: str = "actorbot-clock") -> None:
        self.name = name
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        return self.call_at(self.now() + max(delay, 0.0), callback, *args)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        timer = Timer(when, callback, args)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), timer))
            if self._heap[0][2] is timer:
                self._cond.notify()
        return timer

    @property
    def pending(self) -> int:
        """Scheduled entries, including cancelled ones not yet skipped."""
        return len(self._heap)

    def _pop_due(self, now: float) -> list[Timer]:
        due: list[Timer] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)[2]
            if not timer.cancelled:
                due.append(timer)
        return due

    @staticmethod
    def _fire(timers: list[Timer]) -> None:
        for timer in timers:
            try:
                timer.callback(*timer.args)
            except Exception:  # one bad callback must not stop every timeout
                log.exception("clock.callback_failed", callback=repr(timer.callback))

    def start(self) -> None:
        if self._thread is not None:
            raise StateError("clock already started")
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=self.name)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread; timers not yet due are dropped (an engine may start it again)."""
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._thread = None

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._stopping:
                    now = self.now()
                    due = self._pop_due(now)
                    if due:
                        break
                    cond.wait(self._heap[0][0] - now if self._heap else None)
                if self._stopping:
                    return
            self._fire(due)


class ManualClock(Clock):
    """A clock on virtual time: nothing fires until :meth:`advance` is called."""

    def __init__(self, start: float = 0.0) -> None:
        super().__init__(name="actorbot-manual-clock")
        self._now = start

    def now(self) -> float:
        return self._now

    def start(self) -> None:
        """No thread: timers fire inside :meth:`advance`."""

    def stop(self, timeout: float | None = None) -> None:
        with self._cond:
            self._heap.clear()

    def next_due(self) -> float | None:
        """When the earliest live timer is due (None if none is): lets a test step virtual
        time from one event to the next instead of in fixed ticks."""
        with self._cond:
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order (including ones they schedule)."""
        target = self._now + seconds
        while True:
            with self._cond:
                if not self._heap or self._heap[0][0] > target:
                    break
                when = self._heap[0][0]
                self._now = max(self._now, when)
                due = self._pop_due(when)
            self._fire(due)
        self._now = target
