"""telepot 6.3's asyncio ``Bot``, ``SpeakerBot`` and ``DelegatorBot`` on the engine.

Every Bot API method is a coroutine function (``await bot.sendMessage(...)`` returns the
sent Message). While the message loop runs, a call goes through the engine's sender
(rate limits, retries, per-chat order) and is awaited without blocking the loop; before
and after, it goes straight to the Bot API on a worker thread.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actorbot.compat.telepot.aio._listen import Listener
from actorbot.compat.telepot.aio._runtime import AioLoop
from actorbot.compat.telepot.exception import translate
from actorbot.compat.telepot.helper import Microphone
from actorbot.compat.telepot.kit import BotBase, Handle, Loop, delegation, reorderer, update_key
from actorbot.errors import StateError
from actorbot.errors import TelegramError as _ActorbotError

if TYPE_CHECKING:
    from actorbot.engine import Engine
    from actorbot.routing import Route


class Bot(BotBase):
    """telepot 6.3's ``telepot.async.Bot(token, loop=None)``; ``base_url`` and engine
    options are actorbot's additions (defaults from ``telepot.api.configure``)."""

    _loop_class = AioLoop

    def __init__(self, token: str, loop: asyncio.AbstractEventLoop | None = None, *,
                 base_url: str | None = None, **engine_options: Any) -> None:
        super().__init__(token, base_url=base_url, **engine_options)
        self._event_loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """This bot's event loop: the one given, else the one its message loop runs on,
        else asyncio's current one (telepot 6.3 took ``asyncio.get_event_loop()``)."""
        if self._event_loop is not None:
            return self._event_loop
        runner = self._runner
        if runner is not None and runner.event_loop is not None:
            return runner.event_loop
        return asyncio.get_event_loop()

    @property
    def engine(self) -> Engine | None:
        """The engine of the message loop (its stats), once ``messageLoop()`` started."""
        return None if self._loop is None else self._loop.engine

    @property
    def running(self) -> bool:
        """Whether ``messageLoop()`` has started the engine, and it is not stopping."""
        runner = self._runner
        return runner is not None and runner.up

    @property
    def _runner(self) -> AioLoop | None:
        loop = self._loop
        return loop if isinstance(loop, AioLoop) else None

    def _track(self, work: Any) -> None:
        """Have the message loop's stop wait for ``work`` (an ``Answerer``'s tasks)."""
        if self._loop is not None:
            self._loop.track(work)

    # -- Bot API methods ---------------------------------------------------------------

    def _method(self, name: str) -> Callable[..., Any]:
        async def method(*args: Any, **kwargs: Any) -> Any:
            call, params = self._bind(name, args, kwargs)
            return await self._request(call, params)

        return method

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        try:
            loop = self._loop
            if loop is not None and method != "getUpdates":
                future = loop.call(method, params)
                if future is not None:
                    return await future
            return await asyncio.to_thread(self._client.request, method, params)
        except _ActorbotError as exc:
            raise translate(exc) from None

    async def download_file(self, file_id: str, dest: Any) -> None:
        """Download a file to a path or a binary file object (on a worker thread)."""
        try:
            await asyncio.to_thread(self._client.download_file, file_id, dest)
        except _ActorbotError as exc:
            raise translate(exc) from None

    downloadFile = download_file  # noqa: N815 - telepot's name

    # -- the message loop --------------------------------------------------------------

    async def messageLoop(  # noqa: N802 - telepot 6.3's name and positional order
        self, handler: Handle = None, source: asyncio.Queue[Any] | None = None,
        ordered: bool = True, maxhold: float = 3,
    ) -> None:
        """Handle every update with ``handler`` (default: ``self.handle``; a function or a
        coroutine function, or a dict by flavor) until the bot is stopped.

        Updates come from ``getUpdates``, or from ``source`` (an ``asyncio.Queue`` of
        Updates as dicts, JSON text or UTF-8 bytes, e.g. filled by a webhook), restored
        to ``update_id`` order if ``ordered`` (holding one up to ``maxhold`` seconds).
        Cancelling the task stops the bot gracefully too.
        """
        await self.message_loop(handler, source=source, ordered=ordered, maxhold=maxhold)

    async def message_loop(  # noqa: PLR0917 - telepot 12.7's positional signature
        self, handler: Handle = None, relax: float = 0.1, timeout: int = 20,
        allowed_updates: Any = None, source: asyncio.Queue[Any] | None = None,
        ordered: bool = True, maxhold: float = 3,
    ) -> None:
        """telepot 12.7's name for :meth:`messageLoop`; ``relax`` is unused (long polling)."""
        if source is not None and not isinstance(source, asyncio.Queue):
            raise ValueError("Invalid source")
        runner = self._new_loop(handler, polling=source is None, timeout=timeout,
                                allowed_updates=allowed_updates)
        assert isinstance(runner, AioLoop)
        orderer = reorderer(runner.engine, maxhold) if source is not None and ordered else None
        await runner.start_async(source=source, orderer=orderer)
        try:
            await runner.ended()
        finally:  # cancelled (the program is ending): stop gracefully all the same, the
            # loop running until the stop is done (asyncio.run() awaits cancelled tasks)
            if runner.engine.status != "stopped":
                await runner.stop_async()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the message loop gracefully from another thread (actorbot's addition);
        True if everything was drained. On the loop: ``await bot.stop_async()``."""
        return super().stop(timeout)

    async def stop_async(self, timeout: float = 10.0) -> bool:
        """Stop the message loop gracefully from a coroutine; ``messageLoop()`` returns."""
        runner = self._runner
        return True if runner is None else await runner.stop_async(timeout)


class SpeakerBot(Bot):
    """A bot with a microphone: ``create_listener()`` listeners hear every message."""

    def __init__(self, token: str, loop: asyncio.AbstractEventLoop | None = None,
                 **options: Any) -> None:
        super().__init__(token, loop, **options)
        self._mic = Microphone()

    @property
    def mic(self) -> Microphone:
        return self._mic

    def create_listener(self) -> Listener:
        """A listener of the microphone (its ``wait()`` is a coroutine)."""
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._mic.add(q)
        return Listener(self._mic, q)


class DelegatorBot(SpeakerBot):
    """``DelegatorBot(token, [(seed_calculating_function, coroutine_producing_function),
    ...], loop=None)``: a task per seed, made from the coroutine its producer returns
    for ``(bot, msg, seed)``; see :mod:`._runtime` for how the tasks are fed."""

    def __init__(self, token: str, delegation_patterns: list[Any],
                 loop: asyncio.AbstractEventLoop | None = None, **options: Any) -> None:
        super().__init__(token, loop, **options)
        self._patterns = [tuple(p) for p in delegation_patterns]
        self._synthetic_ids = itertools.count(-1, -1)

    def handle(self, msg: Any) -> None:
        """Delegate ``msg`` (a message, as telepot passed them) while ``messageLoop()``
        runs (e.g. with a ``source`` queue); it gets a negative ``update_id``."""
        key = update_key(msg)
        runner = self._runner
        if runner is None or not runner.up:
            raise StateError("handle() needs the message loop running: await "
                             "bot.messageLoop(source=queue) in a task first")
        runner.feed({"update_id": next(self._synthetic_ids), key: msg})

    def _routes(self, handle: Handle) -> Callable[[Loop], list[Route]]:
        return super()._routes(handle) if handle is not None else delegation(self._patterns)


__all__ = ["Bot", "DelegatorBot", "SpeakerBot"]
