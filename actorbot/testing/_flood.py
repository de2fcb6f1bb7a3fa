"""Flood control: token buckets per chat and one global, like Telegram's limits.

Only calls that post a message are charged: ``send*`` (except ``sendChatAction``),
``forwardMessage(s)`` and ``copyMessage(s)``. A media group, like a multi-message forward or
copy, is charged as **one** message: one call, one token (Telegram documents no finer rule,
and charging it per item would make a 10-photo album to a group cost half a minute).
Edits, answers, getters and chat actions are free.

A refused call consumes nothing. Time comes from an injectable clock so tests can step it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from actorbot.testing._errors import retry_after_seconds

_EPSILON: Final = 1e-9
_FREE_SENDS: Final = frozenset({"sendChatAction"})
_ALSO_CHARGED: Final = frozenset(
    {"forwardMessage", "forwardMessages", "copyMessage", "copyMessages"}
)


def is_charged(method: str) -> bool:
    """Whether ``method`` (canonical name) posts a message and so counts against the limits."""
    if method in _ALSO_CHARGED:
        return True
    return method.startswith("send") and method not in _FREE_SENDS


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Rates and bursts. Defaults mirror Telegram's published guidance: about one message
    per second in a private chat (a short burst is tolerated), 20 per minute in a group or
    channel, about 30 per second overall. Bursts are bucket capacities."""

    private_per_s: float = 1.0
    private_burst: int = 3
    group_per_min: float = 20.0
    group_burst: int = 20
    global_per_s: float = 30.0
    global_burst: int = 30


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = float(capacity)
        self.tokens = float(capacity)
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        missing = 1.0 - self.tokens
        if missing <= _EPSILON:  # float dust from refills must not cost a whole second
            return 0.0
        return missing / self.rate


class FloodControl:
    """The buckets of one bot. Not thread-safe: the caller holds the state lock."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._chats: dict[object, _Bucket] = {}
        self._global: _Bucket | None = None

    def reset(self, limits: FloodLimits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        self._chats.clear()
        self._global = None

    def _buckets(self, chat: object, private: bool, now: float) -> tuple[_Bucket, _Bucket]:
        lim = self.limits
        if self._global is None:
            self._global = _Bucket(lim.global_per_s, lim.global_burst, now)
        bucket = self._chats.get(chat)
        if bucket is None:
            if private:
                bucket = _Bucket(lim.private_per_s, lim.private_burst, now)
            else:
                bucket = _Bucket(lim.group_per_min / 60.0, lim.group_burst, now)
            self._chats[chat] = bucket
        self._global.refill(now)
        bucket.refill(now)
        return bucket, self._global

    def check(self, chat: object, private: bool, now: float) -> int | None:
        """``None`` if a message to ``chat`` may go now, else the whole seconds to wait."""
        chat_bucket, global_bucket = self._buckets(chat, private, now)
        wait = max(chat_bucket.wait_time(), global_bucket.wait_time())
        return None if wait <= 0 else retry_after_seconds(wait)

    def consume(self, chat: object, private: bool, now: float) -> None:
        """Charge one message (after :meth:`check` allowed it)."""
        chat_bucket, global_bucket = self._buckets(chat, private, now)
        chat_bucket.tokens -= 1.0
        global_bucket.tokens -= 1.0
