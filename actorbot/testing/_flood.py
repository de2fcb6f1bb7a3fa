"""Flood control: Telegram's limits per chat, per group and overall.

The default (``sliding=True``) is strict: a private chat is a bucket (a rate and a short
burst), a group and the bot overall are sliding windows (at most 20 in *any* 60 s, 30 in
*any* 1 s), which hold from a cold start; ``allow_paid_broadcast`` calls count against a
1,000/s window instead of the overall one. ``sliding=False`` makes every limit a token bucket
that starts full (a more lenient model, which lets a burst plus a second's rate through).
Which calls are charged, and the limits themselves, live in :mod:`actorbot.sending`,
shared with the sender.

A refused call consumes nothing. Time comes from an injectable clock so tests can step it.
"""

from __future__ import annotations

from dataclasses import dataclass

from actorbot.sending import Rate, SlidingWindow, TokenBucket, is_charged
from actorbot.testing._errors import retry_after_seconds

__all__ = ["FloodControl", "FloodLimits", "is_charged"]


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Rates and bursts. Defaults mirror Telegram's published guidance: about one message
    per second in a private chat (a short burst is tolerated), 20 per minute in a group or
    channel, about 30 per second overall. With ``sliding``, a group allows
    ``group_per_min * group_window / 60`` in any ``group_window`` seconds and the bot
    ``global_per_s * global_window`` in any ``global_window`` (shorter windows scale time);
    without, ``group_burst`` and ``global_burst`` are bucket capacities."""

    private_per_s: float = 1.0
    private_burst: int = 3
    group_per_min: float = 20.0
    group_burst: int = 20
    global_per_s: float = 30.0
    global_burst: int = 30
    paid_per_s: float = 1000.0
    sliding: bool = True
    group_window: float = 60.0
    global_window: float = 1.0


class FloodControl:
    """The limits of one bot. Not thread-safe: the caller holds the state lock."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._chats: dict[object, Rate] = {}
        self._overall: dict[bool, Rate] = {}

    def reset(self, limits: FloodLimits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        self._chats.clear()
        self._overall.clear()

    def _rates(self, chat: object, private: bool, paid: bool, now: float) -> tuple[Rate, Rate]:
        lim = self.limits
        overall = self._overall.get(paid)
        if overall is None:
            per_s = lim.paid_per_s if paid else lim.global_per_s
            if lim.sliding:
                overall = _window(per_s, lim.global_window)
            else:
                overall = TokenBucket(per_s, per_s if paid else lim.global_burst, now)
            self._overall[paid] = overall
        rate = self._chats.get(chat)
        if rate is None:
            if private:
                rate = TokenBucket(lim.private_per_s, lim.private_burst, now)
            elif lim.sliding:
                rate = _window(lim.group_per_min / 60.0, lim.group_window)
            else:
                rate = TokenBucket(lim.group_per_min / 60.0, lim.group_burst, now)
            self._chats[chat] = rate
        return rate, overall

    def check(self, chat: object, private: bool, now: float, *, paid: bool = False) -> int | None:
        """``None`` if a message to ``chat`` may go now, else the whole seconds to wait."""
        chat_rate, overall = self._rates(chat, private, paid, now)
        wait = max(chat_rate.wait(now), overall.wait(now))
        return None if wait <= 0 else retry_after_seconds(wait)

    def consume(self, chat: object, private: bool, now: float, *, paid: bool = False) -> None:
        """Charge one message (after :meth:`check` allowed it)."""
        chat_rate, overall = self._rates(chat, private, paid, now)
        chat_rate.take(now)
        overall.take(now)


def _window(per_s: float, seconds: float) -> SlidingWindow:
    return SlidingWindow(max(round(per_s * seconds), 1), seconds)
