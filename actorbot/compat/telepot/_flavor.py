"""telepot's vocabulary for what a message is: its flavor, and its ``glance`` tuples.

telepot took the Update's inner object (a Message, an InlineQuery...) and told objects
apart by their fields; so does :func:`flavor`, which also takes a whole Update. Objects
newer than telepot have their update type as flavor; a single-key dict that is no known
object is one of telepot's events (``{"_idle": {...}}`` has flavor ``"_idle"``).
Nothing here raises on bad input: the public wrappers in ``telepot`` raise ``BadFlavor``.
"""

from __future__ import annotations

from typing import Any, Final

from actorbot.errors import ConfigError
from actorbot.updates import UNKNOWN, UPDATE_TYPES, content_type, payload_type, update_type

__all__ = ["FLAVORS", "TELEPOT_CONTENT_TYPES", "flavor", "glance"]

_Paths = tuple[tuple[str, ...], ...]

TELEPOT_CONTENT_TYPES: Final[tuple[str, ...]] = (
    "text", "audio", "document", "game", "photo", "sticker", "video", "voice", "video_note",
    "contact", "location", "venue", "new_chat_member", "left_chat_member", "new_chat_title",
    "new_chat_photo", "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "channel_chat_created", "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
    "new_chat_members", "invoice", "successful_payment",
)  # fmt: skip
"""telepot 12.7's ``all_content_types``, in its order (a venue is "location" there)."""

# (flavor, keys an inner object must have), first match wins. telepot 12.7's six rules
# come in its order; the rest recognise newer objects by their required fields. Reaction
# updates carry `message_id` too, so they are tested before "chat".
_SIGNATURES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("message_reaction", ("chat", "message_id", "old_reaction", "new_reaction")),
    ("message_reaction_count", ("chat", "message_id", "reactions")),
    ("chat", ("message_id",)),
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
# An Update's flavor is that of its payload's class: every Message is "chat" (as telepot
# treated edited messages and channel posts) and both member updates are "chat_member".
_OF_CLASS: Final = {"Message": "chat", "ChatMemberUpdated": "chat_member"}
_OF_TYPE: Final[dict[str, str]] = {
    t: _OF_CLASS.get(payload_type(t) or "", t) for t in UPDATE_TYPES
}
_OF_TYPE[UNKNOWN] = UNKNOWN
_KNOWN: Final = frozenset(UPDATE_TYPES)

FLAVORS: Final[tuple[str, ...]] = (*dict.fromkeys(_OF_TYPE.values()),)
"""Every flavor :func:`flavor` can infer, ``"unknown"`` included (plus telepot's events)."""


def _compile(dotted: tuple[str, ...]) -> _Paths:
    return tuple(tuple(path.split(".")) for path in dotted)


# telepot's glance tuples: (short fields, fields `long=True` appends); "chat" also
# starts with the content type. Flavors telepot did not know have no tuple.
_FIELDS: Final[dict[str, tuple[_Paths, _Paths]]] = {
    "chat": (_compile(("chat.type", "chat.id")), _compile(("date", "message_id"))),
    "callback_query": (_compile(("id", "from.id", "data")), ()),
    "inline_query": (_compile(("id", "from.id", "query")), _compile(("offset",))),
    "chosen_inline_result": (_compile(("result_id", "from.id", "query")), ()),
    "shipping_query": (_compile(("id", "from.id", "invoice_payload")), ()),
    "pre_checkout_query": (
        _compile(("id", "from.id", "invoice_payload")),
        _compile(("currency", "total_amount")),
    ),
}


def _get(obj: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _unwrap(obj: Any) -> tuple[str | None, Any]:
    """(update type, inner object) of an Update, or (None, obj) for anything else."""
    if isinstance(obj, dict) and (
        "update_id" in obj or (len(obj) == 1 and next(iter(obj)) in _KNOWN)
    ):
        kind = update_type(obj)
        return kind, None if kind == UNKNOWN else obj[kind]
    return None, obj


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
    kind, inner = _unwrap(msg)
    return _flavor_of(inner) if kind is None else _OF_TYPE[kind]


def glance(msg: Any, flavor: str | None = None, long: bool = False) -> tuple[Any, ...]:
    """telepot's headline tuple of a message of ``flavor`` (default: its own).

    Values are passed through as received; a missing one is None (telepot raised
    ``KeyError``). Flavors telepot did not have give ``()``. An explicit ``flavor``
    outside :data:`FLAVORS` raises ``ConfigError``: a programming error, not bad input.
    """
    if flavor is not None and flavor not in FLAVORS:
        raise ConfigError(f"unknown flavor {flavor!r}; expected one of {FLAVORS}")
    kind, inner = _unwrap(msg)
    if flavor is None:
        flavor = _flavor_of(inner) if kind is None else _OF_TYPE[kind]
    fields = _FIELDS.get(flavor)
    if fields is None:
        return ()
    short, extra = fields
    values = tuple(_get(inner, keys) for keys in (short + extra if long else short))
    if flavor != "chat":
        return values
    content: str | None = None
    if isinstance(inner, dict):
        content = next((k for k in TELEPOT_CONTENT_TYPES if k in inner), None)
    return (content or content_type(inner), *values)
