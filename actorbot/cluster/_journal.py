"""The two journals that put Redis Streams under the engine's delivery guarantees.

:class:`Appender` is the intake's journal: "recorded" means appended to a partition
stream, so the poller moves its ``getUpdates`` offset (confirming the batch to Telegram)
and the webhook answers 200 only once Redis has the updates. One Lua script per batch
appends them, remembers their ``update_id`` (a re-fetched batch or a webhook retry is not
appended twice) and stores the next offset, all or nothing, and only while this intake
holds the leader lease (a deposed poller cannot write).

:class:`StreamJournal` is a worker's journal: the engine acknowledges an update once
every handler finished it and every call it made resolved, and only then is its stream
entry XACKed (by the worker's keeper thread: ``ack`` must not block on I/O). What is not
acknowledged stays in the consumer group's pending list, where the next owner of the
partition finds it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from actorbot.errors import LeaseLost
from actorbot.journal import DeadLetter, Journal, Keep, MemoryJournal
from actorbot.updates import update_id as update_id_of

if TYPE_CHECKING:
    import redis

    from actorbot.cluster._settings import Cluster, Keys
    from actorbot.state import StateRecord, StateStore

FIELD: Final = "u"
"""The stream entry field holding the update's JSON."""

_APPEND: Final = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LEASELOST this intake is not the leader')
end
local appended = 0
for i = 4, #ARGV, 3 do
  if ARGV[i + 1] == '' or redis.call('SET', ARGV[i + 1], '1', 'NX', 'EX', ARGV[3]) then
    redis.call('XADD', ARGV[i], '*', 'u', ARGV[i + 2])
    appended = appended + 1
  end
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2])
end
return appended
"""
"""KEYS: leader, offset; ARGV: owner ('' = no fencing), next offset or '', seen TTL,
then (stream, seen key or '', JSON) per update."""


class Appender(Journal):
    """The intake's journal (module docstring): ``record`` appends, nothing is handled here,
    so it returns no update for the intake's engine to route."""

    durable = True

    def __init__(self, client: redis.Redis, cluster: Cluster, keys: Keys,
                 owner: str | None) -> None:
        super().__init__()
        self._cluster = cluster
        self._keys = keys
        self._owner = owner or ""
        self._client = client
        self._append = client.register_script(_APPEND)
        self.appended = 0
        self._offset: int | None = None

    def open(self) -> list[Any]:
        return []

    def record(
        self, updates: Sequence[Any], *, offset: int | None = None, keep: Keep | None = None
    ) -> list[Any]:
        keys, cluster = self._keys, self._cluster
        args: list[str | int] = [self._owner, "" if offset is None else offset,
                                 int(cluster.seen_ttl)]
        for update in updates:
            uid = update_id_of(update)
            args += [keys.stream(cluster.partition_of(update)),
                     "" if uid is None else keys.seen(uid),
                     json.dumps(update, separators=(",", ":"), ensure_ascii=False)]
        try:
            appended = int(self._append(keys=[keys.leader, keys.offset], args=args))
        except Exception as exc:
            if "LEASELOST" in str(exc):
                raise LeaseLost("this intake lost its leader lease: it must not append") \
                    from exc
            raise
        with self._lock:
            self.appended += appended
            self.stats.recorded += appended
            self.stats.duplicates += len(updates) - appended
            restarted = (offset is not None and self._offset is not None
                         and offset < self._offset)
            if offset is not None:
                self._offset = offset
        # Telegram restarted its update_ids (after a week without updates): the poller
        # moves on only if something came back; the intake's engine routes it nowhere.
        return list(updates) if restarted and appended else []

    def ack(self, update_id: int) -> None:
        """Nothing is handled by the intake."""

    def park(self, update: Any, route: str, error: str) -> None:
        """Nothing is handled by the intake."""

    def revive(self, update_id: int) -> Any | None:
        return None

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return []

    def next_offset(self) -> int | None:
        value = self._client.get(self._keys.offset)
        self._offset = None if value is None else int(value)
        return self._offset

    def close(self) -> None:
        """The client belongs to the intake."""


Entry = tuple[int, str]
"""(partition, stream entry id)."""


@dataclass(frozen=True, slots=True)
class StateCommit:
    """Entries to XACK and state rows to write in one ``MULTI`` (then ``done()``)."""

    entries: list[Entry]
    rows: list[StateRecord]
    done: Callable[[], None]


class StreamJournal(MemoryJournal):
    """A worker's journal (module docstring): dedupe and dead letters as in memory, plus
    the map update -> stream entries; ``done`` is told which entries are finished, or
    given a :class:`StateCommit` when the state book hands over an update's state with
    its acknowledgement (for ``state_store``, a RedisStore on the streams' Redis): the
    keeper then XACKs and writes both in one transaction, so effects on state are
    exactly-once even across a kill."""

    durable = True  # the streams keep what is not acknowledged, across any crash

    def __init__(self, done: Callable[[Any], None],
                 dead: Callable[[DeadLetter], None]) -> None:
        super().__init__()
        self._done_cb = done
        self._dead_cb = dead
        self.state_store: StateStore | None = None
        self._entries: dict[int, list[Entry]] = {}
        self._entries_lock = threading.Lock()

    def open(self) -> list[Any]:
        """Nothing to replay from memory: a new owner replays from the streams."""
        return []

    def expect(self, partition: int, entries: Sequence[tuple[str, Any]]) -> list[Entry]:
        """Entries about to be fed; returns those that cannot be (no ``update_id``): they
        are finished at once, as the router skips such updates."""
        orphans: list[Entry] = []
        with self._entries_lock:
            for entry_id, update in entries:
                uid = update_id_of(update)
                if uid is None:
                    orphans.append((partition, entry_id))
                else:
                    self._entries.setdefault(uid, []).append((partition, entry_id))
        return orphans

    def forget(self, updates: Sequence[Any]) -> list[Entry]:
        """Take back what :meth:`expect` noted for updates that were not fed after all."""
        taken: list[Entry] = []
        with self._entries_lock:
            for update in updates:
                uid = update_id_of(update)
                if uid is not None:
                    taken += self._entries.pop(uid, [])
        return taken

    def record(
        self, updates: Sequence[Any], *, offset: int | None = None, keep: Keep | None = None
    ) -> list[Any]:
        fresh = super().record(updates, offset=offset, keep=keep)
        finished: list[Entry] = []
        with self._lock:
            done = [u for u in updates
                    if (uid := update_id_of(u)) is not None and uid not in self._pending]
        if done:  # duplicates of finished updates, and at-most-once ones: finished now
            with self._entries_lock:
                for update in done:
                    finished += self._entries.pop(update_id_of(update), [])  # type: ignore[arg-type]
        if finished:
            self._done_cb(finished)
        return fresh

    def ack(self, update_id: int) -> None:
        super().ack(update_id)
        with self._entries_lock:
            entries = self._entries.pop(update_id, None)
        if entries:
            self._done_cb(entries)

    def commits_state_of(self, store: StateStore) -> bool:
        return store is self.state_store

    def commit_state(self, update_ids: list[int], rows: list[StateRecord],
                     done: Callable[[], None]) -> None:
        entries: list[Entry] = []
        for update_id in update_ids:
            super().ack(update_id)
        with self._entries_lock:
            for update_id in update_ids:
                entries += self._entries.pop(update_id, [])
        self._done_cb(StateCommit(entries, rows, done))

    def park(self, update: Any, route: str, error: str) -> None:
        super().park(update, route, error)
        with self._lock:
            dead = self._dead[-1] if self._dead else None
        if dead is not None and dead.update is update:
            self._dead_cb(dead)
