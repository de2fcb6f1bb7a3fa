"""How the sender works: one settings object for every knob of the sending stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from actorbot.errors import ConfigError
from actorbot.runtime import Backoff


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's limits with a safety margin: requests can reach Telegram closer together
    than they left, so keeping exactly to the limit would earn the odd 429."""

    private_per_s: float = 1.0
    private_burst: int = 2
    group_per_min: float = 19.0
    group_burst: int = 15
    global_per_s: float = 29.5
    global_burst: int = 25
    paid_per_s: float = 950.0
    paid_burst: int = 100

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No pacing at all: for a local Bot API server or a fake without flood control."""
        inf = float("inf")
        return cls(inf, 1 << 30, inf, 1 << 30, inf, 1 << 30, inf, 1 << 30)


@dataclass(frozen=True, slots=True)
class Sending:
    """The sender's settings (``Engine(sending=Sending(...))``).

    ``limits``: Telegram's rate limits (:meth:`RateLimits.unlimited` for a local server);
    ``http_workers``: most calls in flight at once (the pool follows the round trip up to
    this); ``max_queue``: calls waiting before a new one raises ``SenderQueueFull``, or
    blocks with ``block_when_full``; ``max_retries`` and ``backoff``: how 5xx, 429 and
    connection errors are retried; ``answer_deadline``: seconds after which a callback or
    inline answer is dropped as ``TooLate`` (Telegram refuses it anyway).
    """

    limits: RateLimits = field(default_factory=RateLimits)
    http_workers: int = 256
    max_queue: int = 10_000
    block_when_full: bool = False
    max_retries: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    answer_deadline: float = 10.0

    def __post_init__(self) -> None:
        if self.http_workers < 1 or self.max_queue < 1:
            raise ConfigError("Sending: http_workers and max_queue must be at least 1")
        if self.max_retries < 0 or self.answer_deadline <= 0:
            raise ConfigError("Sending: max_retries must be >= 0 and answer_deadline > 0")
