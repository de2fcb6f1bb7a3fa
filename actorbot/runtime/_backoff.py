"""Exponential backoff with jitter: one formula for the poller, the sender, the failure
policy and the fake's webhook delivery."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from actorbot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait ``initial * factor ** (attempt - 1)`` seconds, at most ``maximum``.

    With ``jitter`` (the default) the wait is drawn from the upper half of that ceiling, so
    that many clients failing together do not retry together, while the wait still grows.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        # Written so that NaN fails too: every comparison with it is False.
        if not (0 <= self.initial <= self.maximum < math.inf and self.factor >= 1):
            raise ConfigError(
                f"Backoff needs 0 <= initial <= maximum < inf and factor >= 1, not {self!r}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number ``attempt`` (1 for the first retry)."""
        if attempt < 1 or self.initial == 0:
            return 0.0
        try:
            grown = self.initial * self.factor ** (attempt - 1)
        except OverflowError:  # far past any maximum
            return float(self.maximum)
        return float(min(grown, self.maximum))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``attempt``, jittered unless ``jitter`` is off."""
        ceiling = self.ceiling(attempt)
        if not self.jitter:
            return ceiling
        draw = (rng or random).uniform  # jitter, not cryptography
        return draw(ceiling / 2, ceiling)
