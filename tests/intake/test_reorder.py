"""The re-orderer on virtual time: order, bounded holds, bounded memory, jumps, duplicates."""

from __future__ import annotations

import bisect
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from actorbot.intake import Reorderer, ReorderStats
from actorbot.runtime import Clock, ManualClock
from tests.helpers import eventually


class Sink:
    """Records what is delivered, when (virtual time) and at which step."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.ids: list[int] = []
        self.batches: list[list[int]] = []
        self.times: dict[int, float] = {}
        self.step = 0
        self.steps: dict[int, int] = {}

    def __call__(self, updates: list[Any]) -> None:
        batch = [u["update_id"] for u in updates]
        self.batches.append(batch)
        self.ids.extend(batch)
        for uid in batch:
            self.times.setdefault(uid, self.clock.now())
            self.steps.setdefault(uid, self.step)
        self.step += 1


def upd(uid: int) -> dict[str, Any]:
    return {"update_id": uid, "message": {"text": str(uid)}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sink(clock: ManualClock) -> Sink:
    return Sink(clock)


def make(sink: Sink, clock: ManualClock, **options: Any) -> Reorderer:
    return Reorderer(sink, clock=clock, **options)


def push(r: Reorderer, *ids: int) -> None:
    for uid in ids:
        r.push(upd(uid))


def test_in_order_updates_pass_straight_through(sink: Sink, clock: ManualClock) -> None:
    r = make(sink, clock)
    push(r, 5, 6, 7)
    assert sink.batches == [[5], [6], [7]]
    assert r.held == 0
    assert clock.pending == 0


def test_a_gap_is_held_until_filled(sink: Sink, clock: ManualClock) -> None:
    r = make(sink, clock, max_hold=1.0)
    push(r, 1, 3, 4)
    assert sink.ids == [1]
    clock.advance(0.9)
    assert sink.ids == [1]
    push(r, 2)
    assert sink.batches == [[1], [2, 3, 4]]
    clock.advance(10)
    assert sink.ids == [1, 2, 3, 4]
    assert r.stats == ReorderStats(released=4)


def test_a_gap_is_given_up_after_max_hold_and_the_late_update_still_delivered(
    sink: Sink, clock: ManualClock
) -> None:
    r = make(sink, clock, max_hold=1.0)
    push(r, 1, 3)
    clock.advance(0.5)
    push(r, 4, 6)
    clock.advance(0.5)  # 3 has waited 1 s: give up on 2, release 3 and 4; 6 waits for 5
    assert sink.batches == [[1], [3, 4]]
    clock.advance(0.5)
    assert sink.batches == [[1], [3, 4], [6]]
    push(r, 2, 5)  # late, not dropped
    assert sink.ids == [1, 3, 4, 6, 2, 5]
    assert r.stats == ReorderStats(released=6, late=2, skipped=2)


def test_duplicates_are_dropped_whether_released_held_or_late(
    sink: Sink, clock: ManualClock
) -> None:
    r = make(sink, clock, max_hold=1.0)
    push(r, 1, 1, 3, 3)
    clock.advance(1)
    push(r, 2, 2, 3, 1)
    assert sink.ids == [1, 3, 2]
    assert r.stats.duplicates == 5


def test_a_full_buffer_releases_the_oldest_in_order(sink: Sink, clock: ManualClock) -> None:
    r = make(sink, clock, max_buffer=3)
    push(r, 1, 3, 5, 6)
    assert r.held == 3
    push(r, 8)  # full: give up on 2 (3 goes), then on 4 (5, 6 go)... until 8 fits
    assert sink.ids == [1, 3]
    assert r.held == 3
    push(r, 9)
    assert sink.ids == [1, 3, 5, 6]
    assert r.stats.overflows == 2
    push(r, 7)
    assert sink.ids == [1, 3, 5, 6, 7, 8, 9]
    assert r.held == 0


def test_jumps_both_ways_start_a_new_sequence(sink: Sink, clock: ManualClock) -> None:
    r = make(sink, clock, max_jump=100)
    push(r, 1000, 1002)  # 1002 held
    push(r, 5_000_000)  # Telegram picked a new start: flush, then go on from there
    push(r, 5_000_002, 5_000_001)
    push(r, 7)  # a replay from far behind: another new sequence
    push(r, 8, 9)
    assert sink.ids == [1000, 1002, 5_000_000, 5_000_001, 5_000_002, 7, 8, 9]
    assert r.stats.jumps == 2
    assert r.stats.skipped == 1
    push(r, 1000, 5_000_001)  # still remembered: duplicates, not new sequences
    assert r.stats.duplicates == 2
    assert r.stats.jumps == 2


def test_malformed_updates_pass_through_for_the_router_to_count(
    clock: ManualClock,
) -> None:
    out: list[Any] = []
    r = Reorderer(out.extend, clock=clock)
    r.push({"update_id": 1})
    r.push("garbage")
    r.push({"update_id": True})
    r.push({"update_id": 3})
    assert out == [{"update_id": 1}, "garbage", {"update_id": True}]
    assert r.stats.malformed == 2
    r.close()
    assert out[-1] == {"update_id": 3}


def test_close_flushes_and_stops(sink: Sink, clock: ManualClock) -> None:
    r = make(sink, clock)
    push(r, 1, 4, 3)
    r.close()
    assert sink.ids == [1, 3, 4]
    clock.advance(10)
    assert sink.ids == [1, 3, 4]
    with pytest.raises(RuntimeError, match="closed"):
        push(r, 5)


def test_a_failing_deliver_raises_to_the_pusher_and_is_logged_on_the_clock(
    clock: ManualClock,
) -> None:
    sink = Refusing(clock)
    r = Reorderer(sink, clock=clock, max_hold=1)
    push(r, 1)
    sink.refuse = True
    with pytest.raises(RuntimeError, match="engine is stopping"):
        push(r, 2)
    push(r, 3)  # held: nothing delivered yet
    with capture_logs() as logs:
        clock.advance(1)
    assert [(e["event"], e["update_ids"]) for e in logs] == [("reorder.deliver_failed", [3])]


def test_options_are_checked(clock: ManualClock) -> None:
    for bad in ({"max_hold": -1}, {"max_buffer": 0}, {"max_jump": 0}):
        with pytest.raises(ValueError, match="max_"):
            Reorderer(print, clock=clock, **bad)


def test_with_the_real_clock_a_gap_is_released_by_its_thread() -> None:
    clock = Clock(name="test-reorder-clock")
    clock.start()
    out: list[Any] = []
    try:
        r = Reorderer(out.extend, clock=clock, max_hold=0.05)
        push(r, 1, 3)
        eventually(lambda: len(out) == 2, 10, "the held update")
        assert [u["update_id"] for u in out] == [1, 3]
    finally:
        clock.stop(5)


# -- properties ---------------------------------------------------------------------------

#: A step: push an id (0-299), or let virtual time pass.
steps = st.lists(
    st.one_of(st.integers(0, 299), st.floats(0.01, 3.0).map(lambda dt: -dt)),
    max_size=400,
)


def run(
    steps: list[float], sink: Sink, clock: ManualClock, r: Reorderer
) -> tuple[dict[int, float], dict[int, int]]:
    """Play the steps; when (virtual time) and at which sink step each id was first pushed."""
    pushed_at: dict[int, float] = {}
    pushed_step: dict[int, int] = {}
    for step in steps:
        if step < 0:
            clock.advance(-step)
            continue
        uid = int(step)
        pushed_at.setdefault(uid, clock.now())
        pushed_step.setdefault(uid, sink.step)
        push(r, uid)
        assert r.held <= r.max_buffer
        assert len(r._arrivals) <= 2 * r.max_buffer + 16
    return pushed_at, pushed_step


@settings(max_examples=300, deadline=None)
@given(steps=steps, max_buffer=st.integers(1, 20), max_hold=st.sampled_from([0.0, 0.5, 1.0]))
def test_every_update_exactly_once_never_held_too_long_never_inverted(
    steps: list[float], max_buffer: int, max_hold: float
) -> None:
    clock = ManualClock()
    sink = Sink(clock)
    r = Reorderer(sink, clock=clock, max_hold=max_hold, max_buffer=max_buffer, max_jump=1000)
    pushed_at, pushed_step = run(steps, sink, clock, r)
    released_before_close = set(sink.ids)
    clock.advance(max_hold)  # everything held is now due
    assert set(sink.ids) == set(pushed_at)  # nothing left behind, even without close()
    r.close()
    assert sorted(sink.ids) == sorted(pushed_at)  # exactly once
    for uid in released_before_close:
        assert sink.times[uid] - pushed_at[uid] <= max_hold + 1e-9
    # Two updates leave in the wrong order only if the smaller came after the larger left:
    # what left since b was pushed (a suffix: steps grow along ids) is all smaller than b.
    delivered_steps = [sink.steps[uid] for uid in sink.ids]
    for j, b in enumerate(sink.ids):
        since = bisect.bisect_left(delivered_steps, pushed_step[b], 0, j)
        assert all(a < b for a in sink.ids[since:j]), b
    s = r.stats
    assert s.released == len(pushed_at)
    assert s.jumps == 0
    assert s.duplicates == sum(1 for x in steps if x >= 0) - len(pushed_at)


@settings(max_examples=200, deadline=None)
@given(
    bases=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
    sizes=st.lists(st.integers(1, 30), min_size=6, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_sequences_far_apart_are_each_kept_whole_and_in_order(
    bases: list[int], sizes: list[int], seed: int
) -> None:
    """Telegram's new random start, a replay from far behind: nothing dropped, ever."""
    rng = random.Random(seed)
    clock = ManualClock()
    sink = Sink(clock)
    r = Reorderer(sink, clock=clock, max_hold=1.0, max_buffer=50, max_jump=1000)
    starts = sorted({b * 10_000 for b in bases})  # far apart: every switch is a jump
    rng.shuffle(starts)
    expected: list[list[int]] = []
    for start, size in zip(starts, sizes, strict=False):
        ids = list(range(start, start + size))
        expected.append(ids)
        local = ids[:]
        for i in range(1, len(local) - 1, 3):  # small local disorder after the first
            local[i], local[i + 1] = local[i + 1], local[i]
        push(r, *local)
    r.close()
    assert sink.ids == [uid for ids in expected for uid in ids]
    assert r.stats.jumps == len(expected) - 1
    assert r.stats.late == 0


class Refusing(Sink):
    """A sink that refuses (like ``engine.feed`` of a stopped engine) while ``refuse`` is set."""

    refuse = False

    def __call__(self, updates: list[Any]) -> None:
        if self.refuse:
            raise RuntimeError("engine is stopping")
        super().__call__(updates)


@pytest.mark.parametrize("ids", [
    [1],  # the first update
    [1, 3, 4, 2],  # 2 unblocks the held 3 and 4
    [1, 3, 0],  # a late update
    [1, 3, 50_000],  # a jump releases the held 3
    [1, 5, 4, 3, 2],  # max_buffer=2: 3 overflows, releasing 4 and 5
])
def test_a_refused_delivery_loses_nothing_and_the_retry_is_no_duplicate(
    clock: ManualClock, ids: list[int]
) -> None:
    sink = Refusing(clock)
    r = Reorderer(sink, clock=clock, max_hold=1.0, max_buffer=2, max_jump=1000)
    *before, last = ids
    push(r, *before)
    delivered, held, stats = list(sink.ids), r.held, ReorderStats(**vars(r.stats))
    sink.refuse = True
    with pytest.raises(RuntimeError, match="stopping"):
        push(r, last)  # a webhook answers 503, a QueueSource keeps it in .unhandled
    assert (sink.ids, r.held, r.stats) == (delivered, held, stats)  # as before the call
    sink.refuse = False
    push(r, last)  # Telegram's retry
    r.close()
    assert sorted(sink.ids) == sorted(ids)
    assert r.stats.duplicates == 0


def test_a_refused_flush_keeps_what_was_held(clock: ManualClock) -> None:
    sink = Refusing(clock)
    r = Reorderer(sink, clock=clock, max_hold=1.0)
    push(r, 1, 4, 3)
    sink.refuse = True
    with pytest.raises(RuntimeError, match="stopping"):
        r.flush()
    assert r.held == 2
    sink.refuse = False
    clock.advance(1.0)  # the timer still releases them
    assert sink.ids == [1, 3, 4]
