"""The router's mailbox protocol: batches from the intake, clock ticks, engine requests."""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from actorbot.handlers import Handler, Routed
from actorbot.sending import CallFuture


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


@dataclass(slots=True, frozen=True)
class Dispatch:
    """Anyone -> router: for each ``(targets, event)`` of ``events``, in order, deliver
    ``event`` to the handler of each ``(route index, seed)`` in ``targets``, through the
    same path as updates (ordered with that seed's updates, buffered while it passivates,
    handed to its successor). A batch costs the router one wake-up."""

    events: Sequence[tuple[Sequence[tuple[int, Any]], Routed]]


class Ask(Routed):
    """A question for one handler's :meth:`~actorbot.Handler.on_ask`; ``future`` gets the
    answer, or the error it raised, or why no handler could be asked."""

    __slots__ = ("future", "message")

    hook: ClassVar[str] = "on_ask"

    def __init__(self, message: Any, future: CallFuture[Any]) -> None:
        self.message = message
        self.future = future

    def __repr__(self) -> str:
        return f"Ask({type(self.message).__name__})"

    def call(self, handler: Handler) -> Any:
        return handler.on_ask(self.message)

    def done(self, result: Any) -> None:
        with contextlib.suppress(queue.Full):  # settled already
            self.future.set(result)

    def failed(self, error: BaseException) -> None:
        with contextlib.suppress(queue.Full):
            self.future.set_exception((type(error), error, error.__traceback__))
