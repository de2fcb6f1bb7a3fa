"""The in-memory journal: dedupe, retries and dead letters, but nothing survives a crash.

It is the engine's default. Across a graceful stop and a new :meth:`Engine.start` of the
same engine the pending updates are replayed; across a crash they are lost, which is
at-most-once delivery, the trade-off every other Python framework makes silently.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any

from actorbot.journal._base import DeadLetter, Journal, Keep
from actorbot.updates import update_id as update_id_of


class MemoryJournal(Journal):
    """Pending updates in a dict; finished ``update_id``s remembered for ``dedupe_window``
    seconds, at most ``dedupe_size`` of them; the last ``max_dead_letters`` dead letters."""

    durable = False

    def __init__(
        self,
        *,
        dedupe_window: float = 24 * 3600.0,
        dedupe_size: int = 100_000,
        max_dead_letters: int = 1000,
    ) -> None:
        super().__init__()
        self.dedupe_window = dedupe_window
        self.dedupe_size = dedupe_size
        self._pending: dict[int, Any] = {}
        self._done: OrderedDict[int, float] = OrderedDict()
        self._dead: deque[DeadLetter] = deque(maxlen=max_dead_letters)
        self._offset: int | None = None

    def open(self) -> list[Any]:
        with self._lock:
            replay = [self._pending[k] for k in sorted(self._pending)]
            self.stats.replayed += len(replay)
            return replay

    def record(
        self, updates: Sequence[Any], *, offset: int | None = None, keep: Keep | None = None
    ) -> list[Any]:
        fresh: list[Any] = []
        now = time.monotonic()
        stats = self.stats
        with self._lock:
            for update in updates:
                update_id = update_id_of(update)
                if update_id is None:
                    fresh.append(update)
                    continue
                if update_id in self._pending or update_id in self._done:
                    stats.duplicates += 1
                    continue
                if keep is None or keep(update):
                    self._pending[update_id] = update
                else:
                    self._remember(update_id, now)
                fresh.append(update)
                stats.recorded += 1
            if offset is not None:
                self._offset = offset
            stats.pending = len(self._pending)
        return fresh

    def ack(self, update_id: int) -> None:
        with self._lock:
            if self._pending.pop(update_id, None) is None:
                return
            self._remember(update_id, time.monotonic())
            self.stats.acked += 1
            self.stats.pending = len(self._pending)

    def _remember(self, update_id: int, now: float) -> None:
        done = self._done
        done[update_id] = now
        horizon = now - self.dedupe_window
        while done and (len(done) > self.dedupe_size or next(iter(done.values())) < horizon):
            done.popitem(last=False)

    def park(self, update: Any, route: str, error: str) -> None:
        update_id = update_id_of(update)
        if update_id is None:
            return
        with self._lock:
            self._dead.append(DeadLetter(update_id, route, error, update, time.time()))
            self.stats.dead_letters += 1

    def revive(self, update_id: int) -> Any | None:
        with self._lock:
            for dead in reversed(self._dead):
                if dead.update_id == update_id:
                    self._dead.remove(dead)
                    self._done.pop(update_id, None)
                    self._pending[update_id] = dead.update
                    self.stats.dead_letters -= 1
                    self.stats.pending = len(self._pending)
                    return dead.update
        return None

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            return list(reversed(self._dead))[:limit]

    def next_offset(self) -> int | None:
        return self._offset

    def close(self) -> None:
        """Nothing to release: pending updates stay for the next :meth:`open`."""

    def __repr__(self) -> str:
        return f"MemoryJournal(pending={self.stats.pending})"
