"""What every journal promises: the same tests for the memory and the SQLite journal."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorbot.journal import Journal, MemoryJournal, SqliteJournal


def upd(update_id: int, chat: int = 1, kind: str = "message") -> dict[str, Any]:
    return {"update_id": update_id, kind: {"message_id": update_id, "date": 0,
                                           "chat": {"id": chat, "type": "private"}}}


Factory = Callable[[], Journal]


@pytest.fixture(params=["memory", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    opened: list[Journal] = []
    memory = MemoryJournal()

    def factory() -> Journal:
        """A journal on the same storage each time (the same object for memory)."""
        journal: Journal = memory if request.param == "memory" else SqliteJournal(
            tmp_path / "journal.db")
        journal.open()
        opened.append(journal)
        return journal

    yield factory
    for journal in opened:
        journal.close()


def test_record_returns_fresh_updates_and_drops_duplicates(make: Factory) -> None:
    journal = make()
    assert journal.record([upd(1), upd(2)]) == [upd(1), upd(2)]
    assert journal.record([upd(2), upd(3), upd(3)]) == [upd(3)]  # pending or repeated
    journal.ack(1)
    journal.flush()
    assert journal.record([upd(1), upd(4)]) == [upd(4)]  # finished: still remembered
    assert journal.stats.duplicates == 3
    assert journal.stats.recorded == 4


def test_updates_without_an_update_id_pass_through_unrecorded(make: Factory) -> None:
    journal = make()
    odd: list[Any] = [{"message": {}}, "text", {"update_id": "7"}, None]
    assert journal.record(odd) == odd
    assert journal.record(odd) == odd
    assert journal.stats.recorded == 0


def test_unacknowledged_updates_come_back_in_update_id_order(make: Factory) -> None:
    journal = make()
    journal.record([upd(5), upd(3)])
    journal.record([upd(9), upd(4)])
    journal.ack(4)
    journal.close()
    replay = journal.open()
    assert [u["update_id"] for u in replay] == [3, 5, 9]
    assert journal.stats.pending == 3
    assert journal.stats.replayed == 3


def test_at_most_once_updates_are_remembered_but_not_pending(make: Factory) -> None:
    journal = make()
    keep = lambda u: "inline_query" not in u  # noqa: E731
    fresh = journal.record([upd(1), upd(2, kind="inline_query")], keep=keep)
    assert len(fresh) == 2
    assert journal.stats.pending == 1
    assert journal.record([upd(2, kind="inline_query")], keep=keep) == []
    journal.close()
    assert [u["update_id"] for u in journal.open()] == [1]


def test_the_offset_is_remembered(make: Factory) -> None:
    journal = make()
    assert journal.next_offset() is None
    journal.record([upd(10)], offset=11)
    journal.record([upd(11)], offset=12)
    journal.close()
    journal.open()
    assert journal.next_offset() == 12


def test_a_backward_jump_is_a_new_sequence(make: Factory) -> None:
    """Telegram restarts from a random id after a week without updates: ids below the old
    ones are new, as long as they are not among the remembered ones."""
    journal = make()
    journal.record([upd(i) for i in range(1000, 1010)])
    for i in range(1000, 1010):
        journal.ack(i)
    assert journal.record([upd(i) for i in range(5, 10)]) == [upd(i) for i in range(5, 10)]
    assert journal.record([upd(2000)]) == [upd(2000)]  # and forward again


def test_parked_updates_are_dead_letters(make: Factory) -> None:
    journal = make()
    journal.record([upd(1), upd(2)])
    journal.park(upd(1), "Counter", "ValueError: boom")
    journal.park(upd(2), "Other", "KeyError: 'x'")
    journal.ack(1)
    journal.ack(2)
    journal.flush()
    dead = journal.dead_letters()
    assert [(d.update_id, d.route, d.error) for d in dead] == [
        (2, "Other", "KeyError: 'x'"), (1, "Counter", "ValueError: boom")]
    assert dead[1].update == upd(1)
    assert journal.stats.dead_letters == 2
    assert journal.dead_letters(limit=1)[0].update_id == 2


def test_acks_from_many_threads_are_all_kept(make: Factory) -> None:
    journal = make()
    journal.record([upd(i) for i in range(1, 2001)])
    threads = [threading.Thread(target=lambda k=k: [journal.ack(i)  # type: ignore[misc]
                                                    for i in range(k, 2001, 4)])
               for k in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert journal.flush(timeout=10)
    assert journal.stats.pending == 0
    assert journal.stats.acked == 2000
    journal.close()
    assert journal.open() == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60), st.booleans()), max_size=80))
def test_every_recorded_update_is_pending_until_acked(events: list[tuple[int, bool]]) -> None:
    """Model check: record or ack ids in any order; what is replayed is exactly the set
    recorded and never acked, each once."""
    journal = MemoryJournal()
    journal.open()
    recorded: set[int] = set()
    acked: set[int] = set()
    for update_id, is_ack in events:
        if is_ack:
            journal.ack(update_id)
            if update_id in recorded:
                acked.add(update_id)
        else:
            fresh = journal.record([upd(update_id)])
            assert (fresh == []) == (update_id in recorded)
            recorded.add(update_id)
    journal.close()
    assert [u["update_id"] for u in journal.open()] == sorted(recorded - acked)


ODD_IDS = [2**63 - 1, 2**63, 2**64 + 5, -(2**63) - 1, 10**30]


def test_any_update_id_and_any_string_is_stored_losslessly(make: Factory) -> None:
    odd = [upd(i) for i in ODD_IDS]
    surrogate = {"update_id": 7, "message": {"text": "\ud800 lone \udfff", "chat": {"id": 2}}}
    journal = make()
    assert journal.record([*odd, surrogate, upd(8)], offset=10**30 + 1) == [
        *odd, surrogate, upd(8)]
    assert journal.record([upd(2**63), upd(10**30)]) == []  # still duplicates
    assert journal.stats.duplicates == 2
    assert journal.next_offset() == 10**30 + 1
    journal.ack(2**63)
    journal.park(upd(2**64 + 5), "r", "ValueError: \udc80")
    journal.ack(2**64 + 5)
    journal.flush()
    journal.close()
    again = journal
    replayed = again.open()
    assert sorted(u["update_id"] for u in replayed) == sorted(
        [2**63 - 1, -(2**63) - 1, 10**30, 7, 8])
    assert next(u for u in replayed if u["update_id"] == 7) == surrogate
    (dead,) = again.dead_letters()
    assert (dead.update_id, dead.update) == (2**64 + 5, upd(2**64 + 5))
    assert again.revive(2**64 + 5) == upd(2**64 + 5)
    assert again.dead_letters() == []


def test_revive_takes_a_dead_letter_back_as_pending(make: Factory) -> None:
    journal = make()
    journal.record([upd(1)])
    assert journal.revive(1) is None  # pending, not parked
    journal.park(upd(1), "r", "boom")
    journal.ack(1)
    journal.flush()
    assert journal.stats.pending == 0
    assert journal.revive(1) == upd(1)
    assert journal.stats.pending == 1
    assert journal.record([upd(1)]) == []  # pending again: a duplicate
    journal.ack(1)
    journal.flush()
    assert journal.stats.pending == 0
