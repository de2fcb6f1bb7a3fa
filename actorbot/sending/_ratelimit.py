"""Telegram's message limits as token buckets: shared by the sender (which keeps to them)
and the fake Bot API server (which enforces them), so the two cannot drift apart.

Only calls that post a message are charged: ``send*`` (except ``sendChatAction``),
``forwardMessage(s)`` and ``copyMessage(s)``. A media group, like a multi-message forward or
copy, is charged as **one** message: one call, one token (Telegram documents no finer rule).
Edits, answers, getters and chat actions are free.
"""

from __future__ import annotations

from typing import Final

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


def is_private_chat(chat_id: object) -> bool:
    """Private chats have positive ids (groups and channels negative ones)."""
    return isinstance(chat_id, int) and chat_id > 0


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; time is passed in."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
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
