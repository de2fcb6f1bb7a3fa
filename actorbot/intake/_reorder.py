"""Put updates from an unordered source back in ``update_id`` order, within bounds.

Telegram numbers updates sequentially, so a gap means an update is late or lost. The
re-orderer holds what arrives after a gap for at most ``max_hold`` seconds, then gives up
on the gap. Unlike telepot's, it never drops a late update (it is released at once, out
of order, and counted), drops only true duplicates, keeps at most ``max_buffer`` updates
(releasing the oldest, in order, when full), and treats an ``update_id`` jump of more than
``max_jump`` in either direction as a new sequence: Telegram picks a new random start
after a week without updates, and a restarted source may replay from anywhere.

Timers come from the engine's :class:`~actorbot.runtime.Clock` (one heap for every
timeout), so holding a gap costs no thread; with a :class:`~actorbot.runtime.ManualClock`
the whole behaviour is testable on virtual time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import structlog

from actorbot.errors import ConfigError, StateError
from actorbot.runtime import Clock, Timer
from actorbot.updates import update_id

log = structlog.get_logger("actorbot.reorder")

Sink = Callable[[list[Any]], object]


@dataclass
class ReorderStats:
    """``late``: released out of order; ``skipped``: missing ids given up on."""

    released: int = 0
    late: int = 0
    duplicates: int = 0
    skipped: int = 0
    jumps: int = 0
    overflows: int = 0
    malformed: int = 0


class Reorderer:
    """Call it (or :meth:`push`) with each update; ``deliver`` gets lists in order.

    ``deliver`` (typically ``engine.feed``) is called with the lock held, so releases
    never overtake each other; it must be quick. On the pushing thread (and in
    :meth:`flush`) its exceptions propagate and the re-orderer is left as it was before
    the call, so the same update can be pushed again (a webhook answering 503, a source
    keeping it in ``unhandled``): nothing it held is lost, and the retry is not taken for a
    duplicate. On the clock's thread they are logged with the update ids.
    Memory: at most ``max_buffer`` held updates and ``max_jump`` remembered ids.
    """

    def __init__(
        self,
        deliver: Sink,
        *,
        clock: Clock,
        max_hold: float = 1.0,
        max_buffer: int = 1000,
        max_jump: int = 10_000,
    ) -> None:
        if max_hold < 0 or max_buffer < 1 or max_jump < 1:
            raise ConfigError("max_hold must be >= 0, max_buffer and max_jump >= 1")
        self._deliver = deliver
        self._clock = clock
        self.max_hold = max_hold
        self.max_buffer = max_buffer
        self.max_jump = max_jump
        self.stats = ReorderStats()
        self._lock = threading.Lock()
        self._next: int | None = None  # the update_id expected next
        self._held: dict[int, Any] = {}
        self._arrivals: deque[tuple[float, int]] = deque()  # (time, update_id), oldest first
        self._recent: deque[int] = deque()  # released ids, for duplicates
        self._recent_set: set[int] = set()
        self._timer: Timer | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"Reorderer(next={self._next}, held={len(self._held)})"

    @property
    def held(self) -> int:
        return len(self._held)

    def __call__(self, update: Any) -> None:
        self.push(update)

    def push(self, update: Any) -> None:
        """Release ``update`` (and what it unblocks) now, or hold it behind a gap."""
        out: list[Any] = []
        with self._lock:
            if self._closed:
                raise StateError("the re-orderer is closed")
            uid = update_id(update)
            saved = self._save()
            if uid is None:
                self.stats.malformed += 1
                out.append(update)  # not ours to judge: the router counts it
            else:
                self._accept(uid, update, out)
            self._deliver_or_undo(out, saved, uid)

    def flush(self) -> None:
        """Release everything held, in order, giving up on the gaps."""
        with self._lock:
            out: list[Any] = []
            saved = self._save()
            self._release_all(out)
            self._deliver_or_undo(out, saved, None)

    def close(self) -> None:
        """Flush and stop the timer; pushing afterwards is an error."""
        self.flush()
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _save(self) -> tuple[int | None, ReorderStats]:
        return self._next, replace(self.stats)

    def _deliver_or_undo(
        self, out: list[Any], saved: tuple[int | None, ReorderStats], pushed: int | None
    ) -> None:
        """Deliver ``out``; if that raises, undo what releasing it changed, then re-raise."""
        try:
            if out:
                self._deliver(out)
        except BaseException:
            self._undo(out, saved, pushed)
            raise
        finally:
            self._arm()

    def _undo(
        self, out: list[Any], saved: tuple[int | None, ReorderStats], pushed: int | None
    ) -> None:
        """Back to ``saved``: the released updates held again (their arrival entries are
        still queued), their ids forgotten, ``pushed`` not held. O(len(out))."""
        self._next, stats = saved
        vars(self.stats).update(vars(stats))
        released = [(uid, u) for u in out if (uid := update_id(u)) is not None]
        for _ in range(min(len(released), len(self._recent))):
            self._recent_set.discard(self._recent.pop())  # appended last, by this call
        if pushed is not None:
            self._held.pop(pushed, None)  # an overflow may have held it
        for uid, update in released:
            if uid != pushed:
                self._held[uid] = update

    # -- the sequence -------------------------------------------------------------------

    def _accept(self, uid: int, update: Any, out: list[Any]) -> None:
        expected = self._next
        if uid in self._recent_set or uid in self._held:
            self.stats.duplicates += 1
        elif expected is None:
            self._release(uid, update, out)
        elif uid == expected:
            self._release(uid, update, out)
            self._drain(out)
        elif uid < expected:
            if expected - uid <= self.max_jump:
                self.stats.late += 1
                self._release(uid, update, out, advance=False)
            else:
                self._jump(uid, update, out)
        elif uid - expected > self.max_jump:
            self._jump(uid, update, out)
        else:
            self._hold(uid, update, out)

    def _hold(self, uid: int, update: Any, out: list[Any]) -> None:
        """Keep ``uid`` behind its gap, making room first if the buffer is full."""
        if len(self._held) >= self.max_buffer:  # full: give up on the lowest gaps
            self.stats.overflows += 1
            while len(self._held) >= self.max_buffer and min(self._held) < uid:
                self._skip_to(min(self._held), out)
            if len(self._held) >= self.max_buffer:  # all held come after it
                self._skip_to(uid, out)
        if uid == self._next:  # the overflow closed the gap before it
            self._release(uid, update, out)
            self._drain(out)
        else:
            self._held[uid] = update
            self._arrivals.append((self._clock.now(), uid))

    def _jump(self, uid: int, update: Any, out: list[Any]) -> None:
        self.stats.jumps += 1
        log.info("reorder.jump", expected=self._next, update_id=uid, held=len(self._held))
        self._release_all(out)
        self._release(uid, update, out)  # ids remembered from before still catch duplicates

    def _release(self, uid: int, update: Any, out: list[Any], *, advance: bool = True) -> None:
        out.append(update)
        self.stats.released += 1
        if advance:
            self._next = uid + 1
        self._recent.append(uid)
        self._recent_set.add(uid)
        if len(self._recent) > self.max_jump:
            self._recent_set.discard(self._recent.popleft())

    def _drain(self, out: list[Any]) -> None:
        """Release the held run that now follows without a gap."""
        assert self._next is not None
        while self._next in self._held:
            uid = self._next
            self._release(uid, self._held.pop(uid), out)

    def _skip_to(self, uid: int, out: list[Any]) -> None:
        """Give up on the ids before ``uid`` (the lowest held) and release from it on."""
        assert self._next is not None
        self.stats.skipped += uid - self._next
        self._next = uid
        self._drain(out)

    def _release_up_to(self, last: float, out: list[Any]) -> None:
        """Release every held update with an id up to ``last``, skipping the gaps."""
        for uid in sorted(self._held):
            if uid > last:
                break
            if uid in self._held:  # not drained by an earlier skip
                self._skip_to(uid, out)

    def _release_all(self, out: list[Any]) -> None:
        # The arrival entries stay (_arm drops them lazily): an undo may hold these again.
        self._release_up_to(float("inf"), out)

    # -- the timer: one pending callback at most ------------------------------------------

    def _arm(self) -> None:
        arrivals = self._arrivals
        while arrivals and arrivals[0][1] not in self._held:
            arrivals.popleft()  # released since it arrived
        if len(arrivals) > 2 * len(self._held) + 16:  # bounded by held, not by traffic
            arrivals = self._arrivals = deque(a for a in arrivals if a[1] in self._held)
        if not arrivals:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        if self._timer is None:
            self._timer = self._clock.call_at(arrivals[0][0] + self.max_hold, self._expire)

    def _expire(self) -> None:
        out: list[Any] = []
        with self._lock:
            self._timer = None
            if self._closed:
                return
            now = self._clock.now()
            due: int | None = None
            arrivals = self._arrivals
            while arrivals and arrivals[0][0] + self.max_hold <= now:
                uid = arrivals.popleft()[1]
                if uid in self._held:
                    due = uid if due is None else max(due, uid)
            if due is not None:
                self._release_up_to(due, out)
            self._arm()
            if out:
                try:
                    self._deliver(out)
                except Exception:  # no caller to raise to: say what was lost
                    log.exception("reorder.deliver_failed",
                                  update_ids=[update_id(u) for u in out])
