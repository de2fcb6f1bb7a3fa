from __future__ import annotations

import threading

from actorbot.actors._tracker import InFlight


def test_an_update_is_done_when_every_handler_finished() -> None:
    tracker = InFlight()
    done: list[int] = []
    tracker.on_finished = done.append
    tracker.admit(2)
    tracker.begin(1, 3)
    tracker.begin(2, 0)  # reached no handler: done at once
    assert done == [2]
    assert len(tracker) == 1
    tracker.finish(1)
    tracker.finish(1)
    assert done == [2]
    tracker.finish(1)
    assert done == [2, 1]
    assert len(tracker) == 0
    tracker.finish(1)  # a stray finish changes nothing
    assert tracker.finished == 2


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
