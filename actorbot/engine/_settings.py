"""The engine's own settings: how handlers run, and the hooks that report its status."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from actorbot.errors import AsyncHookError, ConfigError
from actorbot.runtime import Runtime
from actorbot.updates import UPDATE_TYPES

RuntimeName = Literal["pool", "threads"]


class Status(StrEnum):
    """The engine's status. A ``str`` enum: ``engine.status == "connected"`` holds, logs
    and the ``status`` stat show the plain value.

    Transitions: ``STOPPED -> STARTING`` (``start()``); ``STARTING -> CONNECTED`` or
    ``RETRYING`` as ``getUpdates`` works or fails (without polling: ``CONNECTED`` at the
    end of ``start()``), then between those two; ``STARTING``/``CONNECTED``/``RETRYING ->
    FAILED`` on a fatal polling error (token refused or revoked, webhook set...: nothing
    polls any more; see ``engine.error``); any of those four ``-> STOPPING -> STOPPED``
    (``stop()``); ``STARTING -> STOPPED`` if the journal cannot open.
    """

    STOPPED = "stopped"
    STARTING = "starting"
    CONNECTED = "connected"
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPING = "stopping"


#: Pool threads for handlers when :class:`Handling` does not say.
DEFAULT_WORKERS = 4


@dataclass(frozen=True, slots=True)
class Handling:
    """How handler actors run (``Engine(handling=Handling(...))``).

    ``runtime``: ``"pool"`` (the default: handlers multiplexed on ``workers`` threads),
    ``"threads"`` (one thread each, for handlers that block) or a :class:`Runtime` of
    yours; ``max_in_flight``: updates in flight before intake waits (backpressure);
    ``sweep_limit``: idle handlers closed per clock tick at most; ``at_most_once``: update
    types never replayed nor retried (e.g. ``inline_query``, stale after a restart);
    ``loop_factory``: makes the event loop the engine runs async hooks on when it owns
    one (``asyncio.new_event_loop`` by default; ``uvloop.new_event_loop`` for a cheaper
    loop), as for ``asyncio.Runner``; a loop the engine is started on is used as it is.
    """

    runtime: RuntimeName | Runtime = "pool"
    workers: int | None = None
    max_in_flight: int = 1000
    sweep_limit: int = 2000
    at_most_once: Collection[str] = frozenset()
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None

    def __post_init__(self) -> None:
        runtime = self.runtime
        if isinstance(runtime, str):
            if runtime not in ("pool", "threads"):
                raise ConfigError(f"Handling.runtime must be 'pool', 'threads' or a Runtime, "
                                  f"not {runtime!r}")
        elif not hasattr(runtime, "spawn"):
            raise ConfigError(f"Handling.runtime must be 'pool', 'threads' or a Runtime, "
                              f"not {runtime!r}")
        if self.workers is not None and runtime != "pool":
            raise ConfigError("Handling.workers sizes the 'pool' runtime; it means nothing "
                              f"with runtime={runtime!r}")
        if (self.workers is not None and self.workers < 1) or self.max_in_flight < 1:
            raise ConfigError("Handling: workers and max_in_flight must be at least 1")
        if self.sweep_limit < 1:
            raise ConfigError("Handling.sweep_limit must be at least 1")
        if self.loop_factory is not None and not callable(self.loop_factory):
            raise ConfigError("Handling.loop_factory must be a callable that returns an "
                              f"event loop, such as uvloop.new_event_loop, not "
                              f"{self.loop_factory!r}")
        types = self.at_most_once
        unknown = sorted(set(types) - set(UPDATE_TYPES))
        if isinstance(types, str) or unknown:
            raise ConfigError(f"at_most_once takes update types ({', '.join(UPDATE_TYPES[:3])}"
                              f"...), not {unknown or types!r}")
        object.__setattr__(self, "at_most_once", frozenset(types))

    @property
    def pool_workers(self) -> int:
        return self.workers if self.workers is not None else DEFAULT_WORKERS


@dataclass(frozen=True, slots=True)
class Hooks:
    """Callbacks for the application (``Engine(hooks=Hooks(...))``).

    ``on_status`` gets each new :data:`Status`; ``on_connected`` runs when ``getUpdates``
    works again (or the engine started without polling); ``on_error`` gets poll errors,
    fatal ones included, and a failed command sync. They run on the thread that saw the
    event: keep them short and never call ``stop()`` from them. An exception in one is
    logged (``engine.hook_failed``), never raised into the engine.
    """

    on_status: Callable[[Status], None] | None = None
    on_connected: Callable[[], None] | None = None
    on_error: Callable[[BaseException], None] | None = None

    def __post_init__(self) -> None:
        for name in ("on_status", "on_connected", "on_error"):
            if inspect.iscoroutinefunction(getattr(self, name)):
                raise AsyncHookError(
                    f"Hooks.{name} is async def, but engine hooks run on the thread that saw "
                    f"the event and are not awaited: make it a plain def (it may schedule "
                    f"work on your loop with loop.call_soon_threadsafe)")
