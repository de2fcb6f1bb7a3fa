"""The journal interface: what the engine needs to hand over updates at least once.

The engine records each batch *before* Telegram is told to forget it (the next
``getUpdates`` offset, or the 200 answer to a webhook), acknowledges an update when every
handler it reached has finished with it (including the calls it made), and replays what
was never acknowledged at the next start. The journal also remembers recently finished
``update_id``s, so an update delivered again (a webhook retry, a poll that was never
confirmed) is not handled twice.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Delivery = Literal["at_least_once", "at_most_once"]
"""``at_least_once``: replayed after a crash, retried on failure, parked when poisonous.
``at_most_once``: handled when it first arrives, never replayed nor retried."""

DELIVERIES: tuple[Delivery, ...] = ("at_least_once", "at_most_once")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An update a handler failed on every time: kept with the error, never retried."""

    update_id: int
    route: str
    error: str
    update: Any
    parked_at: float


@dataclass
class JournalStats:
    """Counters for ``engine.stats()``; written under the journal's lock."""

    pending: int = 0
    recorded: int = 0
    duplicates: int = 0
    acked: int = 0
    replayed: int = 0
    dead_letters: int = 0


Keep = Callable[[Any], bool]
"""Says whether an update is kept pending until acknowledged (False: at-most-once)."""


class Journal(ABC):
    """Where updates wait between "received" and "handled"; see the module docstring.

    Thread-safe: the poller and ``feed`` record, handler workers acknowledge and park.
    """

    durable: bool = False
    """True if what :meth:`record` returned survives the process (a crash)."""

    def __init__(self) -> None:
        self.stats = JournalStats()
        self._lock = threading.Lock()

    @abstractmethod
    def open(self) -> list[Any]:
        """Start of an engine run: the updates never acknowledged, in ``update_id`` order."""

    @abstractmethod
    def record(
        self, updates: Sequence[Any], *, offset: int | None = None, keep: Keep | None = None
    ) -> list[Any]:
        """Note one batch; return the updates to handle (all but the duplicates), in order.

        Once it returns, every returned update with an integer ``update_id`` is pending
        (durably, for a durable journal) unless ``keep`` says it is at-most-once. Updates
        without one are returned as they are: the router logs and skips them. ``offset``
        is the next ``getUpdates`` offset, remembered for the next start.
        """

    @abstractmethod
    def ack(self, update_id: int) -> None:
        """Every handler finished with this update. Cheap: never blocks on I/O."""

    @abstractmethod
    def park(self, update: Any, route: str, error: str) -> None:
        """Keep a poisonous update as a dead letter (it stays acknowledged by the caller)."""

    @abstractmethod
    def revive(self, update_id: int) -> Any | None:
        """Take the newest dead letter of ``update_id`` back: it is pending again (so an
        operator's replay survives a crash too) and returned; None if there is none."""

    @abstractmethod
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The most recently parked updates, newest first."""

    @abstractmethod
    def next_offset(self) -> int | None:
        """The ``getUpdates`` offset recorded last, or None."""

    def flush(self, timeout: float | None = None) -> bool:
        """Make every acknowledgement so far durable; False on timeout."""
        return True

    @abstractmethod
    def close(self) -> None:
        """End of an engine run: flush, release files and threads. :meth:`open` may follow."""
