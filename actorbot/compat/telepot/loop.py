"""telepot.loop: ``MessageLoop``, ``Webhook``, ``OrderedWebhook`` on the engine.

``MessageLoop`` polls with the engine's poller; the webhook classes hand what ``feed``
gets to :meth:`actorbot.Engine.feed`. ``OrderedWebhook`` (and an ordered ``source=``
queue) first restores ``update_id`` order with :class:`actorbot.intake.Reorderer`, holding an
update up to ``maxhold`` seconds for a missing earlier one; as in telepot, an update that
comes after its hold expired (after a larger ``update_id`` was handled) is discarded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actorbot.compat.telepot._runtime import dictify, reorderer
from actorbot.intake import Reorderer

if TYPE_CHECKING:
    from actorbot.compat.telepot._bot import Bot, Handle

__all__ = ["MessageLoop", "OrderedWebhook", "Webhook"]


class MessageLoop:
    """Polls ``getUpdates`` and hands every message to ``handle`` (default: ``bot.handle``;
    a dict routes by flavor)."""

    def __init__(self, bot: Bot, handle: Handle = None) -> None:
        self._bot = bot
        self._handle = handle

    def run_as_thread(self, relax: float = 0.1, offset: int | None = None, timeout: int = 20,
                      allowed_updates: Any = None) -> None:
        """Start and return; stops when the main thread ends (or ``bot.stop()``)."""
        self._bot._new_loop(self._handle, timeout=timeout,
                            allowed_updates=allowed_updates).start(watch=True)

    def run_forever(self, relax: float = 0.1, offset: int | None = None, timeout: int = 20,
                    allowed_updates: Any = None) -> None:
        """Run until SIGINT/SIGTERM, then stop gracefully."""
        self._bot._new_loop(self._handle, timeout=timeout,
                            allowed_updates=allowed_updates).run_forever()


class Webhook:
    """Handles the updates given to :meth:`feed` (a webhook's request bodies)."""

    _ordered = False

    def __init__(self, bot: Bot, handle: Handle = None) -> None:
        self._bot = bot
        self._handle = handle
        self._loop = bot._new_loop(handle, polling=False)
        self._orderer: Reorderer | None = None

    def _start(self, maxhold: float) -> Reorderer | None:
        if self._ordered:
            engine = self._loop.engine
            self._orderer = reorderer(engine, maxhold)
        return self._orderer

    def run_as_thread(self, maxhold: float = 3) -> None:
        self._loop.start(orderer=self._start(maxhold), watch=True)

    def run_forever(self, maxhold: float = 3) -> None:
        self._loop.run_forever(orderer=self._start(maxhold))

    def feed(self, data: Any) -> None:
        """``data``: an Update as a dict, JSON text or UTF-8 bytes."""
        self._loop.feed(dictify(data), self._orderer)


class OrderedWebhook(Webhook):
    """A :class:`Webhook` that restores ``update_id`` order (see the module docstring)."""

    _ordered = True
