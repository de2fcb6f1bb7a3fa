"""The state book: snapshots released with their updates' acks, in per-key order, to
the store and the journal (one transaction when they share a SQLite file)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from actorbot.errors import StateStoreError
from actorbot.journal import MemoryJournal, SqliteJournal
from actorbot.state import MemoryStore, SqliteStore, StateBook, StateRecord, StateStore


class Journal(MemoryJournal):
    """Records the order of acknowledgements."""

    def __init__(self) -> None:
        super().__init__()
        self.acked: list[int] = []

    def ack(self, update_id: int) -> None:
        self.acked.append(update_id)
        super().ack(update_id)


class SlowStore(StateStore):
    """A store doing "I/O" (so the book uses its writer thread) that fails on demand and
    records what the journal had acknowledged when each write happened."""

    def __init__(self, journal: Journal, failures: int = 0) -> None:
        super().__init__()
        self.inner = MemoryStore()
        self.journal = journal
        self.failures = failures
        self.writes: list[tuple[list[StateRecord], list[int]]] = []

    def load(self, route: str, seed: str) -> StateRecord | None:
        return self.inner.load(route, seed)

    def write(self, records: Sequence[StateRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise StateStoreError("down")
        self.writes.append((list(records), list(self.journal.acked)))
        self.inner.write(records)

    def delete(self, seed: Any, route: str | None = None) -> int:
        return self.inner.delete(seed, route)

    def move_keys(self, old: str, new: str) -> int:
        return self.inner.move_keys(old, new)

    def records(self, route: str | None = None) -> Iterator[StateRecord]:
        return self.inner.records(route)

    def expire(self, now: float | None = None) -> int:
        return 0


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def book(journal: Journal) -> Iterator[StateBook]:
    made = StateBook(MemoryStore(), journal)
    made.open()
    yield made
    made.close()


def data(book: StateBook, route: str, seed: Any) -> bytes | None:
    record = book.store.load(route, repr(seed))
    return None if record is None else record.data


def test_an_update_that_changed_no_state_is_acked_at_once(book: StateBook, journal: Journal
                                                          ) -> None:
    book.ack(5)
    assert journal.acked == [5]


def test_a_later_update_acked_first_waits_for_the_earlier_one(
    book: StateBook, journal: Journal
) -> None:
    book.stage("r", 1, b"after-1", 1, 1)
    book.stage("r", 1, b"after-2", 1, 2)
    book.ack(2)  # its calls resolved first
    assert journal.acked == []
    assert book.stats["held"] == 1
    assert data(book, "r", 1) is None, "state-after-2 must not commit while 1 may replay"
    loaded = book.load("r", 1)
    assert loaded is not None
    assert loaded.data == b"after-2"
    book.ack(1)
    assert journal.acked == [1, 2]
    assert data(book, "r", 1) == b"after-2"
    assert book._overlay == {}, "committed snapshots leave RAM"


def test_an_update_reaching_two_handlers_waits_for_both_keys(
    book: StateBook, journal: Journal
) -> None:
    book.stage("b", 2, b"b-19", 1, 19)
    book.stage("a", 1, b"a-20", 1, 20)
    book.stage("b", 2, b"b-20", 1, 20)
    book.ack(20)
    assert journal.acked == []
    assert data(book, "a", 1) is None
    book.ack(19)
    assert journal.acked == [19, 20]
    assert (data(book, "a", 1), data(book, "b", 2)) == (b"a-20", b"b-20")


def test_other_keys_are_not_held_back(book: StateBook, journal: Journal) -> None:
    book.stage("r", 1, b"x", 1, 1)
    book.stage("r", 2, b"y", 1, 2)
    book.ack(2)
    assert journal.acked == [2]
    assert data(book, "r", 2) == b"y"


def test_a_snapshot_owed_to_no_update_queues_behind_unacked_ones(
    book: StateBook, journal: Journal
) -> None:
    book.stage("r", 1, b"update", 1, 1)
    book.stage("r", 1, b"closed", 1, None)
    assert data(book, "r", 1) is None
    book.ack(1)
    assert data(book, "r", 1) == b"closed"
    book.stage("r", 3, b"timer", 1, None)  # nothing ahead: at once
    assert data(book, "r", 3) == b"timer"


def test_none_deletes_and_the_overlay_says_so(book: StateBook) -> None:
    book.stage("r", 1, b"x", 1, None)
    book.stage("r", 1, None, 1, 7)
    loaded = book.load("r", 1)
    assert loaded is not None
    assert loaded.data is None
    book.ack(7)
    assert data(book, "r", 1) is None
    assert book.load("r", 1) is None


def test_unacked_snapshots_are_dropped_at_close(journal: Journal) -> None:
    store = MemoryStore()
    book = StateBook(store, journal)
    book.open()
    book.stage("r", 1, b"saved", 1, 1)
    book.ack(1)
    book.stage("r", 1, b"never acked", 1, 2)
    book.close()
    assert data(book, "r", 1) == b"saved"


def test_chat_migration_moves_queued_and_saved_state(book: StateBook, journal: Journal
                                                     ) -> None:
    book.stage("r", -1, b"saved", 1, None)
    book.stage("r", -1, b"queued", 1, 1)
    book.move(-1, -100)
    book.stage("r", -1, b"from the old handler", 1, 2)  # the router still follows
    assert book.load("r", -100) is not None
    book.ack(2)
    book.ack(1)
    assert journal.acked == [1, 2]
    assert data(book, "r", -1) is None
    assert data(book, "r", -100) == b"from the old handler"


def test_a_store_with_io_writes_before_the_acks_and_retries(journal: Journal) -> None:
    store = SlowStore(journal, failures=2)
    book = StateBook(store, journal)
    book.open()
    try:
        book.stage("r", 1, b"one", 1, 1)
        book.ack(1)
        assert book.flush(10)
        assert store.writes == [([StateRecord("r", "1", b"one", 1)], [])]
        assert journal.acked == [1]
        assert book.stats["write_failures"] == 2
        assert book.load("r", 1) == store.load("r", "1")
    finally:
        book.close()
    assert not [t for t in threading.enumerate() if t.name == "actorbot-state"]


def test_closing_with_a_dead_store_gives_up_and_acks_nothing(journal: Journal) -> None:
    store = SlowStore(journal, failures=10**9)
    book = StateBook(store, journal)
    book.open()
    book.stage("r", 1, b"one", 1, 1)
    book.ack(1)
    book.close()  # returns: the writer stops retrying
    assert journal.acked == []  # replayed at next start: at-least-once, not lost


def shared(tmp_path: Path) -> tuple[SqliteJournal, StateBook]:
    path = tmp_path / "bot.db"
    journal = SqliteJournal(path)
    journal.open()
    journal.record([{"update_id": i, "message": {"chat": {"id": 1}}} for i in (1, 2, 3)])
    book = StateBook(SqliteStore(path), journal)
    book.open()
    return journal, book


def rows(path: Path) -> tuple[dict[int, int], dict[str, bytes]]:
    db = sqlite3.connect(path)
    try:
        updates = dict(db.execute("SELECT update_id, state FROM updates").fetchall())
        state = {s: bytes(d) for s, d in db.execute("SELECT seed, data FROM state")}
        return updates, state
    finally:
        db.close()


def test_sharing_the_journals_file_is_detected(tmp_path: Path) -> None:
    journal, book = shared(tmp_path)
    try:
        assert book.exactly_once
        assert not StateBook(SqliteStore(tmp_path / "other.db"), journal).exactly_once
    finally:
        book.close()
        journal.close()


def test_shared_file_commits_an_ack_with_its_state_or_neither(tmp_path: Path) -> None:
    journal, book = shared(tmp_path)
    try:
        book.stage("r", 1, b"after-1", 1, 1)
        book.stage("r", 1, b"after-2", 1, 2)
        book.ack(2)
        assert journal.flush(10)
        assert rows(tmp_path / "bot.db") == ({1: 0, 2: 0, 3: 0}, {})
        book.ack(1)
        book.ack(3)
        assert journal.flush(10)
        assert rows(tmp_path / "bot.db") == ({1: 1, 2: 1, 3: 1}, {"1": b"after-2"})
        assert book._overlay == {}
    finally:
        book.close()
        journal.close()


@pytest.mark.parametrize("shared_file", [True, False])
def test_the_book_sweeps_expired_rows_as_it_writes(tmp_path: Path, shared_file: bool) -> None:
    path = tmp_path / "bot.db"
    journal = SqliteJournal(path)
    journal.open()
    store = SqliteStore(path if shared_file else tmp_path / "state.db", expire_after=3600)
    book = StateBook(store, journal, sweep_every=0.0)
    book.open()  # sweeps once: nothing yet
    store.write([StateRecord("r", "1", b"old", 1)])
    db = sqlite3.connect(store.path)
    db.execute("UPDATE state SET touched = touched - 7200")  # written two hours ago
    db.commit()
    db.close()
    try:
        book.stage("r", 2, b"new", 1, None)
        assert book.flush(10)
    finally:
        book.close()
        journal.close()
    assert [r.seed for r in SqliteStore(store.path).records()] == ["2"]
