"""The embedded durable journal: one SQLite file in WAL mode (standard library only).

Recording a batch is one transaction on the caller's thread (the poller, or ``feed``),
finished before Telegram is told to forget the batch. Acknowledgements come from handler
workers, which must never wait on a disk: they are appended to a list that one writer
thread commits in groups, so under load one commit covers many updates. An update
acknowledged but not yet committed when the process dies is replayed: that window, plus
the updates being handled, is exactly what a crash can duplicate.

Whatever Telegram (or ``feed``) sends is storable: payloads are stored as ASCII JSON (a
lone surrogate such as ``"\\ud800"`` survives as its escape), and an ``update_id`` beyond
SQLite's 64-bit integers as its decimal digits in a BLOB (see :func:`_key`). An update
that still cannot be stored is handed on at most once with a logged reason; it never
blocks its batch.

``synchronous="NORMAL"`` (the default) survives a killed process; ``"FULL"`` also survives
a power cut, for an fsync per batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import structlog

from actorbot.errors import ConfigError, StateError
from actorbot.journal._base import DeadLetter, Journal, Keep
from actorbot.updates import update_id as update_id_of

log = structlog.get_logger("actorbot.journal")

_PENDING, _DONE = 0, 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS updates (
    update_id INTEGER NOT NULL,
    state INTEGER NOT NULL,
    payload TEXT,
    received REAL NOT NULL,
    done REAL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS updates_by_id ON updates (update_id);
CREATE INDEX IF NOT EXISTS updates_pending ON updates (state) WHERE state = 0;
CREATE TABLE IF NOT EXISTS dead_letters (
    update_id INTEGER NOT NULL,
    route TEXT NOT NULL,
    error TEXT NOT NULL,
    payload TEXT NOT NULL,
    parked REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
"""


class SqliteJournal(Journal):
    """A durable journal in the SQLite file at ``path`` (created if missing).

    Finished ``update_id``s are remembered for ``dedupe_window`` seconds (at most
    ``dedupe_size`` rows) and then compacted away; Telegram only restarts its ids from a
    random value after a week without updates, so a day-long window never mistakes a new
    sequence for duplicates. An update still pending after ``max_replays`` starts (it
    kills the process every time?) is parked as a dead letter instead of replayed again.
    """

    durable = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        dedupe_window: float = 24 * 3600.0,
        dedupe_size: int = 100_000,
        max_dead_letters: int = 10_000,
        max_replays: int = 5,
        compact_every: float = 10.0,
    ) -> None:
        super().__init__()
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError("synchronous must be 'NORMAL' or 'FULL'")
        self.path = Path(path)
        self.synchronous = synchronous
        self.dedupe_window = dedupe_window
        self.dedupe_size = dedupe_size
        self.max_dead_letters = max_dead_letters
        self.max_replays = max_replays
        self.compact_every = compact_every
        self._db: sqlite3.Connection | None = None
        self._cond = threading.Condition(threading.Lock())
        self._acks: list[int] = []
        self._parks: list[_Park] = []
        self._with: list[_With] = []  # commit_with: work in the acks' transaction
        self._queued = 0  # acks and parks handed to the writer ...
        self._written = 0  # ... and how many of them it committed
        self._closing = False
        self._writer: threading.Thread | None = None
        self._last_compaction = 0.0

    def __repr__(self) -> str:
        return f"SqliteJournal({str(self.path)!r}, pending={self.stats.pending})"

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> list[Any]:
        if self._db is not None:
            raise StateError("this journal is already open")
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self.synchronous}")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(_SCHEMA)
        self._db = db
        replay = self._recover(db)
        self._closing = False
        self._writer = threading.Thread(target=self._write_loop, name="actorbot-journal")
        self._writer.start()
        return replay

    def _recover(self, db: sqlite3.Connection) -> list[Any]:
        now = time.time()
        with self._lock, _transaction(db):
            db.execute("UPDATE updates SET replays = replays + 1 WHERE state = 0")
            rows = db.execute(
                "SELECT update_id, payload, replays FROM updates WHERE state = 0 "
                "ORDER BY update_id").fetchall()
            replay: list[Any] = []
            for key, payload, replays in rows:
                update_id = _unkey(key)
                update = json.loads(payload)
                if replays <= self.max_replays:
                    replay.append(update)
                    continue
                error = f"still pending after {replays - 1} restarts: it may crash the process"
                log.error("journal.parked", update_id=update_id, route="*", error=error)
                _insert_dead(db, (key, "*", error, payload, now))
                db.execute("UPDATE updates SET state = ?, payload = NULL, done = ? "
                           "WHERE update_id = ?", (_DONE, now, key))
            stats = self.stats
            stats.pending = len(replay)
            stats.replayed += len(replay)
            stats.dead_letters = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        return replay

    def close(self) -> None:
        writer, db = self._writer, self._db
        if writer is None or db is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        writer.join()
        self._writer = None
        with self._lock:
            self._compact(db, time.time())
            db.close()
            self._db = None

    # -- recording --------------------------------------------------------------------------

    def record(
        self, updates: Sequence[Any], *, offset: int | None = None, keep: Keep | None = None
    ) -> list[Any]:
        db = self._connection()
        ids = [update_id_of(u) for u in updates]
        known = [i for i in ids if i is not None]
        now = time.time()
        fresh: list[Any] = []
        rows: list[tuple[int | bytes, int, str | None, float, float | None]] = []
        duplicates = 0
        with self._lock, _transaction(db):
            seen = _existing(db, known)
            for update, update_id in zip(updates, ids, strict=True):
                if update_id is None:
                    fresh.append(update)
                    continue
                if update_id in seen:
                    duplicates += 1
                    continue
                seen.add(update_id)
                fresh.append(update)
                payload = _dumps(update) if keep is None or keep(update) else None
                if payload is None:  # at-most-once (or not JSON): remembered for dedupe only
                    rows.append((_key(update_id), _DONE, None, now, now))
                else:
                    rows.append((_key(update_id), _PENDING, payload, now, None))
            db.executemany("INSERT INTO updates (update_id, state, payload, received, done) "
                           "VALUES (?, ?, ?, ?, ?)", rows)
            if offset is not None:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('offset', ?)",
                           (_key(offset),))
        stats = self.stats  # only what was committed counts
        stats.duplicates += duplicates
        stats.recorded += len(rows)
        stats.pending += sum(1 for r in rows if r[1] == _PENDING)
        return fresh

    def next_offset(self) -> int | None:
        db = self._connection()
        with self._lock:
            row = db.execute("SELECT value FROM meta WHERE key = 'offset'").fetchone()
        return None if row is None else int(_unkey(row[0]))

    # -- acknowledgements and dead letters (group-committed by the writer thread) -----------

    def ack(self, update_id: int) -> None:
        with self._cond:
            self._acks.append(update_id)
            self._queued += 1
            self._cond.notify_all()

    def park(self, update: Any, route: str, error: str) -> None:
        update_id = update_id_of(update)
        if update_id is None:
            return
        payload = _dumps(update) or json.dumps(repr(update))
        with self._cond:
            self._parks.append((_key(update_id), _text(route), _text(error), payload,
                                time.time()))
            self._queued += 1
            self._cond.notify_all()

    def commit_with(
        self,
        update_ids: Sequence[int],
        write: Callable[[sqlite3.Connection], object],
        done: Callable[[], None] | None = None,
    ) -> None:
        """Acknowledge ``update_ids`` and run ``write(connection)`` in the same transaction,
        then call ``done()`` on the writer thread. For a state store sharing this file
        (docs/state.md): an update's acknowledgement and the state it left commit together
        or not at all. Cheap, as :meth:`ack`: the writer does the work."""
        with self._cond:
            self._acks.extend(update_ids)
            self._with.append((write, done))
            self._queued += len(update_ids) + 1
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._queued
            while self._written < target and self._writer is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return self._written >= target

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not (self._acks or self._parks or self._with or self._closing):
                    self._cond.wait()
                acks, self._acks = self._acks, []
                parks, self._parks = self._parks, []
                extra, self._with = self._with, []
                if not acks and not parks and not extra:
                    return  # closing, and everything is written
            try:
                self._write(acks, parks, extra)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any bad row
                # Unwritten acks only mean replays after a crash; never stop the engine.
                log.error("journal.write_failed", error=f"{type(exc).__name__}: {exc}",
                          acks=len(acks), parked=len(parks))
            for _, done in extra:  # outside every lock: done() may take its caller's
                if done is not None:
                    done()
            with self._cond:
                self._written += len(acks) + len(parks) + len(extra)
                self._cond.notify_all()

    def _write(
        self, acks: list[int], parks: list[_Park], extra: Sequence[_With] = ()
    ) -> None:
        db = self._connection()
        now = time.time()
        with self._lock, _transaction(db):
            for park in parks:
                _insert_dead(db, park)
            for write, _ in extra:
                write(db)
            cursor = db.executemany(
                "UPDATE updates SET state = 1, payload = NULL, done = ? "
                "WHERE update_id = ? AND state = 0", [(now, _key(i)) for i in acks])
            stats = self.stats
            stats.acked += max(cursor.rowcount, 0)
            stats.pending -= max(cursor.rowcount, 0)
            stats.dead_letters += len(parks)
            if now - self._last_compaction >= self.compact_every:
                self._compact(db, now)

    def _compact(self, db: sqlite3.Connection, now: float) -> None:
        """Forget finished updates past the dedupe window or beyond its size, and the
        oldest dead letters beyond their cap."""
        self._last_compaction = now
        db.execute("DELETE FROM updates WHERE state = 1 AND done < ?",
                   (now - self.dedupe_window,))
        db.execute("DELETE FROM updates WHERE state = 1 AND rowid < (SELECT rowid FROM updates "
                   "ORDER BY rowid DESC LIMIT 1 OFFSET ?)", (self.dedupe_size,))
        db.execute("DELETE FROM dead_letters WHERE rowid < (SELECT rowid FROM dead_letters "
                   "ORDER BY rowid DESC LIMIT 1 OFFSET ?)", (self.max_dead_letters - 1,))
        self.stats.dead_letters = min(self.stats.dead_letters, self.max_dead_letters)

    def revive(self, update_id: int) -> Any | None:
        self.flush()  # a park still queued for the writer counts
        db = self._connection()
        with self._lock, _transaction(db):
            row = db.execute("SELECT rowid, payload FROM dead_letters WHERE update_id = ? "
                             "ORDER BY rowid DESC LIMIT 1", (_key(update_id),)).fetchone()
            if row is None:
                return None
            rowid, payload = row
            db.execute("DELETE FROM dead_letters WHERE rowid = ?", (rowid,))
            db.execute("INSERT INTO updates (update_id, state, payload, received) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (update_id) DO UPDATE SET "
                       "state = excluded.state, payload = excluded.payload, done = NULL, "
                       "replays = 0", (_key(update_id), _PENDING, payload, time.time()))
            self.stats.dead_letters -= 1
            self.stats.pending += 1
        return json.loads(payload)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self._read("SELECT update_id, route, error, payload, parked FROM dead_letters "
                          "ORDER BY rowid DESC LIMIT ?", (limit,))
        return [DeadLetter(_unkey(i), r, e, json.loads(p), t) for i, r, e, p, t in rows]

    def count(self, state: Literal["pending", "done"]) -> int:
        """Rows in each state (for tests and operators; works while closed, too)."""
        rows = self._read("SELECT count(*) FROM updates WHERE state = ?",
                          (_PENDING if state == "pending" else _DONE,))
        return int(rows[0][0])

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            if self._db is not None:
                return self._db.execute(sql, params).fetchall()
        if not self.path.exists():
            return [] if "count" not in sql else [(0,)]
        db = sqlite3.connect(self.path)
        try:
            db.executescript(_SCHEMA)
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StateError("the journal is not open (the engine opens it at start)")
        return self._db


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Any:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


_Park = tuple[int | bytes, str, str, str, float]  # key, route, error, payload, parked at
_With = tuple[Callable[[sqlite3.Connection], object], Callable[[], None] | None]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _key(update_id: int) -> int | bytes:
    """How ``update_id`` is stored: SQLite integers are 64-bit, so a larger id becomes its
    decimal digits in a BLOB (never converted by column affinity, unique like any value,
    sorted after every integer, as ids above 2**63 - 1 are)."""
    if _INT64_MIN <= update_id <= _INT64_MAX:
        return update_id
    return str(update_id).encode("ascii")


def _unkey(value: int | bytes) -> int:
    return int(value) if isinstance(value, bytes) else value


def _text(value: str) -> str:
    """``value`` encodable as UTF-8 (a lone surrogate in an error message becomes its
    escape), as SQLite needs it."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _insert_dead(db: sqlite3.Connection, park: _Park) -> None:
    db.execute("INSERT INTO dead_letters (update_id, route, error, payload, parked) "
               "VALUES (?, ?, ?, ?, ?)", park)


def _existing(db: sqlite3.Connection, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    found: set[int] = set()
    keys = [_key(i) for i in ids]
    for start in range(0, len(keys), 500):  # SQLite's bound on host parameters
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(_unkey(row[0]) for row in db.execute(
            f"SELECT update_id FROM updates WHERE update_id IN ({marks})", chunk))  # noqa: S608
    return found


def _dumps(update: Any) -> str | None:
    try:
        return json.dumps(update, separators=(",", ":"))  # ASCII: lone surrogates survive
    except (TypeError, ValueError, RecursionError) as exc:  # fed from Python, not Telegram
        log.warning("journal.not_serializable", update_id=update_id_of(update),
                    error=f"{type(exc).__name__}: {exc}")
        return None
