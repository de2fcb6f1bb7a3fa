from __future__ import annotations

import threading

from actorbot.runtime._tracker import InFlight, holding


def test_an_update_is_acked_when_every_handler_finished() -> None:
    tracker = InFlight()
    acked: list[int] = []
    tracker.on_acked = acked.append
    tracker.admit(3)
    tracker.begin(1, 3, key=101)
    tracker.begin(2, 0, key=102)  # reached no handler: done at once
    tracker.begin(3, 1)  # no key (malformed or at-most-once): finished, never acked
    assert acked == [102]
    assert len(tracker) == 2
    tracker.finish(3)
    tracker.finish(1)
    tracker.finish(1)
    assert acked == [102]
    tracker.finish(1)
    assert acked == [102, 101]
    assert len(tracker) == 0
    tracker.finish(1)  # a stray finish changes nothing
    assert tracker.finished == 3


def test_calls_made_while_handling_hold_the_update_open() -> None:
    tracker = InFlight()
    acked: list[int] = []
    tracker.on_acked = acked.append
    tracker.admit(1)
    tracker.begin(7, 1, key=70)
    tracker.run(7)
    assert holding() == (tracker, 7)
    tracker.hold(7)  # what the sender does for each call
    tracker.hold(7)
    InFlight.ran()
    assert holding() is None
    tracker.finish(7)  # the handler returned ...
    tracker.finish(7)  # ... one call resolved
    assert acked == []
    assert len(tracker) == 1
    tracker.finish(7)  # ... and the other
    assert acked == [70]
    tracker.hold(7)  # too late to hold a finished update: nothing happens
    assert len(tracker) == 0


def test_an_abandoned_update_is_finished_but_not_acked() -> None:
    tracker = InFlight()
    acked: list[int] = []
    tracker.on_acked = acked.append
    tracker.admit(2)
    tracker.begin(1, 2, key=11)
    tracker.begin(2, 1, key=12)
    tracker.finish(1)
    tracker.abandon(1)  # the second handler never got to it: replay it at the next start
    tracker.abandon(2)
    assert acked == []
    assert tracker.wait_idle(timeout=0)
    tracker.admit(1)
    tracker.begin(1, 1, key=13)  # a seq used again later is acked normally
    tracker.finish(1)
    assert acked == [13]


def test_waiters_wake_when_work_finishes() -> None:
    tracker = InFlight()
    tracker.admit(10)
    for seq in range(10):
        tracker.begin(seq, 1)
    assert not tracker.wait_below(5, timeout=0.01)
    below = threading.Event()
    idle = threading.Event()
    threading.Thread(target=lambda: tracker.wait_below(5) and below.set()).start()
    threading.Thread(target=lambda: tracker.wait_idle() and idle.set()).start()
    for seq in range(6):
        tracker.finish(seq)
    assert below.wait(5)
    assert not idle.is_set()
    for seq in range(6, 10):
        tracker.finish(seq)
    assert idle.wait(5)


def test_admitted_updates_count_before_the_router_sees_them() -> None:
    tracker = InFlight()
    tracker.admit(3)
    assert len(tracker) == 3
    assert not tracker.wait_idle(timeout=0.01)
    tracker.begin(1, 0)
    tracker.begin(2, 1)
    tracker.begin(3, 2)
    assert len(tracker) == 2
    tracker.finish(2)
    tracker.finish(3)
    tracker.finish(3)
    assert tracker.wait_idle(timeout=0)


def test_a_wait_ends_when_cancelled_and_poked() -> None:
    tracker = InFlight()
    tracker.admit(1)
    stop = threading.Event()
    ended = threading.Event()
    waiter = threading.Thread(target=lambda: tracker.wait_below(1, cancelled=stop.is_set)
                              or ended.set())
    waiter.start()
    assert not ended.wait(0.05)  # no timeout: only the cancel can end it
    stop.set()
    tracker.poke()
    waiter.join(5)
    assert ended.is_set()
    assert tracker.wait_below(2, cancelled=stop.is_set)  # room: cancelling does not matter
