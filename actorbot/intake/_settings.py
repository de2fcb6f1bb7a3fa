"""Where updates come from: :class:`Polling` (the default) or a :class:`~.Webhook`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from actorbot.errors import ConfigError
from actorbot.runtime import Backoff
from actorbot.updates import UPDATE_TYPES


def update_types(types: Sequence[str] | None, what: str) -> tuple[str, ...] | None:
    """``allowed_updates`` checked: Telegram silently ignores a misspelt type, we don't."""
    if types is None:
        return None
    if isinstance(types, str):
        raise ConfigError(f"{what} takes a list of update types, not the string {types!r}")
    unknown = sorted(set(types) - set(UPDATE_TYPES))
    if unknown:
        raise ConfigError(f"{what}: unknown update types {unknown} (known: "
                          f"{', '.join(UPDATE_TYPES[:4])}, ...)")
    return tuple(types)


@dataclass(frozen=True, slots=True)
class Polling:
    """Long polling of ``getUpdates`` (``Engine(intake=Polling(...))``, the default).

    ``timeout``: seconds each long poll waits; ``limit``: updates per poll (1-100);
    ``allowed_updates``: update types to receive (None: Telegram's default set);
    ``backoff``: how 5xx and network errors are retried; ``conflict_retries``: how many
    409 answers (another poller, a webhook) in a row before polling stops with
    ``PollingStopped``; ``unreadable_retries``: how many answers in a row that cannot be
    read (not JSON, not a list, a local error while decoding) are backed off and retried
    before polling stops with ``PollingStopped``; ``delete_webhook``: delete a webhook
    first (switching back from webhook mode; its pending updates stay for ``getUpdates``).
    """

    timeout: int = 30
    limit: int = 100
    allowed_updates: Sequence[str] | None = None
    backoff: Backoff = field(default_factory=Backoff)
    conflict_retries: int = 5
    unreadable_retries: int = 10
    delete_webhook: bool = False

    def __post_init__(self) -> None:
        if (self.timeout < 0 or not 1 <= self.limit <= 100 or self.conflict_retries < 0
                or self.unreadable_retries < 0):
            raise ConfigError("Polling: timeout >= 0, limit 1-100, conflict_retries >= 0, "
                              "unreadable_retries >= 0")
        object.__setattr__(self, "allowed_updates",
                           update_types(self.allowed_updates, "Polling.allowed_updates"))
