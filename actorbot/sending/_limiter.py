"""The bot-wide budget as a seam: the sender asks a :class:`Limiter` for each charged
call's overall slot, so several processes can later share one budget (a Redis-backed
limiter, say) while per-chat limits stay with the process that owns the chat.

:class:`LocalLimiter`, the default, keeps the budget in this process as sliding windows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, Protocol

from actorbot.sending._ratelimit import SlidingWindow

if TYPE_CHECKING:
    from actorbot.sending._settings import RateLimits

Lane = Literal["overall", "paid"]


class Limiter(Protocol):
    """Reserves slots of the bot-wide budget; called only from the sender's thread."""

    def reserve(self, lane: Lane, now: float) -> float:
        """Take one slot of ``lane`` at ``now`` and return 0.0; or take nothing and return
        the seconds until one may be free (the sender asks again then, not before)."""


def window(per_s: float, seconds: float, margin: float = 0.0) -> SlidingWindow | None:
    """At most ``per_s * seconds`` messages in any ``seconds + margin``; None if unlimited."""
    if math.isinf(per_s):
        return None
    return SlidingWindow(max(int(per_s * seconds + 1e-9), 1), seconds + margin)


class LocalLimiter:
    """The overall and paid-broadcast limits of :class:`RateLimits` as sliding windows
    (each widened by ``margin``), in this process."""

    def __init__(self, limits: RateLimits) -> None:
        self._lanes = {
            "overall": window(limits.global_per_s, limits.global_window, limits.margin),
            "paid": window(limits.paid_per_s, limits.paid_window, limits.margin),
        }

    def reserve(self, lane: Lane, now: float) -> float:
        limit = self._lanes[lane]
        if limit is None:
            return 0.0
        wait = limit.wait(now)
        if wait <= 0.0:
            limit.take(now)
        return wait
