"""The bot-wide budget as a seam: the sender asks a :class:`Limiter` for each charged
call's overall slot, so several processes can later share one budget (a Redis-backed
limiter, say) while per-chat limits stay with the process that owns the chat.

:class:`LocalLimiter`, the default, keeps the budget in this process as sliding windows
whose slots are held from the reservation until the answer came back, then for the
window's length. When a request reached Telegram is not known (a cold connection's TLS
handshake, a thread that started late), but it was before its answer: stamping the window
then can only be stricter than Telegram's, so bunched-up arrivals cannot exceed it.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Literal, Protocol

from actorbot.errors import ConfigError

if TYPE_CHECKING:
    from actorbot.sending._settings import RateLimits

Lane = Literal["overall", "paid"]


class Limiter(Protocol):
    """Reserves slots of the bot-wide budget; called only from the sender's thread."""

    def reserve(self, lane: Lane, now: float) -> float:
        """Take one slot of ``lane`` at ``now`` and return 0.0; or take nothing and return
        the seconds until one may be free (``inf``: not before a :meth:`release`)."""

    def release(self, lane: Lane, now: float) -> None:
        """The call that took a slot of ``lane`` got its answer (or failed) at ``now``."""


class AnsweredWindow:
    """At most ``count`` calls in any ``seconds``, each counted from its reservation until
    ``seconds`` after its answer: a heap of answer times plus a count of calls in flight."""

    __slots__ = ("count", "in_flight", "seconds", "times")

    def __init__(self, count: int, seconds: float) -> None:
        if count < 1 or seconds <= 0:
            raise ConfigError("a sliding window needs count >= 1 and seconds > 0")
        self.count = count
        self.seconds = seconds
        self.in_flight = 0
        self.times: list[float] = []

    def wait(self, now: float) -> float:
        times, horizon = self.times, now - self.seconds
        while times and times[0] <= horizon:
            heapq.heappop(times)
        if self.in_flight + len(times) < self.count:
            return 0.0
        return times[0] + self.seconds - now if times else math.inf

    def take(self) -> None:
        self.in_flight += 1

    def answered(self, now: float) -> None:
        self.in_flight -= 1
        heapq.heappush(self.times, now)


def window_count(per_s: float, seconds: float) -> int:
    """How many messages ``per_s`` allows in a window of ``seconds``."""
    return max(int(per_s * seconds + 1e-9), 1)


class LocalLimiter:
    """The overall and paid-broadcast limits of :class:`RateLimits` as
    :class:`AnsweredWindow` s (each widened by ``margin``), in this process."""

    def __init__(self, limits: RateLimits) -> None:
        self._lanes: dict[Lane, AnsweredWindow | None] = {
            "overall": _lane(limits.global_per_s, limits.global_window, limits.margin),
            "paid": _lane(limits.paid_per_s, limits.paid_window, limits.margin),
        }

    def reserve(self, lane: Lane, now: float) -> float:
        limit = self._lanes[lane]
        if limit is None:
            return 0.0
        wait = limit.wait(now)
        if wait <= 0.0:
            limit.take()
        return wait

    def release(self, lane: Lane, now: float) -> None:
        limit = self._lanes[lane]
        if limit is not None:
            limit.answered(now)


def _lane(per_s: float, seconds: float, margin: float) -> AnsweredWindow | None:
    if math.isinf(per_s):
        return None
    return AnsweredWindow(window_count(per_s, seconds), seconds + margin)
