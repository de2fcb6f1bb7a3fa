from __future__ import annotations

import threading

import pytest
from structlog.testing import capture_logs

from actorbot.runtime._clock import Clock, ManualClock


def test_manual_clock_fires_in_time_order_and_skips_cancelled() -> None:
    clock = ManualClock()
    fired: list[str] = []
    clock.call_later(3, fired.append, "c")
    clock.call_later(1, fired.append, "a")
    cancelled = clock.call_later(2, fired.append, "never")
    clock.call_later(2, fired.append, "b")
    cancelled.cancel()
    clock.advance(1.5)
    assert fired == ["a"]
    assert clock.now() == 1.5
    clock.advance(10)
    assert fired == ["a", "b", "c"]
    assert clock.now() == 11.5


def test_manual_clock_callbacks_may_schedule_more_within_the_advance() -> None:
    clock = ManualClock()
    times: list[float] = []

    def tick() -> None:
        times.append(clock.now())
        if len(times) < 4:
            clock.call_later(1, tick)

    clock.call_later(1, tick)
    clock.advance(10)
    assert times == [1, 2, 3, 4]


def test_same_deadline_keeps_scheduling_order() -> None:
    clock = ManualClock()
    fired: list[int] = []
    for i in range(50):
        clock.call_at(5, fired.append, i)
    clock.advance(5)
    assert fired == list(range(50))


def test_real_clock_fires_and_stops_its_thread() -> None:
    clock = Clock(name="test-clock")
    clock.start()
    done = threading.Event()
    order: list[int] = []
    clock.call_later(0.02, order.append, 2)
    clock.call_later(0.0, order.append, 1)
    clock.call_later(0.03, done.set)
    assert done.wait(5)
    assert order == [1, 2]
    clock.stop(5)
    assert not any(t.name == "test-clock" for t in threading.enumerate())


def test_an_earlier_timer_wakes_the_sleeping_thread() -> None:
    clock = Clock()
    clock.start()
    try:
        clock.call_later(3600, lambda: None)  # the thread now sleeps for an hour
        done = threading.Event()
        clock.call_later(0.0, done.set)
        assert done.wait(5)
    finally:
        clock.stop(5)


def test_a_failing_callback_is_logged_and_others_still_fire() -> None:
    clock = ManualClock()
    fired: list[str] = []

    def bad() -> None:
        raise RuntimeError("nope")

    clock.call_later(1, bad)
    clock.call_later(1, fired.append, "ok")
    with capture_logs() as logs:
        clock.advance(1)
    assert fired == ["ok"]
    assert [e["event"] for e in logs] == ["clock.callback_failed"]


def test_start_twice_is_an_error() -> None:
    clock = Clock()
    clock.start()
    try:
        with pytest.raises(RuntimeError):
            clock.start()
    finally:
        clock.stop(5)
