"""Seed functions: which handler an update belongs to.

A route pairs a seed function with a handler class. For each update the router calls the
seed function and then, as telepot's ``DelegatorBot`` did:

- a **hashable** seed reuses the live handler for ``(route, seed)`` or spawns one;
- an **unhashable** seed (e.g. ``[]``) always spawns a fresh handler for this update;
- ``None`` skips the route for this update.

Seed functions receive the whole Update and must not raise on odd input; the router still
guards them (a raising seed function is logged and treated as ``None``). Write your own as
a plain function, or wrap one with :func:`seed_function` to get that guard early.

telepot's functions took a filter of chat *types* (``per_chat_id(types=...)``), kept
here, and of telepot *flavors*, which are telepot's vocabulary (``actorbot.compat.telepot``
has them): here ``update_types`` limits any seed to some Update types.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Collection, Iterable
from typing import Any, Final, Literal, NamedTuple

import structlog

from actorbot import updates

log = structlog.get_logger("actorbot.seeds")

SeedFunction = Callable[[Any], object]
"""``update -> seed``: a hashable seed, an unhashable one, or None."""

ALL: Final = "all"

Derivation = Literal["chat", "user", "chatless_user", "none"]
"""What a seed is a function of, for sharding (``actorbot.cluster``): ``"chat"``, the
update's chat id; ``"user"``, its user id; ``"chatless_user"``, the user id of updates
that have no chat (inline queries); ``"none"``: a fresh handler per update, no order."""

_DERIVED: weakref.WeakKeyDictionary[SeedFunction, Derivation] = weakref.WeakKeyDictionary()


def derives_from(seed: SeedFunction, kind: Derivation) -> SeedFunction:
    """Declare that ``seed`` depends only on ``kind``; returns ``seed`` (a decorator).

    A sharded bot puts all updates of one chat (or user) on one worker, in order, so it
    accepts only routes whose seeds say they follow that key."""
    _DERIVED[seed] = kind
    return seed


def derivation(seed: SeedFunction) -> Derivation | None:
    """What :func:`derives_from` declared for ``seed``, or None (unknown)."""
    try:
        return _DERIVED.get(seed)
    except TypeError:  # not weak-referenceable (a builtin): nothing declared
        return None


class BusinessChat(NamedTuple):
    """The seed :func:`per_chat_id` gives a business account's chat: the same user's chat
    with the bot and with a business owner are two conversations, two handlers."""

    connection_id: str
    chat_id: int


_BUSINESS_CHAT_TYPES: Final = frozenset(
    {"business_message", "edited_business_message", "deleted_business_messages"})


def _chat_key(update: Any) -> int | BusinessChat | None:
    chat = updates.chat_id(update)
    if chat is None or updates.update_type(update) not in _BUSINESS_CHAT_TYPES:
        return chat
    connection = updates.business_connection_id(update)
    return chat if connection is None else BusinessChat(connection, chat)


def _types(value: str | Iterable[str]) -> frozenset[str] | None:
    if value == ALL:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


def seed_function(fn: Callable[[Any], object]) -> SeedFunction:
    """Guard a custom seed function: an exception becomes ``None`` and a logged skip."""

    @functools.wraps(fn)
    def guarded(update: Any) -> object:
        try:
            return fn(update)
        except Exception as exc:  # noqa: BLE001 - bad input must skip, not kill the router
            log.warning("seed.failed", seed_function=getattr(fn, "__name__", repr(fn)),
                        error=type(exc).__name__)
            return None

    return guarded


def _keyed(
    key: Callable[[Any], Any],
    *,
    chat_types: frozenset[str] | None = None,
    update_types: frozenset[str] | None = None,
    allow: Callable[[int], bool] | None = None,
    kind: Derivation | None = None,
) -> SeedFunction:
    def seed(update: Any) -> object:
        if update_types is not None and updates.update_type(update) not in update_types:
            return None
        value = key(update)
        if value is None:
            return None
        if chat_types is not None and updates.chat_type(update) not in chat_types:
            return None
        if allow is not None and not allow(value):
            return None
        return value

    return seed if kind is None else derives_from(seed, kind)


def per_chat_id(
    types: str | Iterable[str] = ALL, *, update_types: str | Iterable[str] = ALL
) -> SeedFunction:
    """Seed = the chat id, for updates in chats of the given ``types`` (``"private"``...);
    a :class:`BusinessChat` for a business account's chat."""
    return _keyed(_chat_key, chat_types=_types(types), update_types=_types(update_types),
                  kind="chat")


def per_chat_id_in(
    ids: Collection[int], types: str | Iterable[str] = ALL, *,
    update_types: str | Iterable[str] = ALL,
) -> SeedFunction:
    """Like :func:`per_chat_id`, only for chat ids in ``ids`` (checked at each update)."""
    return _keyed(updates.chat_id, chat_types=_types(types), update_types=_types(update_types),
                  allow=ids.__contains__, kind="chat")


def per_chat_id_except(
    ids: Collection[int], types: str | Iterable[str] = ALL, *,
    update_types: str | Iterable[str] = ALL,
) -> SeedFunction:
    """Like :func:`per_chat_id`, except for chat ids in ``ids``."""
    return _keyed(updates.chat_id, chat_types=_types(types), update_types=_types(update_types),
                  allow=lambda v: v not in ids, kind="chat")


def per_from_id(*, update_types: str | Iterable[str] = ALL) -> SeedFunction:
    """Seed = the user id (``from.id``), for updates of the given ``update_types``."""
    return _keyed(updates.user_id, update_types=_types(update_types), kind="user")


def per_from_id_in(
    ids: Collection[int], *, update_types: str | Iterable[str] = ALL
) -> SeedFunction:
    return _keyed(updates.user_id, update_types=_types(update_types), allow=ids.__contains__,
                  kind="user")


def per_from_id_except(
    ids: Collection[int], *, update_types: str | Iterable[str] = ALL
) -> SeedFunction:
    return _keyed(updates.user_id, update_types=_types(update_types),
                  allow=lambda v: v not in ids, kind="user")


_INLINE: Final = frozenset({"inline_query", "chosen_inline_result"})


def per_inline_from_id() -> SeedFunction:
    """Seed = the user id of inline queries and chosen inline results (one answerer each)."""
    return _keyed(updates.user_id, update_types=_INLINE, kind="chatless_user")


def per_inline_from_id_in(ids: Collection[int]) -> SeedFunction:
    return _keyed(updates.user_id, update_types=_INLINE, allow=ids.__contains__,
                  kind="chatless_user")


def per_inline_from_id_except(ids: Collection[int]) -> SeedFunction:
    return _keyed(updates.user_id, update_types=_INLINE, allow=lambda v: v not in ids,
                  kind="chatless_user")


def per_callback_query_origin(origins: str | Iterable[str] = ALL) -> SeedFunction:
    """Seed = where a callback query's button was: ``("chat", chat_id, message_id)`` or
    ``("inline", inline_message_id)``; ``origins`` limits to ``"chat"`` or ``"inline"``."""
    allowed = _types(origins)

    def seed(update: Any) -> tuple[object, ...] | None:
        query = update.get("callback_query") if isinstance(update, dict) else None
        if not isinstance(query, dict):
            return None
        inline_id = query.get("inline_message_id")
        if isinstance(inline_id, str):
            return ("inline", inline_id) if allowed is None or "inline" in allowed else None
        chat = updates.chat_id(update)
        message = query.get("message")
        message_id = message.get("message_id") if isinstance(message, dict) else None
        if chat is None or type(message_id) is not int:
            return None
        return ("chat", chat, message_id) if allowed is None or "chat" in allowed else None

    return derives_from(seed, "chat") if allowed == frozenset({"chat"}) else seed


def per_topic(*, topic_only: bool = True) -> SeedFunction:
    """Seed = ``(chat_id, message_thread_id)``: one handler per forum topic.

    Messages outside any topic get ``(chat_id, None)``; with ``topic_only=False`` reply
    threads of ordinary supergroups count as topics too.
    """

    def seed(update: Any) -> tuple[int, int | None] | None:
        chat = updates.chat_id(update)
        if chat is None:
            return None
        return chat, updates.thread_id(update, topic_only=topic_only)

    return derives_from(seed, "chat")


def per_business_connection() -> SeedFunction:
    """Seed = the business connection id: one handler per connected business account."""

    def seed(update: Any) -> str | None:
        return updates.business_connection_id(update)

    return seed


def per_update_type(types: str | Iterable[str] = ALL) -> SeedFunction:
    """Seed = the update type (``"unknown"`` included): e.g. a catch-all for unknown types."""
    allowed = _types(types)

    def seed(update: Any) -> str | None:
        kind = updates.update_type(update)
        return kind if allowed is None or kind in allowed else None

    return seed


def per_application() -> SeedFunction:
    """One seed for every update: a single handler (a monitor) sees them all."""

    def seed(update: Any) -> int:
        return 1

    return seed


def per_message(*, update_types: str | Iterable[str] = ALL) -> SeedFunction:
    """An unhashable seed: a fresh handler for every update (of the given types)."""
    allowed = _types(update_types)

    def seed(update: Any) -> list[Any] | None:
        return [] if allowed is None or updates.update_type(update) in allowed else None

    return derives_from(seed, "none")


def is_hashable(seed: object) -> bool:
    """Whether ``seed`` can key a reusable handler (``hash()`` succeeds)."""
    try:
        hash(seed)
    except TypeError:  # a list, or a tuple holding one
        return False
    return True
