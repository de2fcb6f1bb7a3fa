"""telepot 6.3's ``telepot.async.delegate``: coroutine-producing functions for the
asyncio ``DelegatorBot``, and (as telepot 12.7's ``telepot.aio.delegate``) the seed
calculators and pair producers of :mod:`actorbot.compat.telepot.delegate`.

``create_open`` runs telepot's loop as a coroutine: ``open``, then ``on_message`` for
each message its listener waits for, then ``on_close``; each may be a plain method or a
coroutine. An idle timeout, ``close()`` and the bot stopping are normal exits, logged at
debug level only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from actorbot.compat.telepot.delegate import (
    chain,
    include_callback_query_chat_id,
    pair,
    pave_event_space,
    per_application,
    per_callback_query_chat_id,
    per_callback_query_origin,
    per_chat_id,
    per_chat_id_except,
    per_chat_id_in,
    per_event_source_id,
    per_from_id,
    per_from_id_except,
    per_from_id_in,
    per_inline_from_id,
    per_inline_from_id_except,
    per_inline_from_id_in,
    per_message,
    until,
)
from actorbot.compat.telepot.exception import StopListening, WaitTooLong
from actorbot.compat.telepot.kit import Producer

__all__ = [
    "call",
    "chain",
    "create_open",
    "create_run",
    "include_callback_query_chat_id",
    "pair",
    "pave_event_space",
    "per_application",
    "per_callback_query_chat_id",
    "per_callback_query_origin",
    "per_chat_id",
    "per_chat_id_except",
    "per_chat_id_in",
    "per_event_source_id",
    "per_from_id",
    "per_from_id_except",
    "per_from_id_in",
    "per_inline_from_id",
    "per_inline_from_id_except",
    "per_inline_from_id_in",
    "per_message",
    "until",
]

log = structlog.get_logger("actorbot.compat.telepot")


def call(corofunc: Callable[..., Any], *args: Any, **kwargs: Any) -> Producer:
    """A task runs ``corofunc(seed_tuple, *args, **kwargs)`` per seed."""
    return Producer(getattr(corofunc, "__name__", "call"),
                     lambda seed_tuple: corofunc(seed_tuple, *args, **kwargs))


def create_run(cls: type[Any], *args: Any, **kwargs: Any) -> Producer:
    """A task runs ``cls(seed_tuple, *args, **kwargs).run()`` per seed."""
    return Producer(cls.__name__, lambda seed_tuple: cls(seed_tuple, *args, **kwargs).run())


async def _maybe(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def _open_loop(j: Any, seed_tuple: tuple[Any, Any, Any]) -> None:
    _bot, msg, seed = seed_tuple
    try:
        if not await _maybe(j.open(msg, seed)):
            await _maybe(j.on_message(msg))
        while True:
            try:
                msg = await j.listener.wait()
            except WaitTooLong as idle:  # telepot 12's on__idle, where the class has one
                hook, event = getattr(j, "on__idle", None), getattr(j, "idle_event", None)
                if hook is None:
                    raise
                await _maybe(hook(event() if event is not None
                                  else {"_idle": {"seconds": idle.seconds}}))
                continue
            await _maybe(j.on_message(msg))
    except (WaitTooLong, StopListening) as exc:  # idle, close(), the bot stopping: normal
        reason: Exception = exc
    except Exception as exc:  # logged here, then on_close sees it
        log.error("telepot.delegate_failed", delegate=type(j).__name__, stage="on_message",
                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        reason = exc
    try:
        await _maybe(j.on_close(reason))
    except Exception as exc:
        log.error("telepot.delegate_failed", delegate=type(j).__name__, stage="on_close",
                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)


def create_open(cls: type[Any], *args: Any, **kwargs: Any) -> Producer:
    """A task runs ``cls(seed_tuple, *args, **kwargs)``'s ``open``/``on_message``/``on_close``
    (``on_message`` may be a coroutine, as in telepot 6.3's asyncio counter)."""

    def make(seed_tuple: Any) -> Coroutine[Any, Any, None]:
        return _open_loop(cls(seed_tuple, *args, **kwargs), seed_tuple)

    return Producer(cls.__name__, make)
