"""Listeners: how a telepot delegate thread waits for its next message.

telepot broadcast every message to every listener's queue through a ``Microphone``, and
a delegate picked what its captures matched. Here a delegate's listener reads a
:class:`Feed` instead: its handler actor hands over the updates the router routed to its
seed, one at a time, and waits until the delegate has taken each one and is waiting
again (or has ended). That rendezvous is what telepot lacked:

- an update reaches the delegate only while it is provably waiting, so a delegate that
  times out or returns at the same moment never swallows it: the actor starts a new
  delegate with it instead (telepot's ``is_alive()`` check raced with the exit);
- an update counts as handled only once the delegate is done with it, so per-chat order
  holds and the engine's graceful stop drains delegates too.

``Microphone`` and ``Listener(mic, queue)`` still work as in telepot for listeners a
program creates outside delegates (``bot.create_listener()``): the bot's microphone
hears every message.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

import structlog

from actorbot.compat.telepot import filtering
from actorbot.compat.telepot.exception import StopListening, WaitTooLong

log = structlog.get_logger("actorbot.compat.telepot")

_EMPTY = object()
_FOREIGN_POLL = 0.05  # seconds between is_alive() checks of a delegate we cannot hook


class Outcome(Enum):
    TAKEN = 1  # the delegate took the message and is waiting again, or ended after it
    EXITED = 2  # the delegate ended without taking it: start a new one with it
    CLOSED = 3  # the feed was closed (the bot is stopping)


class Feed:
    """A one-slot rendezvous between a handler actor (``offer``) and a delegate (``get``)."""

    def __init__(self, is_alive: Callable[[], bool] | None = None) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._item: Any = _EMPTY
        self._waiting = False
        self._done = False
        self._closed = False
        self._is_alive = is_alive  # for delegates whose exit we cannot hear about

    # -- the delegate's side ---------------------------------------------------------------

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The next message; ``queue.Empty`` after ``timeout``; StopListening once closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            try:
                while True:
                    if self._closed:
                        raise StopListening()
                    if self._item is not _EMPTY:
                        item, self._item = self._item, _EMPTY
                        self._cond.notify_all()
                        return item
                    left = None if deadline is None else deadline - time.monotonic()
                    if not block or (left is not None and left <= 0):
                        raise queue.Empty
                    if not self._waiting:
                        self._waiting = True
                        self._cond.notify_all()
                    self._cond.wait(left)
            finally:
                self._waiting = False

    def exited(self) -> None:
        """The delegate ended: nothing will be taken any more."""
        with self._cond:
            self._done = True
            self._cond.notify_all()

    # -- the actor's side ----------------------------------------------------------------

    def watch(self, is_alive: Callable[[], bool]) -> None:
        """Learn that the delegate ended by asking ``is_alive()`` (it cannot call ``exited``)."""
        with self._cond:
            self._is_alive = is_alive
            self._cond.notify_all()

    def _ready(self) -> bool:
        if not (self._waiting or self._done or self._closed) and self._is_alive is not None:
            self._done = not self._is_alive()
        return self._waiting or self._done or self._closed

    def _wait(self, until: Callable[[], bool]) -> None:
        poll = _FOREIGN_POLL if self._is_alive is not None else None
        while not until():
            self._cond.wait(poll)

    def settle(self) -> None:
        """Block until the delegate waits for a message or has ended."""
        with self._cond:
            self._wait(self._ready)

    def offer(self, msg: Any) -> Outcome:
        """Hand ``msg`` to the delegate once it waits; return once it is done with it."""
        with self._cond:
            self._wait(self._ready)
            if self._closed:
                return Outcome.CLOSED
            if self._done:
                return Outcome.EXITED
            self._item = msg
            self._cond.notify_all()
            self._wait(lambda: self._item is not msg or self._done or self._closed)
            if self._item is msg:  # it ended (or we closed) without taking it
                self._item = _EMPTY
                return Outcome.CLOSED if self._closed else Outcome.EXITED
            self._wait(self._ready)
            return Outcome.TAKEN

    def close(self) -> None:
        """Make the delegate's ``get`` raise StopListening and release a waiting ``offer``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def done(self) -> bool:
        with self._cond:
            return self._done


class _Source(Protocol):
    def get(self, block: bool = True, timeout: float | None = None) -> Any: ...


class Microphone:
    """Puts every message it is sent into each added queue (telepot's broadcast)."""

    def __init__(self) -> None:
        self._queues: set[Any] = set()
        self._lock = threading.Lock()

    def add(self, q: Any) -> None:
        with self._lock:
            self._queues.add(q)

    def remove(self, q: Any) -> None:
        with self._lock:
            self._queues.discard(q)

    def __bool__(self) -> bool:
        return bool(self._queues)

    def send(self, msg: Any) -> None:
        with self._lock:
            queues = list(self._queues)
        for q in queues:
            try:
                q.put_nowait(msg)  # a queue.Queue, or an asyncio.Queue for asyncio listeners
            except (queue.Full, asyncio.QueueFull):
                log.warning("telepot.listener_full")


class Listener:
    """Waits for a message matching any of its captures (see :mod:`.filtering`)."""

    def __init__(self, mic: Microphone | None, q: _Source) -> None:
        self._mic = mic
        self._queue = q
        self._captures: list[Any] = []
        self._options: dict[str, Any] = {"timeout": None}

    def __del__(self) -> None:
        if self._mic is not None:
            self._mic.remove(self._queue)

    def set_options(self, **name_values: Any) -> None:
        """``timeout``: seconds ``wait()`` waits before raising ``WaitTooLong`` (None: forever)."""
        self._options.update(name_values)

    def get_options(self, *names: str) -> tuple[Any, ...]:
        return tuple(self._options[n] for n in names)

    def capture(self, *patterns: Any, **criteria: Any) -> None:
        """Add keyword criteria (telepot 6-8) or a pattern list (telepot 12)."""
        self._captures.extend(list(p) for p in patterns)
        if criteria:
            self._captures.append(criteria)

    def cancel_capture(self, *patterns: Any, **criteria: Any) -> None:
        """Remove captures equal to the ones given."""
        gone = [list(p) for p in patterns] + ([criteria] if criteria else [])
        self._captures = [c for c in self._captures if c not in gone]

    def clear_captures(self) -> None:
        self._captures.clear()

    def list_captures(self) -> list[Any]:
        return self._captures

    def matches(self, msg: Any) -> bool:
        """Whether ``msg`` meets any capture."""
        for c in self._captures:
            if isinstance(c, dict) and filtering.ok(msg, **c):
                return True
            if isinstance(c, list) and filtering.match_all(msg, c):
                return True
        return False

    def wait(self) -> Any:
        """Block until a matching message comes; ``WaitTooLong`` after the timeout option."""
        if not self._captures:
            raise RuntimeError("Listener has no capture criteria, will wait forever.")
        timeout: float | None = self._options.get("timeout")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                msg = self._queue.get(block=True, timeout=left)
            except queue.Empty:
                raise WaitTooLong(timeout) from None
            if self.matches(msg):
                return msg
