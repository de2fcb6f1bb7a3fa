"""How an asyncio delegate waits for its next message: the threaded :class:`~.._listen.Feed`
rendezvous, on the event loop.

A delegate's handler actor (an async hook on the engine's event loop) hands each routed
message over with :meth:`AioFeed.offer`, which returns once the delegate has taken it and
waits again, or has ended without taking it (then the actor starts a new delegate with
it). So, as in the threaded flavour, a delegate that times out as a message arrives
loses nothing, and a message counts as handled only once its delegate is done with it.
Everything runs on the one loop thread: no lock, only a future that is resolved at
every change of state.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable
from typing import Any, cast

from actorbot.compat.telepot.exception import StopListening, WaitTooLong
from actorbot.compat.telepot.helper import Listener as _ThreadListener
from actorbot.compat.telepot.helper import Microphone
from actorbot.compat.telepot.kit import Outcome

_EMPTY = object()


class AioFeed:
    """A one-slot rendezvous between a handler actor (``offer``) and a delegate (``get``),
    both coroutines on the loop it was made on."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._signal: asyncio.Future[None] = self._loop.create_future()
        self._item: Any = _EMPTY
        self._waiting = False
        self._done = False
        self._closed = False

    def _changed(self) -> None:
        signal, self._signal = self._signal, self._loop.create_future()
        signal.set_result(None)

    async def _until(self, ready: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``ready()``; False if ``timeout`` passed first (ready wins a tie)."""
        deadline = None if timeout is None else self._loop.time() + timeout
        while not ready():
            left = None if deadline is None else deadline - self._loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait([self._signal], timeout=left)
        return True

    # -- the delegate's side ---------------------------------------------------------------

    async def get(self, timeout: float | None = None) -> Any:
        """The next message; ``queue.Empty`` after ``timeout``; StopListening once closed."""
        try:
            if not (self._closed or self._item is not _EMPTY):
                self._waiting = True
                self._changed()
                await self._until(lambda: self._closed or self._item is not _EMPTY, timeout)
            if self._closed:
                raise StopListening()
            if self._item is _EMPTY:
                raise queue.Empty
            item, self._item = self._item, _EMPTY
            return item
        finally:
            self._waiting = False
            self._changed()

    def exited(self) -> None:
        """The delegate ended: nothing will be taken any more."""
        self._done = True
        self._changed()

    # -- the actor's side ------------------------------------------------------------------

    def _ready(self) -> bool:
        return self._waiting or self._done or self._closed

    async def settle(self) -> None:
        """Until the delegate waits for a message or has ended."""
        await self._until(self._ready)

    async def offer(self, msg: Any) -> Outcome:
        """Hand ``msg`` to the delegate once it waits; return once it is done with it."""
        await self._until(self._ready)
        if self._closed:
            return Outcome.CLOSED
        if self._done:
            return Outcome.EXITED
        self._item = msg
        self._changed()
        await self._until(lambda: self._item is not msg or self._done or self._closed)
        if self._item is msg:  # it ended (or we closed) without taking it
            self._item = _EMPTY
            return Outcome.CLOSED if self._closed else Outcome.EXITED
        await self._until(self._ready)
        return Outcome.TAKEN

    def close(self) -> None:
        """Make the delegate's ``get`` raise StopListening and release a waiting ``offer``;
        callable from any thread."""
        if self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._closed = True
            self._changed()
        else:
            self._loop.call_soon_threadsafe(self.close)

    @property
    def done(self) -> bool:
        return self._done


class Listener(_ThreadListener):
    """telepot 6.3's ``telepot.async.helper.Listener``: captures as in the threaded one,
    and ``wait()`` is a coroutine (on the bot's microphone queue, or a delegate's feed)."""

    def __init__(self, mic: Microphone | None, q: asyncio.Queue[Any] | AioFeed) -> None:
        super().__init__(mic, cast("Any", q))  # the mic removes q when this listener goes
        self._source = q

    async def wait(self) -> Any:  # a coroutine, as in telepot 6.3
        """Until a matching message comes; ``WaitTooLong`` after the timeout option."""
        if not self._captures:
            raise RuntimeError("Listener has no capture criteria, will wait forever.")
        timeout: float | None = self._options.get("timeout")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(deadline - loop.time(), 0.0)
            try:
                msg = await self._next(left)
            except (queue.Empty, TimeoutError):
                raise WaitTooLong(timeout) from None
            if self.matches(msg):
                return msg

    async def _next(self, timeout: float | None) -> Any:
        source = self._source
        if isinstance(source, AioFeed):
            return await source.get(timeout)
        return await asyncio.wait_for(source.get(), timeout)  # an asyncio.Queue


__all__ = ["AioFeed", "Listener", "Outcome"]
