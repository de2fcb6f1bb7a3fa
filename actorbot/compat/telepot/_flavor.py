"""telepot's vocabulary for what a message is: its flavor, and its ``glance`` tuples.

telepot 6.3's spelling wins where 12.7 differs: a Message's flavor is ``"normal"`` (12.7's
``"chat"`` is accepted wherever a flavor is given), and content types are 6.3's names
(``new_chat_participant``, ``left_chat_participant``) before 12.7's additions.

telepot took the Update's inner object (a Message, an InlineQuery...) and told objects
apart by their fields; so does :func:`flavor`, which also takes a whole Update. Objects
newer than telepot have their update type as flavor; a single-key dict that is no known
object is one of telepot's events (``{"_idle": {...}}`` has flavor ``"_idle"``).
Nothing here raises on bad input: the public wrappers in ``telepot`` raise ``BadFlavor``.
"""

from __future__ import annotations

from typing import Any, Final

from actorbot.errors import ConfigError
from actorbot.updates import UNKNOWN, UPDATE_TYPES, content_type, payload_type, unwrap

__all__ = ["FLAVORS", "NORMAL", "TELEPOT_CONTENT_TYPES", "canonical", "flavor", "glance",
           "routing_table"]

_Paths = tuple[tuple[str, ...], ...]

NORMAL: Final = "normal"
"""telepot 6.3's flavor of every Message (12.7 called it "chat")."""
_ALIASES: Final = {"chat": NORMAL}

TELEPOT_CONTENT_TYPES: Final[tuple[str, ...]] = (
    "text", "voice", "sticker", "photo", "audio", "document", "video", "contact", "location",
    "new_chat_participant", "left_chat_participant", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "migrate_to_chat_id", "migrate_from_chat_id", "channel_chat_created",
    # telepot 12.7's additions, in its order
    "game", "video_note", "venue", "pinned_message", "invoice", "successful_payment",
)  # fmt: skip
"""telepot 6.3's content types in its order, then 12.7's (a venue is "location" in both)."""

# Today's fields that are a 6.3 content type under another name (Telegram renamed them).
_RENAMED_CONTENT: Final = {
    "new_chat_participant": ("new_chat_participant", "new_chat_member", "new_chat_members"),
    "left_chat_participant": ("left_chat_participant", "left_chat_member"),
}

# (flavor, keys an inner object must have), first match wins. telepot 12.7's six rules
# come in its order; the rest recognise newer objects by their required fields. Reaction
# updates carry `message_id` too, so they are tested before "normal".
_SIGNATURES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("message_reaction", ("chat", "message_id", "old_reaction", "new_reaction")),
    ("message_reaction_count", ("chat", "message_id", "reactions")),
    (NORMAL, ("message_id",)),
    ("callback_query", ("id", "chat_instance")),
    ("inline_query", ("id", "query")),
    ("chosen_inline_result", ("result_id",)),
    ("shipping_query", ("id", "shipping_address")),
    ("pre_checkout_query", ("id", "total_amount")),
    ("callback_query", ("id", "from", "data")),  # legacy payloads without chat_instance
    ("poll_answer", ("poll_id", "option_ids")),
    ("poll", ("id", "question", "options")),
    ("chat_member", ("chat", "old_chat_member", "new_chat_member")),
    ("chat_join_request", ("chat", "from", "user_chat_id")),
    ("chat_boost", ("chat", "boost")),
    ("removed_chat_boost", ("chat", "boost_id", "remove_date")),
    ("business_connection", ("id", "user", "user_chat_id")),
    ("deleted_business_messages", ("business_connection_id", "chat", "message_ids")),
    ("purchased_paid_media", ("from", "paid_media_payload")),
    ("managed_bot", ("user", "bot")),
    ("subscription", ("user", "invoice_payload", "state")),
)
# An Update's flavor is that of its payload's class: every Message is "normal" (as telepot
# treated edited messages and channel posts) and both member updates are "chat_member".
_OF_CLASS: Final = {"Message": NORMAL, "ChatMemberUpdated": "chat_member"}
_OF_TYPE: Final[dict[str, str]] = {
    t: _OF_CLASS.get(payload_type(t) or "", t) for t in UPDATE_TYPES
}
_OF_TYPE[UNKNOWN] = UNKNOWN

FLAVORS: Final[tuple[str, ...]] = (*dict.fromkeys(_OF_TYPE.values()),)
"""Every flavor :func:`flavor` can infer, ``"unknown"`` included (plus telepot's events)."""


def _compile(dotted: tuple[str, ...]) -> _Paths:
    return tuple(tuple(path.split(".")) for path in dotted)


# telepot's glance tuples: (short fields, fields `long=True` appends); "normal" also
# starts with the content type. Flavors telepot did not know have no tuple.
_FIELDS: Final[dict[str, tuple[_Paths, _Paths]]] = {
    NORMAL: (_compile(("chat.type", "chat.id")), _compile(("date", "message_id"))),
    "callback_query": (_compile(("id", "from.id", "data")), ()),
    "inline_query": (_compile(("id", "from.id", "query")), _compile(("offset",))),
    "chosen_inline_result": (_compile(("result_id", "from.id", "query")), ()),
    "shipping_query": (_compile(("id", "from.id", "invoice_payload")), ()),
    "pre_checkout_query": (
        _compile(("id", "from.id", "invoice_payload")),
        _compile(("currency", "total_amount")),
    ),
}


def canonical(name: Any) -> Any:
    """A flavor as :func:`flavor` spells it (12.7's "chat" is "normal")."""
    return _ALIASES.get(name, name) if isinstance(name, str) else name


def routing_table(table: dict[Any, Any]) -> dict[Any, Any]:
    """A flavor routing table that also routes by 12.7's names (``{"chat": f}``)."""
    out = dict(table)
    for alias, name in _ALIASES.items():
        if alias in table:
            out.setdefault(name, table[alias])
    return out


def _content(inner: Any) -> str | None:
    if isinstance(inner, dict):
        for name in TELEPOT_CONTENT_TYPES:
            if any(key in inner for key in _RENAMED_CONTENT.get(name, (name,))):
                return name
    return content_type(inner)


def _get(obj: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _flavor_of(inner: Any) -> str:
    if not isinstance(inner, dict):
        return UNKNOWN
    for name, required in _SIGNATURES:
        if all(key in inner for key in required):
            return name
    if len(inner) == 1:  # telepot's events: {"_idle": {...}} has flavor "_idle"
        (key,) = inner
        if isinstance(key, str):
            return key
    return UNKNOWN


def flavor(msg: Any) -> str:
    """telepot's flavor of a message or Update, ``"unknown"`` where telepot raised
    ``BadFlavor``; ``my_chat_member`` and ``chat_member`` are both "chat_member"."""
    kind, inner = unwrap(msg)
    return _flavor_of(inner) if kind is None else _OF_TYPE[kind]


def glance(msg: Any, flavor: str | None = None, long: bool = False) -> tuple[Any, ...]:
    """telepot's headline tuple of a message of ``flavor`` (default: its own).

    Values are passed through as received; a missing one is None (telepot raised
    ``KeyError``). Flavors telepot did not have give ``()``. An explicit ``flavor``
    outside :data:`FLAVORS` raises ``ConfigError``: a programming error, not bad input.
    """
    flavor = canonical(flavor)
    if flavor is not None and flavor not in FLAVORS:
        raise ConfigError(f"unknown flavor {flavor!r}; expected one of {FLAVORS}")
    kind, inner = unwrap(msg)
    if flavor is None:
        flavor = _flavor_of(inner) if kind is None else _OF_TYPE[kind]
    fields = _FIELDS.get(flavor)
    if fields is None:
        return ()
    short, extra = fields
    values = tuple(_get(inner, keys) for keys in (short + extra if long else short))
    return values if flavor != NORMAL else (_content(inner), *values)
