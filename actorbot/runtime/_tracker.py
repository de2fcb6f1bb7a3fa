"""Updates in flight: entered the engine, not yet finished by every handler they reached.

Updates are *admitted* when they enter (the poller hands a batch over, or ``feed``), so the
count includes batches the router has not looked at yet and the poller's bound is exact.
The router then says how many handlers each update reaches and the handlers finish it. A
lock and a condition instead of messages: a per-update "done" message to the router would
double its traffic.

An update is finished when every handler it reached returned from it *and* every Bot API
call those handlers made while handling it has resolved: only then is its reply out, so
only then may the journal forget it. While a handler runs an update, :func:`holding`
names it, and the sender holds the update open for each call made meanwhile.

A call that finally fails finishes its hold with a :class:`Failure`. When the update is
then finished, a failure nobody handled (no handler saw the error) makes the tracker tell
:attr:`InFlight.on_failed` instead of :attr:`InFlight.on_acked`: the journal parks the
update as a dead letter rather than forgetting it as done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# A context variable, not a thread-local: async handlers interleave on one event loop
# thread, each in its own task, and each task has its own copy of the context.
_held: ContextVar[tuple[InFlight, int] | None] = ContextVar("actorbot_held", default=None)


def holding() -> tuple[InFlight, int] | None:
    """The update the calling handler is handling, if any (see :meth:`InFlight.run`): per
    thread for handlers on threads, per task for ``async`` handlers on the event loop."""
    return _held.get()


@dataclass(frozen=True, slots=True)
class Failure:
    """A call made for an update failed: ``error`` says how (no text, no token);
    ``handled()`` says, when the update is finished, whether a handler saw the error."""

    error: str
    handled: Callable[[], bool]


class InFlight:
    """Counts updates in flight; ``wait_below`` and ``wait_idle`` block without polling."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._remaining: dict[int, int] = {}
        self._keys: dict[int, int] = {}
        self._abandoned: set[int] = set()
        self._updates: dict[int, Any] = {}
        self._failures: dict[int, list[Failure]] = {}
        self.admitted = 0
        self.finished = 0
        self._waiting: list[int] = []
        """The limit each blocked :meth:`wait_below` waits to go under: a finish wakes them
        only when one of them may go on, not for every update (the poller waits while a
        thousand updates are in flight, and would wake a thousand times for nothing)."""
        self.hook_failures = 0
        """Exceptions from tolerated hooks (logged, the update counted as handled)."""
        self.on_acked: Callable[[int], None] | None = None
        """Called (outside the lock) with the key given to :meth:`begin` once every handler
        finished the update, unless one of them :meth:`abandon`-ed it or a call made for
        it failed unhandled (then :attr:`on_failed`)."""
        self.on_failed: Callable[[int, Any, str], None] | None = None
        """Called (outside the lock) with the key, the update given to :meth:`begin` and
        the first unhandled call error, instead of :attr:`on_acked`."""
        self.congested: Callable[[], bool] | None = None
        """Also hold fetching while this says so (the sender's queue is long); whoever
        makes it false again calls :meth:`poke`."""

    def __len__(self) -> int:
        return self.admitted - self.finished

    def admit(self, count: int) -> None:
        """``count`` updates entered the engine; each will be finished exactly once."""
        with self._cond:
            self.admitted += count

    def begin(
        self, seq: int, handlers: int, key: int | None = None, update: Any = None
    ) -> None:
        """``seq`` entered the engine and will be finished ``handlers`` times (0: done);
        ``key`` (its ``update_id``) is what :attr:`on_acked` is told, ``update`` what
        :attr:`on_failed` is given to park."""
        if handlers <= 0:
            with self._cond:
                self.finished += 1
                self._wake()
            if key is not None and self.on_acked is not None:
                self.on_acked(key)
            return
        with self._cond:
            self._remaining[seq] = handlers
            if key is not None:
                self._keys[seq] = key
                self._updates[seq] = update

    def key_of(self, seq: int) -> int | None:
        """The ``update_id`` of ``seq`` while it is in flight (for log lines)."""
        with self._cond:
            return self._keys.get(seq)

    def hold(self, seq: int) -> None:
        """One more :meth:`finish` is due for ``seq`` (a call made while handling it)."""
        with self._cond:
            if seq in self._remaining:
                self._remaining[seq] += 1

    def finish(self, seq: int, failure: Failure | None = None) -> None:
        """One of the handlers or calls of ``seq`` is done (``failure``: a call failed)."""
        with self._cond:
            left = self._remaining.get(seq)
            if left is None:
                return
            if failure is not None and seq in self._keys:
                self._failures.setdefault(seq, []).append(failure)
            if left > 1:
                self._remaining[seq] = left - 1
                return
            del self._remaining[seq]
            key = self._keys.pop(seq, None)
            update = self._updates.pop(seq, None)
            failures = self._failures.pop(seq, None) if self._failures else None
            if self._abandoned and seq in self._abandoned:
                self._abandoned.discard(seq)
                key = None
            self.finished += 1
            self._wake()
        if key is None:
            return
        unhandled = [f for f in failures or () if not f.handled()]
        if unhandled and self.on_failed is not None:
            self.on_failed(key, update, unhandled[0].error)
        elif self.on_acked is not None:
            self.on_acked(key)

    def _wake(self) -> None:
        """(Under the lock.) Wake the waiters if the count went below one's limit."""
        if self._waiting and self.admitted - self.finished < max(self._waiting):
            self._cond.notify_all()

    def abandon(self, seq: int) -> None:
        """Finish ``seq`` for this handler without acknowledging the update: it was not
        handled (the engine is stopping) and the journal must replay it."""
        with self._cond:
            if seq in self._remaining:
                self._abandoned.add(seq)
        self.finish(seq)

    def run(self, seq: int) -> None:
        """The calling thread (or task) now handles ``seq``, until :meth:`ran`."""
        _held.set((self, seq))

    @staticmethod
    def ran() -> None:
        _held.set(None)

    def note_hook_failure(self) -> None:
        with self._cond:
            self.hook_failures += 1

    def poke(self) -> None:
        """Wake the waiters to look again (``congested`` changed)."""
        with self._cond:
            self._cond.notify_all()

    def wait_below(
        self, limit: int, timeout: float | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> bool:
        """Block until fewer than ``limit`` updates are in flight (and nothing downstream is
        congested); False on timeout, or once ``cancelled()`` is true (whoever makes it
        true calls :meth:`poke`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        congested = self.congested
        with self._cond:
            self._waiting.append(limit)
            try:
                return self._wait_below(limit, deadline, congested, cancelled)
            finally:
                self._waiting.remove(limit)

    def _wait_below(
        self, limit: int, deadline: float | None, congested: Callable[[], bool] | None,
        cancelled: Callable[[], bool] | None,
    ) -> bool:
        """(Under the lock, registered in ``_waiting``.) See :meth:`wait_below`."""
        while self.admitted - self.finished >= limit or (
            congested is not None and limit > 1 and congested()
        ):
            if cancelled is not None and cancelled():
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._cond.wait(remaining)
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is in flight; False on timeout."""
        return self.wait_below(1, timeout)
