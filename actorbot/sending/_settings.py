"""How the sender works: one settings object for every knob of the sending stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actorbot.errors import ConfigError
from actorbot.runtime import Backoff

if TYPE_CHECKING:
    from actorbot.sending._limiter import Limiter


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's limits with a safety margin.

    A private chat is a token bucket (``private_per_s``, burst ``private_burst``); a group
    and the bot overall are sliding windows: at most ``group_per_min * group_window / 60``
    messages in any ``group_window`` seconds, at most ``global_per_s * global_window`` in
    any ``global_window`` (``paid_*``: the paid-broadcast lane, for calls with
    ``allow_paid_broadcast``). Windows hold from a cold start, where a full bucket would
    not. The overall windows count a call until its answer came back (requests can reach
    Telegram closer together than they left); every window is also widened by ``margin``
    seconds. Shorter windows with the same rates scale time (tests).
    """

    private_per_s: float = 1.0
    private_burst: int = 2
    group_per_min: float = 19.0
    group_window: float = 60.0
    global_per_s: float = 29.0
    global_window: float = 1.0
    paid_per_s: float = 950.0
    paid_window: float = 1.0
    margin: float = 0.02

    def __post_init__(self) -> None:
        rates = (self.private_per_s, self.group_per_min, self.global_per_s, self.paid_per_s)
        windows = (self.group_window, self.global_window, self.paid_window)
        if min(rates) <= 0 or self.private_burst < 1 or min(windows) <= 0 or self.margin < 0:
            raise ConfigError("RateLimits: rates, bursts and windows must be positive")

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No pacing at all: for a local Bot API server or a fake without flood control."""
        inf = float("inf")
        return cls(inf, 1 << 30, inf, 60.0, inf, 1.0, inf, 1.0, 0.0)


@dataclass(frozen=True, slots=True)
class Sending:
    """The sender's settings (``Engine(sending=Sending(...))``).

    ``limits``: Telegram's rate limits (:meth:`RateLimits.unlimited` for a local server);
    ``http_workers``: most calls in flight at once (the pool follows the round trip up to
    this); ``max_queue``: calls waiting before a new one raises ``SenderQueueFull``, or
    blocks with ``block_when_full``; ``backoff``: the wait between retries;
    ``retry_deadline``: seconds from queueing during which 5xx, 429, connection failures
    and connections closed before the request was read are retried (an outage shorter than
    that loses nothing); ``max_retries``: the tries, beyond the first, of a call that may
    have reached Telegram and is safe to repeat; ``answer_deadline``: seconds after which a
    callback or inline answer is dropped as ``TooLate`` (Telegram refuses it anyway);
    ``limiter``: the bot-wide budget (default: a :class:`LocalLimiter` of ``limits``; one
    shared by several processes plugs in here).
    """

    limits: RateLimits = field(default_factory=RateLimits)
    http_workers: int = 256
    max_queue: int = 10_000
    block_when_full: bool = False
    max_retries: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    answer_deadline: float = 10.0
    retry_deadline: float = 300.0
    limiter: Limiter | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.http_workers < 1 or self.max_queue < 1:
            raise ConfigError("Sending: http_workers and max_queue must be at least 1")
        if self.max_retries < 0 or self.answer_deadline <= 0 or self.retry_deadline < 0:
            raise ConfigError("Sending: max_retries and retry_deadline must be >= 0 and "
                              "answer_deadline > 0")
