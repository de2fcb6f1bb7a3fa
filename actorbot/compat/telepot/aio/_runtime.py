"""How a telepot 6.3 asyncio program runs on the engine: the threaded flavour's routes,
with handler actors whose hooks are ``async def``.

The engine runs such handlers on the application's event loop (the loop that awaits
``bot.messageLoop()``), so a delegate is what telepot 6.3 made it: a task on that loop.

- A plain ``Bot``'s handler (a function or a coroutine function) runs in a handler actor
  per chat (per user for queries without a chat): each chat's messages are handled one
  after another, different chats concurrently. (telepot 6.3 made a task per message, so
  two messages of one chat could be handled in either order.)
- Each ``DelegatorBot`` pattern is a route; its actor per seed makes the pattern's
  coroutine into a task and hands it each routed message through an
  :class:`~._listen.AioFeed` (see there for why nothing is lost at an idle timeout).
  When the task ends, the actor closes, and the router gives its successor what came
  meanwhile, in order.
- ``bot.stop()`` (from another thread) or ``await bot.stop_async()`` stops the engine
  gracefully: messages under way are finished, delegates' listeners raise
  ``StopListening``, and ``messageLoop()`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from dataclasses import dataclass
from typing import Any

import structlog

from actorbot.compat.telepot.aio._listen import AioFeed, Listener, Outcome
from actorbot.compat.telepot.exception import StopListening, WaitTooLong
from actorbot.compat.telepot.kit import (
    JOIN_TIMEOUT,
    CallbackShell,
    DelegateBot,
    DelegateShell,
    Event,
    Loop,
    MicShell,
    callback_failed,
    dictify,
    message_of,
    tell,
)
from actorbot.errors import StateError

log = structlog.get_logger("actorbot.compat.telepot")

_STOP = object()
CALLBACK_IDLE = 60.0
"""Seconds a chat's callback actor stays without messages (it holds no state)."""


def origin(update: Any) -> Any:
    """Where a message comes from: its chat (a callback query's message's chat), else its
    sender; the seed of a plain bot's callback actors."""
    msg = message_of(update)
    if not isinstance(msg, dict):
        return None
    inner = msg.get("message")
    chat = msg.get("chat") or (inner.get("chat") if isinstance(inner, dict) else None)
    if isinstance(chat, dict) and "id" in chat:
        return "chat", chat["id"]
    user = msg.get("from")
    if isinstance(user, dict) and "id" in user:
        return "user", user["id"]
    return "other"


class _AioCallbackShell(CallbackShell):
    """Calls the bot's handler with each message of one chat; a coroutine is awaited."""

    async def on_message(self, update: Any) -> None:  # type: ignore[override]
        try:
            result = type(self).callback(message_of(update))
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # noqa: BLE001 - telepot printed it and went on
            callback_failed(update, exc)


class _AioMicShell(MicShell):
    """Relays every message to the bot's microphone, on the loop its queues belong to."""

    async def on_message(self, update: Any) -> None:  # type: ignore[override]
        self.loop.mic.send(message_of(update))


@dataclass(frozen=True, slots=True)
class _TaskEnded:
    run: _Task


class AioDelegateBot(DelegateBot):
    """The bot as one asyncio delegate sees it: its listeners read the delegate's feed."""

    def create_listener(self) -> Listener:
        return Listener(None, self._feed)


class _Task:
    """One delegate: the task of the coroutine its pattern produced, and its feed."""

    def __init__(self, task: asyncio.Future[Any], feed: AioFeed, label: str) -> None:
        self.task = task
        self.feed = feed
        self.label = label

    def ended(self, task: asyncio.Future[Any]) -> None:
        self.feed.exited()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None or isinstance(exc, StopListening | WaitTooLong):
            return  # a normal exit: closed, idle, or the bot is stopping
        log.error("telepot.delegate_failed", delegate=self.label, stage="run",
                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)

    async def stop(self, timeout: float) -> None:
        """Close the feed (its listeners raise StopListening); cancel it if it lingers."""
        self.feed.close()
        _done, pending = await asyncio.wait([self.task], timeout=timeout)
        if pending:
            log.warning("telepot.delegate_still_running", delegate=self.label)
            self.task.cancel()


class _AioDelegateShell(DelegateShell):
    """Runs a pattern's delegates for one seed, one task at a time, and feeds them."""

    def on_open(self, update: Any) -> None:
        self._task: _Task | None = None
        super().on_open(update)

    async def on_message(self, update: Any) -> None:  # type: ignore[override]
        await self._give(message_of(update), spawn=True)

    async def on_event(self, message: Any) -> None:  # type: ignore[override]
        if isinstance(message, _TaskEnded):
            if message.run is self._task:
                self._end()
        elif isinstance(message, Event):
            await self._give(message.data, spawn=False)

    async def on_close(self, reason: BaseException) -> None:  # type: ignore[override]
        run, self._task = self._task, None
        if run is not None:
            await run.stop(JOIN_TIMEOUT)
        super().on_close(reason)

    def release(self) -> None:
        run = self._task
        if run is not None:
            run.feed.close()

    async def _give(self, msg: Any, *, spawn: bool) -> None:
        run = self._task
        if run is not None:
            outcome = await run.feed.offer(msg)
            if outcome is Outcome.TAKEN:
                self._end()
                return
            if outcome is Outcome.CLOSED:
                log.warning("telepot.delegate_abandoned", route=self.context.route,
                            seed=repr(self.seed))
                return
            self._task = None  # it ended without taking msg: as telepot, start anew
        if spawn:
            self._task = await self._begin(msg)
            self._end()

    def _end(self) -> None:
        """Close once the delegate has ended."""
        run = self._task
        if run is not None and run.feed.done:
            self._task = None
            self.close()  # the next message gets a new shell, and a new delegate

    async def _begin(self, msg: Any) -> _Task | None:
        feed = AioFeed()
        ref = self.actor_ref
        label = type(self).label
        run = self.produce(msg, feed, AioDelegateBot,
                           lambda made: _Task(asyncio.ensure_future(made), feed, label))
        if run is None:
            return None
        run.task.add_done_callback(run.ended)
        run.task.add_done_callback(lambda _t: tell(ref, _TaskEnded(run)))
        await feed.settle()  # the first message is handled once the delegate waits for more
        return run


class AioLoop(Loop):
    """The engine behind an asyncio bot's ``messageLoop()``, on the application's loop."""

    callback_shell = _AioCallbackShell
    delegate_shell = _AioDelegateShell
    mic_shell = _AioMicShell
    callback_idle = CALLBACK_IDLE
    callback_seed = staticmethod(origin)

    event_loop: asyncio.AbstractEventLoop | None = None
    """The loop the engine's async hooks run on, once started."""
    _ended: asyncio.Event | None = None
    _pull_task: asyncio.Task[None] | None = None
    _pull_source: asyncio.Queue[Any] | None = None
    _up: threading.Event | None = None

    async def start_async(self, *, source: asyncio.Queue[Any] | None = None,
                          orderer: Any = None) -> None:
        """Start the engine on the running loop; updates come from polling or ``source``."""
        self.event_loop = asyncio.get_running_loop()
        self._ended = asyncio.Event()
        self._up = threading.Event()
        try:
            await self.engine.start_async()
            self.started(orderer, watch=True)
            if source is not None:
                self._pull_source = source
                self._pull_task = asyncio.create_task(self._pull_async(source, orderer))
        finally:
            self._up.set()  # a stop from another thread waits for this

    @property
    def up(self) -> bool:
        """Started (``start_async`` has returned) and not stopping."""
        return self._up is not None and self._up.is_set() and self.engine.running

    async def _pull_async(self, source: asyncio.Queue[Any], orderer: Any) -> None:
        while (item := await source.get()) is not _STOP:
            try:
                self.feed(dictify(item), orderer)
            except Exception as exc:  # noqa: BLE001 - a bad item must not end the loop
                log.error("telepot.bad_update", error=f"{type(exc).__name__}: {exc}")

    async def ended(self) -> None:
        """Until the loop has stopped."""
        assert self._ended is not None
        await self._ended.wait()

    def on_event_loop(self) -> bool:
        loop = self.event_loop
        if loop is None:
            return False
        with contextlib.suppress(RuntimeError):
            return asyncio.get_running_loop() is loop
        return False

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop gracefully, from any thread but the event loop's (there: ``stop_async``)."""
        if self.on_event_loop():
            raise StateError("bot.stop() on the event loop would block it: "
                             "use 'await bot.stop_async()'")
        if self._up is not None:
            self._up.wait(timeout)  # a start under way ends first: its source is drained too
        loop, task, source = self.event_loop, self._pull_task, self._pull_source
        if loop is not None and task is not None and source is not None:
            # what the source already holds is handled before the engine stops
            with contextlib.suppress(RuntimeError, TimeoutError):
                loop.call_soon_threadsafe(source.put_nowait, _STOP)
                asyncio.run_coroutine_threadsafe(asyncio.wait([task]), loop).result(timeout)
        drained = super().stop(timeout)
        ended = self._ended
        if loop is not None and ended is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits
                loop.call_soon_threadsafe(ended.set)
        return drained

    async def stop_async(self, timeout: float = 10.0) -> bool:
        return await asyncio.to_thread(self.stop, timeout)


__all__ = ["AioDelegateBot", "AioLoop", "origin"]
