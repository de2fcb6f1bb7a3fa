"""telepot 6.3's ``telepot.async.helper``: ``Microphone``, ``Listener`` (``wait()`` is a
coroutine) and ``Answerer`` (a task per inline query); and, as telepot 12.7's
``telepot.aio.helper``, the handler classes of :mod:`actorbot.compat.telepot.helper`,
which work unchanged with an asyncio bot: their ``sender`` methods are the bot's
coroutines, their ``listener`` is this module's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

import structlog

from actorbot.compat.telepot.aio._listen import Listener
from actorbot.compat.telepot.helper import (
    Administrator,
    ChatContext,
    ChatHandler,
    DefaultRouterMixin,
    Editor,
    InlineUserHandler,
    ListenerContext,
    Microphone,
    Monitor,
    Router,
    Sender,
    UserContext,
    UserHandler,
    answer_arguments,
    openable,
)

__all__ = [
    "Administrator",
    "Answerer",
    "AnswererMixin",
    "ChatContext",
    "ChatHandler",
    "DefaultRouterMixin",
    "Editor",
    "InlineUserHandler",
    "Listener",
    "ListenerContext",
    "Microphone",
    "Monitor",
    "Router",
    "Sender",
    "UserContext",
    "UserHandler",
    "openable",
]

log = structlog.get_logger("actorbot.compat.telepot")


class Answerer:
    """Answers inline queries with a task per query, at most one at work per user.

    telepot 6.3's ``Answerer(bot, compute_function, loop=None)`` + ``answer(inline_query)``
    and 12.7's ``answer(inline_query, compute_fn, *args, **kwargs)`` both work. The
    compute function may be a plain function or a coroutine function; a newer query from
    the same user cancels the task of the older one at once. The bot's stop waits for the
    tasks under way.
    """

    def __init__(self, bot: Any, compute_function: Callable[..., Any] | None = None,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._bot = bot
        self._compute = compute_function
        self._loop = loop
        self._working: dict[Any, asyncio.Task[None]] = {}  # user -> their newest query's task

    def answer(self, inline_query: dict[str, Any], compute_fn: Callable[..., Any] | None = None,
               *compute_args: Any, **compute_kwargs: Any) -> asyncio.Task[None]:
        """Create a task computing the answer to ``inline_query`` and sending it with
        ``answerInlineQuery``, after cancelling the task for the user's previous query."""
        if compute_fn is None:
            if self._compute is None:
                raise TypeError("answer() needs a compute function: Answerer(bot, fn) or "
                                "answer(inline_query, fn)")
            job = functools.partial(self._compute, inline_query)
        else:
            job = functools.partial(compute_fn, *compute_args, **compute_kwargs)
        user = inline_query["from"]["id"]
        previous = self._working.get(user)
        if previous is not None and not previous.done():
            previous.cancel()
            log.debug("telepot.answer_superseded", query_id=inline_query["id"])
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(self._work(inline_query["id"], job))
        self._working[user] = task
        task.add_done_callback(functools.partial(self._done, user))
        track = getattr(self._bot, "_track", None)  # made before messageLoop(): look it up now
        if track is not None:
            track(self)
        return task

    def _done(self, user: Any, task: asyncio.Task[None]) -> None:
        if self._working.get(user) is task:
            del self._working[user]

    async def _work(self, query_id: Any, job: Callable[[], Any]) -> None:
        try:
            answer = job()
            if inspect.isawaitable(answer):
                answer = await answer
            args, kwargs = answer_arguments(query_id, answer)
            await self._bot.answerInlineQuery(*args, **kwargs)
        except Exception as exc:  # one failed answer must not stop the others
            log.error("telepot.answer_failed", error=f"{type(exc).__name__}: {exc}",
                      exc_info=exc)

    @property
    def busy(self) -> bool:
        """Whether a computation is under way."""
        return any(not t.done() for t in list(self._working.values()))

    def join(self, timeout: float | None = None) -> None:
        """Wait for the tasks under way, from a thread other than the loop's (the bot's
        stop does)."""
        tasks = [t for t in list(self._working.values()) if not t.done()]
        if not tasks:
            return
        loop = tasks[0].get_loop()

        async def finish() -> None:
            await asyncio.wait(tasks)

        with contextlib.suppress(RuntimeError, TimeoutError, concurrent.futures.TimeoutError):
            asyncio.run_coroutine_threadsafe(finish(), loop).result(timeout)


_Answerer = Answerer


class AnswererMixin:
    """Gives a handler an asyncio ``answerer``."""

    Answerer: type[_Answerer] = _Answerer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._answerer = self.Answerer(getattr(self, "bot", None))
        super().__init__(*args, **kwargs)

    @property
    def answerer(self) -> _Answerer:
        return self._answerer
