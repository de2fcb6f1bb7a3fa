"""Flood control: token buckets per chat and one global, like Telegram's limits.

Which calls are charged, and the bucket itself, live in :mod:`actorbot.sending`, shared
with the sender.

A refused call consumes nothing. Time comes from an injectable clock so tests can step it.
"""

from __future__ import annotations

from dataclasses import dataclass

from actorbot.sending import TokenBucket, is_charged
from actorbot.testing._errors import retry_after_seconds

__all__ = ["FloodControl", "FloodLimits", "is_charged"]

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


class FloodControl:
    """The buckets of one bot. Not thread-safe: the caller holds the state lock."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._chats: dict[object, TokenBucket] = {}
        self._global: TokenBucket | None = None

    def reset(self, limits: FloodLimits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        self._chats.clear()
        self._global = None

    def _buckets(self, chat: object, private: bool, now: float) -> tuple[TokenBucket, TokenBucket]:
        lim = self.limits
        if self._global is None:
            self._global = TokenBucket(lim.global_per_s, lim.global_burst, now)
        bucket = self._chats.get(chat)
        if bucket is None:
            if private:
                bucket = TokenBucket(lim.private_per_s, lim.private_burst, now)
            else:
                bucket = TokenBucket(lim.group_per_min / 60.0, lim.group_burst, now)
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
