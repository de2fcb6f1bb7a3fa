"""The embedded durable state store: a ``state`` table in a SQLite file (WAL mode).

Given the same file as a :class:`~actorbot.journal.SqliteJournal`, the engine writes each
update's state rows in the transaction that acknowledges the update
(:meth:`SqliteJournal.commit_with`), which is what makes effects on state exactly-once
(docs/state.md). Alone, it writes through its own connection, before the updates are
acknowledged: at-least-once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from actorbot.errors import StateStoreError
from actorbot.state._base import StateRecord, StateStore, seed_key

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS state (
    seed TEXT NOT NULL,
    route TEXT NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    touched REAL NOT NULL,
    PRIMARY KEY (seed, route)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS state_touched ON state (touched);
"""


class SqliteStore(StateStore):
    """State rows in the SQLite file at ``path`` (created if missing); ``expire_after``
    seconds without a write forget a row (swept at open and every ``sweep_every`` s)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        expire_after: float | None = None,
        sweep_every: float = 3600.0,
    ) -> None:
        super().__init__(expire_after=expire_after)
        self.path = Path(path)
        self.sweep_every = sweep_every
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._last_sweep = 0.0

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def same_file(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` names this store's file (so a journal can share it)."""
        return os.path.abspath(path) == os.path.abspath(self.path)

    def open(self) -> None:
        with self._lock:
            if self._db is None:
                self._db = _connect(self.path)
        self.expire()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _run(self, work: Any) -> Any:
        """Run ``work(db)`` on the open connection, or on a short-lived one (admin tools)."""
        with self._lock:
            db = self._db
            try:
                if db is not None:
                    return work(db)
                db = _connect(self.path)
                try:
                    return work(db)
                finally:
                    db.close()
            except sqlite3.Error as exc:
                raise StateStoreError(f"state store {self.path}: {exc}") from exc

    def load(self, route: str, seed: str) -> StateRecord | None:
        row = self._run(lambda db: db.execute(
            "SELECT version, data, touched FROM state WHERE seed = ? AND route = ?",
            (seed, route)).fetchone())
        if row is None:
            return None
        return StateRecord(route, seed, bytes(row[1]), row[0], row[2])

    def write(self, records: Sequence[StateRecord]) -> None:
        self._run(lambda db: _in_transaction(db, lambda: write_rows(db, records)))
        now = time.time()
        if self.expire_after is not None and now - self._last_sweep >= self.sweep_every:
            self.expire(now)

    def delete(self, seed: Any, route: str | None = None) -> int:
        key = seed_key(seed)
        if route is None:
            return int(self._run(lambda db: db.execute(
                "DELETE FROM state WHERE seed = ?", (key,)).rowcount))
        return int(self._run(lambda db: db.execute(
            "DELETE FROM state WHERE seed = ? AND route = ?", (key, route)).rowcount))

    def move_keys(self, old_key: str, new_key: str) -> int:
        return int(self._run(lambda db: _in_transaction(
            db, lambda: move_rows(db, old_key, new_key))))

    def records(self, route: str | None = None) -> Iterator[StateRecord]:
        sql = "SELECT route, seed, version, data, touched FROM state"
        params: tuple[Any, ...] = ()
        if route is not None:
            sql, params = sql + " WHERE route = ?", (route,)
        rows = self._run(lambda db: db.execute(sql, params).fetchall())
        return (StateRecord(r, s, bytes(d), v, t) for r, s, v, d, t in rows)

    def expire(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        self._last_sweep = now
        horizon = self.horizon(now)
        if horizon is None:
            return 0
        return int(self._run(lambda db: expire_rows(db, horizon)))


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(SCHEMA)
    return db


def _in_transaction(db: sqlite3.Connection, work: Any) -> Any:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work()
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def write_rows(db: sqlite3.Connection, records: Sequence[StateRecord]) -> None:
    """Upsert (or delete) ``records`` in order inside the caller's transaction: the shared
    journal calls it in the transaction that acknowledges their updates."""
    now = time.time()
    for record in records:
        if record.data is None:
            db.execute("DELETE FROM state WHERE seed = ? AND route = ?",
                       (record.seed, record.route))
        else:
            db.execute("INSERT OR REPLACE INTO state (seed, route, version, data, touched) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (record.seed, record.route, record.version, record.data, now))


def move_rows(db: sqlite3.Connection, old: str, new: str) -> int:
    """Give every route's row of seed ``old`` to ``new`` (replacing ``new``'s)."""
    db.execute("DELETE FROM state WHERE seed = ? AND route IN "
               "(SELECT route FROM state WHERE seed = ?)", (new, old))
    return int(db.execute("UPDATE state SET seed = ? WHERE seed = ?", (new, old)).rowcount)


def expire_rows(db: sqlite3.Connection, horizon: float) -> int:
    """Forget rows not written since ``horizon`` (a Unix time)."""
    return int(db.execute("DELETE FROM state WHERE touched < ?", (horizon,)).rowcount)
