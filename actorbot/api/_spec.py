"""What the client knows about each Bot API method, independent of how it is called."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One Bot API method as the spec describes it.

    `file_params` are the top-level parameters that may carry an upload; nested uploads
    (media groups, input media) are found by walking the value instead.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    file_params: tuple[str, ...]
    returns: tuple[str, ...]

    @property
    def params(self) -> tuple[str, ...]:
        return self.required + self.optional
