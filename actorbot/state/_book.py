"""The state book: orders handlers' state snapshots against their updates'
acknowledgements, and hands both to the store and the journal (docs/state.md).

At the end of each update a stateful handler stages the encoded state it left, on its
own thread, before it finishes the update; the tracker's ``on_acked`` then comes here
instead of going to the journal. An update's acknowledgement and its snapshots are
*released* together, and only when every snapshot staged before them for the same
handler key was released: a crash then finds, for each key, the state after the last
acknowledged update and replays exactly the updates after it. Acks of one seed's updates
may come out of order (the calls of update 2 resolve before those of update 1): update 2
waits, so state-after-2 never commits while update 1 can still be replayed.

Released work goes, in release order, to one of three sinks:

- the journal itself, when the store shares its SQLite file: acknowledgements and state
  rows in one transaction (exactly-once effects on state);
- a writer thread, for a store that does I/O: rows written first, then the updates
  acknowledged (at-least-once: a crash between the two replays them);
- straight into an in-memory store.

Until a snapshot is committed it stays in an overlay that :meth:`StateBook.load` reads
first, so a successor spawned meanwhile sees it; committed snapshots leave RAM.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import structlog

from actorbot.errors import StateStoreError
from actorbot.journal import Journal, SqliteJournal
from actorbot.state._base import StateRecord, StateStore, seed_key
from actorbot.state._memory import MemoryStore
from actorbot.state._sqlite import SqliteStore, expire_rows, move_rows, write_rows

log = structlog.get_logger("actorbot.state")

Key = tuple[str, str]  # (route, seed key)
_RETRY: Final = (0.05, 2.0)  # first and longest wait between writes to a failing store


class _Group:
    """The snapshots staged for one update (one per stateful handler it reached)."""

    __slots__ = ("acked", "entries", "update_id")

    def __init__(self, update_id: int) -> None:
        self.update_id = update_id
        self.entries: list[_Entry] = []
        self.acked = False


class _Entry:
    __slots__ = ("data", "group", "key", "version")

    def __init__(self, key: Key, data: bytes | None, version: int, group: _Group | None
                 ) -> None:
        self.key = key
        self.data = data
        self.version = version
        self.group = group


class _Overlay:
    """The newest staged snapshot of a key and how many of its snapshots are uncommitted."""

    __slots__ = ("data", "pending", "version")

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.version = 1
        self.pending = 0


class StateBook:
    """One engine run's state bookkeeping over ``store`` and ``journal``; thread-safe."""

    def __init__(self, store: StateStore, journal: Journal, *, sweep_every: float = 3600.0
                 ) -> None:
        self.store = store
        self.journal = journal
        self.sweep_every = sweep_every
        self.shared: SqliteJournal | None = None
        """The journal this store shares its file with (exactly-once), if it does."""
        if (isinstance(store, SqliteStore) and isinstance(journal, SqliteJournal)
                and store.same_file(journal.path)):
            self.shared = journal
        self._lock = threading.Lock()
        self._queues: dict[Key, deque[_Entry]] = {}
        self._groups: dict[int, _Group] = {}
        self._overlay: dict[Key, _Overlay] = {}
        self._moved: dict[str, str] = {}
        self._last_sweep = time.monotonic()
        self._writer: threading.Thread | None = None
        self._work: list[tuple[list[int], list[_Entry]] | tuple[str, str]] = []
        self._cond = threading.Condition(self._lock)
        self._busy = False
        self._closing = False
        self.stats = {"staged": 0, "committed": 0, "write_failures": 0, "held": 0}
        """``held``: acks that had to wait for an earlier update of the same key."""

    @property
    def exactly_once(self) -> bool:
        """Whether effects on state are exactly-once (the store shares the journal's file)."""
        return self.shared is not None

    @property
    def _threaded(self) -> bool:
        return self.shared is None and not isinstance(self.store, MemoryStore)

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> None:
        """After the journal opened: open the store, sweep expired rows, start the writer."""
        self.store.open()
        self.store.expire()
        self._closing = False
        if self._threaded:
            self._writer = threading.Thread(target=self._write_loop, name="actorbot-state")
            self._writer.start()

    def close(self) -> None:
        """After the handlers stopped: write what was released, forget the rest (updates
        never acknowledged: the journal replays them onto the state saved before them)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        with self._lock:
            unsaved = sum(len(q) for q in self._queues.values())
            self._queues.clear()
            self._groups.clear()
            self._overlay.clear()
        if unsaved:
            log.info("state.unsaved", snapshots=unsaved,
                     reason="their updates were not acknowledged: replayed at next start")
        self.store.close()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the writer wrote everything released so far (False on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while (self._work or self._busy) and self._writer is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return self.shared.flush(timeout) if self.shared is not None else True

    # -- handlers' side ---------------------------------------------------------------------

    def load(self, route: str, seed: Any) -> StateRecord | None:
        """The newest state of ``(route, seed)``: staged and not yet committed, else saved."""
        key = seed_key(seed)
        with self._lock:
            key = self._moved.get(key, key)
            overlay = self._overlay.get((route, key))
            if overlay is not None:
                return StateRecord(route, key, overlay.data, overlay.version)
        return self.store.load(route, key)

    def stage(self, route: str, seed: Any, data: bytes | None, version: int,
              update_id: int | None) -> None:
        """A handler's state after its update ``update_id`` (None: after a timer, an
        event or its close, owed to no update); ``data`` None deletes it."""
        key = seed_key(seed)
        with self._lock:
            key = self._moved.get(key, key)
            group = None
            if update_id is not None:
                group = self._groups.get(update_id)
                if group is None:
                    group = self._groups[update_id] = _Group(update_id)
            entry = _Entry((route, key), data, version, group)
            if group is not None:
                group.entries.append(entry)
            queue = self._queues.get(entry.key)
            if queue is None:
                queue = self._queues[entry.key] = deque()
            queue.append(entry)
            overlay = self._overlay.get(entry.key)
            if overlay is None:
                overlay = self._overlay[entry.key] = _Overlay()
            overlay.data, overlay.version = data, version
            overlay.pending += 1
            self.stats["staged"] += 1
            if group is None and len(queue) == 1:
                self._dispatch(*self._release([entry.key]))

    # -- the tracker's side ------------------------------------------------------------------

    def ack(self, update_id: int) -> None:
        """``InFlight.on_acked``: every handler finished ``update_id`` and its calls resolved."""
        with self._lock:
            group = self._groups.pop(update_id, None)
            if group is not None:
                group.acked = True
                ids, entries = self._release([e.key for e in group.entries])
                if update_id not in ids:
                    self.stats["held"] += 1
                self._dispatch(ids, entries)
                return
        self.journal.ack(update_id)  # it changed no state

    def move(self, old: Any, new: Any) -> None:
        """A chat became a supergroup: its state in every route now belongs to ``new``."""
        old_key, new_key = seed_key(old), seed_key(new)
        with self._lock:
            self._moved[old_key] = new_key
            for (route, seed) in [k for k in self._queues if k[1] == old_key]:
                queue = self._queues.pop((route, seed))
                for entry in queue:
                    entry.key = (route, new_key)
                queue.extend(self._queues.pop((route, new_key), ()))
                self._queues[(route, new_key)] = queue
            for (route, seed) in [k for k in self._overlay if k[1] == old_key]:
                self._overlay[(route, new_key)] = self._overlay.pop((route, seed))
            self._dispatch_move(old_key, new_key)

    # -- releasing (under the lock) ----------------------------------------------------------

    def _release(self, keys: list[Key]) -> tuple[list[int], list[_Entry]]:
        """Pop every entry now free: at the head of its key's queue, and either owed to no
        update or to an acknowledged one whose every entry is at the head of its queue."""
        ids: list[int] = []
        out: list[_Entry] = []
        work = list(keys)
        queues = self._queues
        while work:
            key = work.pop()
            queue = queues.get(key)
            while queue:
                head = queue[0]
                group = head.group
                if group is None:
                    out.append(queue.popleft())
                    continue
                if not group.acked or any(queues[e.key][0] is not e for e in group.entries):
                    break
                for entry in group.entries:
                    queues[entry.key].popleft()
                    out.append(entry)
                    if entry.key != key:
                        work.append(entry.key)
                ids.append(group.update_id)
            if queue is not None and not queue:
                del queues[key]
        return ids, out

    def _dispatch(self, ids: list[int], entries: list[_Entry]) -> None:
        if not ids and not entries:
            return
        if self.shared is not None:
            rows = _rows(entries)
            self.shared.commit_with(ids, lambda db: write_rows(db, rows),
                                    lambda: self._committed(entries))
            self._maybe_sweep()
        elif self._threaded:
            self._work.append((ids, entries))
            self._cond.notify_all()
        else:  # in memory: no I/O, write at once (still in release order, under the lock)
            self.store.write(_rows(entries))
            for update_id in ids:
                self.journal.ack(update_id)
            self._committed_locked(entries)
            self._maybe_sweep()

    def _dispatch_move(self, old: str, new: str) -> None:
        if self.shared is not None:
            self.shared.commit_with([], lambda db: move_rows(db, old, new))
        elif self._threaded:
            self._work.append((old, new))
            self._cond.notify_all()
        else:
            self.store.move_keys(old, new)

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if self.store.expire_after is None or now - self._last_sweep < self.sweep_every:
            return
        self._last_sweep = now
        horizon = self.store.horizon()
        if self.shared is not None and horizon is not None:
            self.shared.commit_with([], lambda db: expire_rows(db, horizon))
        elif self.shared is None:
            self.store.expire()

    def _committed(self, entries: list[_Entry]) -> None:
        with self._lock:
            self._committed_locked(entries)

    def _committed_locked(self, entries: list[_Entry]) -> None:
        overlay = self._overlay
        for entry in entries:
            shown = overlay.get(entry.key)
            if shown is not None:
                shown.pending -= 1
                if shown.pending <= 0:
                    del overlay[entry.key]
        self.stats["committed"] += len(entries)

    # -- the writer thread (stores that do I/O) -------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._work and not self._closing:
                    self._cond.wait()
                work, self._work = self._work, []
                if not work:
                    return
                self._busy = True
            try:
                self._write(work)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, work: list[tuple[list[int], list[_Entry]] | tuple[str, str]]) -> None:
        """Write batches in order (a move between them splits them); retry a failing store
        with a growing wait until it works or the engine stops."""
        ids: list[int] = []
        entries: list[_Entry] = []
        for item in [*work, None]:
            if item is not None and isinstance(item[0], list):
                batch_ids, batch_entries = item
                assert isinstance(batch_entries, list)
                ids.extend(batch_ids)
                entries.extend(batch_entries)
                continue
            if ids or entries:
                rows = _rows(entries)
                if not self._retrying(functools.partial(self.store.write, rows)):
                    return  # closing with a store down: the journal replays those updates
                for update_id in ids:
                    self.journal.ack(update_id)
                self._committed(entries)
                ids, entries = [], []
            if item is not None:
                old, new = item
                assert isinstance(old, str)
                assert isinstance(new, str)
                self._retrying(functools.partial(self.store.move_keys, old, new))
        now = time.monotonic()
        if self.store.expire_after is not None and now - self._last_sweep >= self.sweep_every:
            self._last_sweep = now
            self._retrying(self.store.expire)

    def _retrying(self, step: Callable[[], object]) -> bool:
        wait = _RETRY[0]
        while True:
            try:
                step()
                return True
            except StateStoreError as exc:
                self.stats["write_failures"] += 1
                log.error("state.write_failed", store=type(self.store).__name__,
                          error=str(exc), retry_in=wait)
            with self._cond:
                if self._cond.wait_for(lambda: self._closing, wait):
                    return False
            wait = min(wait * 2, _RETRY[1])


def _rows(entries: list[_Entry]) -> list[StateRecord]:
    return [StateRecord(e.key[0], e.key[1], e.data, e.version) for e in entries]
