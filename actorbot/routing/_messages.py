"""The router's mailbox protocol: batches from the intake, clock ticks, engine requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Batch:
    """Poller/feed -> router: updates in the order they came from Telegram. A ``replay``
    (the journal's pending updates at start) skips at-most-once routes."""

    updates: list[Any]
    replay: bool = False


@dataclass(slots=True, frozen=True)
class Tick:
    """Clock -> router: time to look for idle handlers."""


@dataclass(slots=True, frozen=True)
class SweepMore:
    """Router -> itself: the last sweep hit its budget; go on after the queued messages."""


@dataclass(slots=True, frozen=True)
class Respawn:
    """Clock -> router: a backoff after a failure is over for ``key``."""

    key: Any


@dataclass(slots=True, frozen=True)
class ChatMoved:
    """Engine -> router: a group became a supergroup; its handlers follow the new id."""

    old: Any
    new: Any


@dataclass(slots=True, frozen=True)
class Evict:
    """Engine -> router: close the live handlers of these ``(route index, seed)`` keys with
    ``reason`` (their seeds moved to another process: a later handler reloads state)."""

    keys: tuple[tuple[int, Any], ...]
    reason: BaseException


@dataclass(slots=True, frozen=True)
class Ping:
    """Answered with None: once it is, everything sent before it was handled (a flush)."""


@dataclass(slots=True, frozen=True)
class Shutdown:
    """Engine -> router: close every handler (reason: shutdown) and report when done."""
