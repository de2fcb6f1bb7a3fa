"""Telegram's message limits: shared by the sender (which keeps to them) and the fake Bot
API server (which enforces them), so the two cannot drift apart.

Only calls that post a message are charged: ``send*`` (except ``sendChatAction``),
``forwardMessage(s)`` and ``copyMessage(s)``. A media group, like a multi-message forward or
copy, is charged as **one** message: one call, one token (Telegram documents no finer rule).
Edits, answers, getters and chat actions are free.

Two shapes of limit, one interface (``wait(now)``, ``take(now)``, ``fresh_at()``):
:class:`TokenBucket` (a rate with a burst: private chats) and :class:`SlidingWindow` (at most
``count`` in *any* window of ``seconds``: overall and per group). A bucket that starts full
lets ``burst + rate`` messages through in its first second; a window never does.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final, Protocol

from actorbot.errors import ConfigError

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


class Rate(Protocol):
    """One limit, on time passed in: how long until a message may go, and taking it."""

    def wait(self, now: float) -> float:
        """Seconds until one more message is allowed (0 when it is now)."""

    def take(self, now: float) -> None:
        """Count one message at ``now`` (after :meth:`wait` said 0)."""

    def fresh_at(self) -> float:
        """When this limit is as if it had never been used (so it may be forgotten)."""


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

    def wait(self, now: float) -> float:
        self.refill(now)
        return self.wait_time()

    def take(self, now: float) -> None:
        self.refill(now)
        self.tokens -= 1.0

    def fresh_at(self) -> float:
        if math.isinf(self.rate):
            return self.stamp
        return self.stamp + max(self.capacity - self.tokens, 0.0) / self.rate


class SlidingWindow:
    """At most ``count`` messages in any ``seconds``: the times of the last ``count`` are
    kept, so a check and a take are amortised O(1) and memory is O(count)."""

    __slots__ = ("count", "seconds", "times")

    def __init__(self, count: int, seconds: float) -> None:
        if count < 1 or seconds <= 0:
            raise ConfigError("a sliding window needs count >= 1 and seconds > 0")
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        times, horizon = self.times, now - self.seconds
        while times and times[0] <= horizon:
            times.popleft()

    def wait(self, now: float) -> float:
        self._expire(now)
        if len(self.times) < self.count:
            return 0.0
        return max(self.times[0] + self.seconds - now, _EPSILON)

    def take(self, now: float) -> None:
        self._expire(now)
        self.times.append(now)

    def fresh_at(self) -> float:
        return self.times[-1] + self.seconds if self.times else -math.inf
