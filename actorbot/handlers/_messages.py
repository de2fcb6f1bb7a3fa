"""The engine's internal protocol between router, handlers, clock and sender.

Passivation, close requests and failures all hand over through the handler's own mailbox,
so nothing is lost on the way: the router stops delivering to a handler *before* it asks
it to close, and the handler returns every update that reached it after it stopped
accepting work (docs/architecture.md §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pykka import ActorRef


@dataclass(slots=True)
class Deliver:
    """Router -> handler: one update to handle. ``seq`` is the engine's own sequence.

    ``retries``: how many more times it is handed to a fresh handler if this one fails on
    it; ``durable``: at-least-once, so when the retries are spent it becomes a dead letter.
    """

    update: Any
    seq: int
    retries: int = 0
    durable: bool = False


@dataclass(slots=True, frozen=True)
class IdleCheck:
    """Router -> handler: no update for the idle timeout; close unless busy or kept alive."""


@dataclass(slots=True, frozen=True)
class Close:
    """Router -> handler: close now with ``reason``, returning any update not handled."""

    reason: BaseException


@dataclass(slots=True)
class Scheduled:
    """Clock -> handler: a message the handler scheduled for itself (``timer`` fired it)."""

    message: Any
    timer: Any = None


@dataclass(slots=True)
class HandlerIdle:
    """Handler -> router, answering :class:`IdleCheck`.

    ``closed``: the handler closed and stopped; otherwise it stays, busy until
    ``last_active`` or kept alive by ``on_idle``.
    """

    key: Any
    ref: ActorRef[Any]
    closed: bool
    last_active: float


@dataclass(slots=True)
class HandlerClosing:
    """Handler -> router: it failed, or called ``close()``; deliver nothing more to it.

    ``error`` is the exception for a failure, None for a requested close.
    """

    key: Any
    ref: ActorRef[Any]
    error: BaseException | None


@dataclass(slots=True)
class HandlerClosed:
    """Handler -> router, answering :class:`Close`: stopped; ``returned`` were not handled."""

    key: Any
    ref: ActorRef[Any]
    returned: list[Deliver] = field(default_factory=list)
