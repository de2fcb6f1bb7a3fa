"""The SQLite journal: durability, compaction, poison updates across restarts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from actorbot.journal import SqliteJournal
from tests.journal.test_contract import upd


def test_what_was_recorded_survives_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    first = SqliteJournal(path)
    first.open()
    first.record([upd(1), upd(2), upd(3)], offset=4)
    first.ack(2)
    first.flush()
    # No close(): as if the process died here (SQLite's WAL is on disk already).
    second = SqliteJournal(path)
    assert [u["update_id"] for u in second.open()] == [1, 3]
    assert second.next_offset() == 4
    assert second.record([upd(2)]) == []  # finished before the "crash": still a duplicate
    second.close()
    first.close()


def test_wal_mode_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = SqliteJournal(path, synchronous="FULL")
    journal.open()
    journal.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"updates", "dead_letters", "meta"}
    db.close()
    with pytest.raises(ValueError, match="synchronous"):
        SqliteJournal(path, synchronous="OFF")  # type: ignore[arg-type]


def test_finished_updates_are_compacted_to_the_dedupe_size(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db", dedupe_size=100, compact_every=0)
    journal.open()
    for start in range(0, 5000, 100):
        journal.record([upd(i) for i in range(start, start + 100)])
        for i in range(start, start + 100):
            journal.ack(i)
        journal.flush()
    journal.record([upd(9000)])  # one stays pending
    journal.ack(4999)
    journal.flush()
    assert journal.count("pending") == 1
    assert journal.count("done") <= 100
    assert journal.record([upd(4950)]) == []  # recent ids are still remembered
    journal.close()
    assert journal.count("done") <= 100  # readable while closed, too


def test_finished_updates_leave_after_the_dedupe_window(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db", dedupe_window=0, compact_every=0)
    journal.open()
    journal.record([upd(1), upd(2)])
    journal.ack(1)
    journal.flush()
    journal.ack(2)  # the compaction after this write forgets 1 (and maybe 2)
    journal.flush()
    journal.close()
    assert journal.count("done") <= 1
    assert journal.count("pending") == 0


def test_an_update_pending_across_too_many_starts_is_parked(tmp_path: Path) -> None:
    """An update that kills the process every time must not be replayed forever."""
    path = tmp_path / "j.db"
    journal = SqliteJournal(path, max_replays=2)
    journal.open()
    journal.record([upd(1), upd(2)])
    journal.close()
    assert [u["update_id"] for u in journal.open()] == [1, 2]  # replay 1
    journal.ack(2)
    journal.close()
    assert [u["update_id"] for u in journal.open()] == [1]  # replay 2
    journal.close()
    assert journal.open() == []  # a third start: parked instead
    (dead,) = journal.dead_letters()
    assert dead.update_id == 1
    assert "restarts" in dead.error
    assert journal.stats.dead_letters == 1
    assert journal.record([upd(1)]) == []
    journal.close()


def test_dead_letters_are_capped(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db", max_dead_letters=5, compact_every=0)
    journal.open()
    journal.record([upd(i) for i in range(20)])
    for i in range(20):
        journal.park(upd(i), "r", "boom")
        journal.ack(i)
    journal.flush()
    journal.close()
    assert [d.update_id for d in journal.dead_letters()] == [19, 18, 17, 16, 15]


def test_close_joins_the_writer_and_open_twice_is_an_error(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.open()
    with pytest.raises(RuntimeError, match="already open"):
        journal.open()
    assert "actorbot-journal" in {t.name for t in threading.enumerate()}
    journal.close()
    assert "actorbot-journal" not in {t.name for t in threading.enumerate()}
    journal.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="not open"):
        journal.record([upd(1)])


def test_a_value_json_cannot_hold_is_handled_but_not_kept(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.open()
    odd = {"update_id": 5, "message": {"blob": {1, 2}}}
    assert journal.record([odd]) == [odd]
    assert journal.stats.pending == 0
    assert journal.record([odd]) == []  # remembered for dedupe all the same
    journal.close()


def test_a_failing_write_is_logged_and_the_writer_goes_on(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.open()
    journal.record([upd(1), upd(2)])
    db = journal._db
    assert db is not None
    db.execute("CREATE TRIGGER no_ack BEFORE UPDATE ON updates WHEN NEW.update_id = 1 "
               "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    journal.ack(1)
    assert journal.flush(timeout=5)
    db.execute("DROP TRIGGER no_ack")
    journal.ack(2)
    assert journal.flush(timeout=5)
    journal.close()
    assert [u["update_id"] for u in journal.open()] == [1]  # its ack was lost: replayed
    journal.close()


def test_duplicates_are_counted_only_once_their_batch_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = SqliteJournal(path)
    journal.open()
    try:
        journal.record([upd(1)])
        other = sqlite3.connect(path)  # a constraint only this test has: 2 cannot go in
        other.execute("CREATE TRIGGER refuse BEFORE INSERT ON updates WHEN NEW.update_id = 2 "
                      "BEGIN SELECT RAISE(ABORT, 'refused'); END")
        other.commit()
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            journal.record([upd(1), upd(2)])  # 1 is a duplicate, but the batch rolls back
        assert journal.stats.duplicates == 0
        other.execute("DROP TRIGGER refuse")
        other.commit()
        other.close()
        assert [u["update_id"] for u in journal.record([upd(1), upd(2)])] == [2]
        assert journal.stats.duplicates == 1
    finally:
        journal.close()
