"""telepot on actorbot: ``import telepot`` becomes ``from actorbot.compat import telepot``.

The same names, signatures and return shapes as telepot 6.3 (``notifyOnMessage``,
``downloadFile``, ``capture(**criteria)``, ``ChatHandler(seed_tuple, timeout)``, the
``normal`` flavor, 6.3's positional order), and telepot 12.7's where they do not conflict
(``message_loop``, ``MessageLoop``, ``on_chat_message``...), running on actorbot's
engine: a router of handler actors per seed, a sender that keeps Telegram's rate limits
and per-chat order, and a graceful stop. Unlike telepot, a delegate that goes idle as a
message arrives loses nothing, each chat's messages are handled in order, and an idle
close is not an error.

Submodules, as in telepot: ``helper``, ``delegate``, ``namedtuple``, ``loop``,
``exception``, ``filtering``; ``api`` sets where bots connect (e.g. a fake Bot API in
tests). How it runs, and why threads: see ``_runtime``. telepot 6.3's asyncio flavour
(``telepot.async``) is :mod:`actorbot.compat.telepot.aio`, imported on its own as
``telepot.async`` was.
"""

from __future__ import annotations

from typing import Any

from actorbot.compat.telepot import (
    _flavor,
    api,
    delegate,
    exception,
    filtering,
    helper,
    loop,
    namedtuple,
)
from actorbot.compat.telepot._bot import Bot, DelegatorBot, SpeakerBot
from actorbot.compat.telepot.exception import (
    BadFlavor,
    BadHTTPResponse,
    TelegramError,
    TelepotException,
)

__version_info__ = (12, 7)
__version__ = "12.7"

__all__ = [
    "BadFlavor",
    "BadHTTPResponse",
    "Bot",
    "DelegatorBot",
    "SpeakerBot",
    "TelegramError",
    "TelepotException",
    "all_content_types",
    "api",
    "chat_flavors",
    "delegate",
    "exception",
    "filtering",
    "flance",
    "flavor",
    "flavor_router",
    "fleece",
    "glance",
    "glance2",
    "helper",
    "inline_flavors",
    "is_event",
    "loop",
    "message_identifier",
    "namedtuple",
    "origin_identifier",
    "peel",
]

chat_flavors = [_flavor.NORMAL]
inline_flavors = ["inline_query", "chosen_inline_result"]
all_content_types = list(_flavor.TELEPOT_CONTENT_TYPES)


def flavor(msg: Any) -> str:
    """``normal`` (any Message; 12.7 said ``chat``), ``callback_query``, ``inline_query``,
    ``chosen_inline_result``, ``shipping_query``, ``pre_checkout_query`` (newer objects:
    their update type), or an event's single key; ``BadFlavor`` for anything else."""
    found = _flavor.flavor(msg)
    if found == "unknown":
        raise BadFlavor(msg)
    return found


def glance(msg: Any, flavor: str = _flavor.NORMAL, long: bool = False) -> tuple[Any, ...]:
    """telepot's headline tuple of a message of ``flavor`` (``normal``: ``(content_type,
    chat_type, chat_id)``, long adds ``(date, message_id)``; see ``_flavor.glance``)."""
    try:
        return _flavor.glance(msg, flavor, long)
    except ValueError:
        raise BadFlavor(flavor) from None


glance2 = glance  # telepot 6's older name


def flance(msg: Any, long: bool = False) -> tuple[str, tuple[Any, ...]]:
    """``(flavor(msg), glance(msg, flavor, long))``."""
    found = flavor(msg)
    return found, glance(msg, found, long)


def peel(event: dict[str, Any]) -> Any:
    """An event's content (what is under its single key)."""
    return next(iter(event.values()))


def fleece(event: dict[str, Any]) -> tuple[str, Any]:
    return flavor(event), peel(event)


def is_event(msg: Any) -> bool:
    """Whether ``msg`` is an event (its flavor starts with ``_``)."""
    return flavor(msg).startswith("_")


def origin_identifier(msg: dict[str, Any]) -> tuple[Any, ...]:
    """Where a callback query's button was: ``(chat_id, message_id)`` or ``(inline_id,)``."""
    if "message" in msg:
        return msg["message"]["chat"]["id"], msg["message"]["message_id"]
    if "inline_message_id" in msg:
        return (msg["inline_message_id"],)
    raise ValueError("not a callback query with an origin")


def message_identifier(msg: dict[str, Any]) -> tuple[Any, ...]:
    """What ``editMessage*`` take for a message: ``(chat_id, message_id)`` or ``(inline_id,)``."""
    if "chat" in msg and "message_id" in msg:
        return msg["chat"]["id"], msg["message_id"]
    if "inline_message_id" in msg:
        return (msg["inline_message_id"],)
    raise ValueError("not a message with an identifier")


def flavor_router(routing_table: dict[Any, Any]) -> Any:
    """A function routing a message to ``routing_table[flavor(msg)]``."""
    return helper.Router(flavor, _flavor.routing_table(routing_table)).route
