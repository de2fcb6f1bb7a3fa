"""telepot.delegate: seed calculators and delegate producers for ``DelegatorBot``.

Seed functions take the *message* (the Update's inner object), as in telepot, and keep
telepot's semantics: a ``KeyError`` or ``BadFlavor`` inside means "not mine" (None).
``create_open`` runs telepot's loop (``open``, then ``on_message`` for each message its
listener waits for, then ``on_close``); an idle timeout, ``close()`` and the bot
stopping are normal exits, logged at debug level, not as errors.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Collection, Iterable
from typing import Any

import structlog

from actorbot.compat.telepot._flavor import canonical
from actorbot.compat.telepot._flavor import flavor as _flavor
from actorbot.compat.telepot.exception import BadFlavor, StopListening, WaitTooLong

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

Seeder = Callable[[Any], Any]
_INLINE = ("inline_query", "chosen_inline_result")


def _flavor_of(msg: Any) -> str:
    found = _flavor(msg)
    if found == "unknown":
        raise BadFlavor(msg)
    return found


def _of_flavors(msg: Any, flavors: Any) -> bool:
    return flavors == "all" or _flavor_of(msg) in {canonical(f) for f in flavors}


def _none_on_miss(fn: Seeder) -> Seeder:
    @functools.wraps(fn)
    def seeder(msg: Any) -> Any:
        try:
            return fn(msg)
        except (KeyError, TypeError, BadFlavor):
            return None

    return seeder


def _chat_seeder(types: Any, keep: Callable[[Any], bool]) -> Seeder:
    def seed(msg: Any) -> Any:
        chat = msg["chat"]
        if (types == "all" or chat["type"] in types) and keep(chat["id"]):
            return chat["id"]
        return None

    return _none_on_miss(seed)


def per_chat_id(types: Any = "all") -> Seeder:
    """Seed = ``msg['chat']['id']``, for chats of the given types."""
    return _chat_seeder(types, lambda _id: True)


def per_chat_id_in(s: Collection[Any], types: Any = "all") -> Seeder:
    return _chat_seeder(types, lambda chat_id: chat_id in s)


def per_chat_id_except(s: Collection[Any], types: Any = "all") -> Seeder:
    return _chat_seeder(types, lambda chat_id: chat_id not in s)


def _from_seeder(flavors: Any, keep: Callable[[Any], bool]) -> Seeder:
    def seed(msg: Any) -> Any:
        user = msg["from"]["id"]
        if _of_flavors(msg, flavors) and keep(user):
            return user
        return None

    return _none_on_miss(seed)


def per_from_id(flavors: Any = "all") -> Seeder:
    """Seed = ``msg['from']['id']``, for messages of the given flavors (6.3: all of them;
    12.7 limited the default to chat and inline flavors)."""
    return _from_seeder(flavors, lambda _id: True)


def per_from_id_in(s: Collection[Any], flavors: Any = "all") -> Seeder:
    return _from_seeder(flavors, lambda user: user in s)


def per_from_id_except(s: Collection[Any], flavors: Any = "all") -> Seeder:
    return _from_seeder(flavors, lambda user: user not in s)


def per_inline_from_id() -> Seeder:
    return per_from_id(flavors=_INLINE)


def per_inline_from_id_in(s: Collection[Any]) -> Seeder:
    return per_from_id_in(s, flavors=_INLINE)


def per_inline_from_id_except(s: Collection[Any]) -> Seeder:
    return per_from_id_except(s, flavors=_INLINE)


def per_application() -> Seeder:
    """Always 1: one delegate for the whole bot."""
    return lambda _msg: 1


def per_message(flavors: Any = "all") -> Seeder:
    """An unhashable seed (``[]``): a new delegate for every message of the flavors."""
    return _none_on_miss(lambda msg: [] if _of_flavors(msg, flavors) else None)


def per_event_source_id(event_space: Any) -> Seeder:
    """Seed = the source id of events of ``event_space`` (events stay with their delegate
    here, so this only matters to programs that feed events themselves)."""

    def seed(event: Any) -> Any:
        if isinstance(event, dict) and len(event) == 1:
            (key, body), = event.items()
            if str(key).startswith("_") and body["source"]["space"] == event_space:
                return body["source"]["id"]
        return None

    return _none_on_miss(seed)


def per_callback_query_chat_id(types: Any = "all") -> Seeder:
    """Seed = the chat id of the message a callback query's button was under."""

    def seed(msg: Any) -> Any:
        if _flavor_of(msg) == "callback_query" and "message" in msg:
            chat = msg["message"]["chat"]
            if types == "all" or chat["type"] in types:
                return chat["id"]
        return None

    return _none_on_miss(seed)


def per_callback_query_origin(origins: Any = "all") -> Seeder:
    """Seed = the origin of a callback query: ``(chat_id, message_id)`` or ``(inline_id,)``."""

    def seed(msg: Any) -> Any:
        if _flavor_of(msg) != "callback_query":
            return None
        if "inline_message_id" in msg:
            return (msg["inline_message_id"],) if origins == "all" or "inline" in origins else None
        if origins == "all" or "chat" in origins:
            return msg["message"]["chat"]["id"], msg["message"]["message_id"]
        return None

    return _none_on_miss(seed)


def until(condition: Callable[[Any], bool], fns: Iterable[Seeder]) -> Seeder:
    """The first seed of ``fns`` that meets ``condition``, else None."""
    seeders = list(fns)

    def seed(msg: Any) -> Any:
        for fn in seeders:
            value = fn(msg)
            if condition(value):
                return value
        return None

    return seed


def chain(*fns: Seeder) -> Seeder:
    """The first seed of ``fns`` that is not None."""
    return until(lambda seed: seed is not None, fns)


# -- delegate producers --------------------------------------------------------------------


class _Producer:
    """A delegator that knows the class it makes (the route and its actors are named so)."""

    def __init__(self, label: str, make: Callable[[Any], Any]) -> None:
        self.label = label
        self._make = make

    def __call__(self, seed_tuple: Any) -> Any:
        return self._make(seed_tuple)


def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> _Producer:
    """A thread runs ``func(seed_tuple, *args, **kwargs)`` per seed."""
    return _Producer(getattr(func, "__name__", "call"),
                     lambda seed_tuple: (func, (seed_tuple, *args), kwargs))


def create_run(cls: type[Any], *args: Any, **kwargs: Any) -> _Producer:
    """A thread runs ``cls(seed_tuple, *args, **kwargs).run()`` per seed."""
    return _Producer(cls.__name__, lambda seed_tuple: cls(seed_tuple, *args, **kwargs).run)


def _wait_loop(j: Any, seed_tuple: Any) -> None:
    _bot, msg, seed = seed_tuple
    try:
        if not j.open(msg, seed):
            j.on_message(msg)
        while True:
            try:
                msg = j.listener.wait()
            except WaitTooLong as idle:
                hook = getattr(j, "on__idle", None)
                if hook is None:
                    raise
                event = getattr(j, "idle_event", None)
                hook(event() if event is not None else {"_idle": {"seconds": idle.seconds}})
                continue
            j.on_message(msg)
    except (WaitTooLong, StopListening) as exc:  # idle, close(), the bot stopping: normal
        reason: Exception = exc
    except Exception as exc:  # logged here, then on_close sees it
        log.error("telepot.delegate_failed", delegate=type(j).__name__, stage="on_message",
                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        reason = exc
    try:
        j.on_close(reason)
    except Exception as exc:
        log.error("telepot.delegate_failed", delegate=type(j).__name__, stage="on_close",
                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)


def create_open(cls: type[Any], *args: Any, **kwargs: Any) -> _Producer:
    """A thread runs ``cls(seed_tuple, *args, **kwargs)``'s ``open``/``on_message``/``on_close``."""

    def make(seed_tuple: Any) -> Callable[[], None]:
        j = cls(seed_tuple, *args, **kwargs)
        return functools.partial(_wait_loop, j, seed_tuple)

    return _Producer(cls.__name__, make)


# -- pair producers ------------------------------------------------------------------------


def _seeders(seeders: Seeder | list[Seeder]) -> list[Seeder]:
    return seeders if isinstance(seeders, list) else [seeders]


def pair(seeders: Seeder | list[Seeder], delegator_factory: Callable[..., Any], *args: Any,
         **kwargs: Any) -> tuple[Seeder, Any]:
    """``(seeder, delegator_factory(*args, **kwargs))``; several seeders are chained."""
    found = _seeders(seeders)
    seeder = chain(*found) if len(found) > 1 else found[0]
    return seeder, delegator_factory(*args, **kwargs)


_event_spaces = itertools.count(1)


def pave_event_space(fn: Callable[..., Any] = pair) -> Callable[..., Any]:
    """A pair producer giving the delegate an ``event_space`` for its scheduler's events."""
    event_space = next(_event_spaces)

    def produce(seeders: Seeder | list[Seeder], delegator_factory: Callable[..., Any],
                *args: Any, **kwargs: Any) -> Any:
        return fn([*_seeders(seeders), per_event_source_id(event_space)], delegator_factory,
                  *args, event_space=event_space, **kwargs)

    return produce


def include_callback_query_chat_id(fn: Callable[..., Any] = pair,
                                   types: Any = "all") -> Callable[..., Any]:
    """A pair producer that also routes callback queries to their chat's delegate."""

    def produce(seeders: Seeder | list[Seeder], delegator_factory: Callable[..., Any],
                *args: Any, **kwargs: Any) -> Any:
        return fn([*_seeders(seeders), per_callback_query_chat_id(types=types)],
                  delegator_factory, *args, include_callback_query=True, **kwargs)

    return produce
