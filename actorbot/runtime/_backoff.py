"""Exponential backoff with jitter: one formula for the poller, the sender, the failure
policy and the fake's webhook delivery."""

from __future__ import annotations

import random
from dataclasses import dataclass


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
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError(
                f"Backoff needs 0 <= initial <= maximum and factor >= 1, not {self!r}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number ``attempt`` (1 for the first retry)."""
        if attempt < 1 or self.initial == 0:
            return 0.0
        exponent = min(attempt - 1, 64)  # beyond that the maximum has long been reached
        return float(min(self.initial * self.factor ** exponent, self.maximum))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``attempt``, jittered unless ``jitter`` is off."""
        ceiling = self.ceiling(attempt)
        if not self.jitter:
            return ceiling
        draw = (rng or random).uniform  # jitter, not cryptography
        return draw(ceiling / 2, ceiling)
