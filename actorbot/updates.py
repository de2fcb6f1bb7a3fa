"""What a Telegram update is and whose it is: type, content, chat, user.

What telepot's ``glance`` told about a message, for every Update
type of Bot API 10.1 (:data:`actorbot.api.API_VERSION`) and to what the next version adds
(the ``subscription`` update, community service messages), so that a bot does not see
them as unknown. Where each type carries its chat and user id comes from the
packaged data file ``actorbot/_data/update_routing.json``, compiled once at import into
tuples of keys, so the per-update cost on the router's hot path is a few dict lookups.

Every helper takes decoded JSON and **never raises** on bad input: a value that is not a
dict, a missing field, or a field of the wrong type (a string or a ``bool`` where an int
id belongs, ``chat`` being a list, ...) gives ``None`` (or ``"unknown"`` for the update
type), because a router must keep going whatever Telegram, a proxy or a test sends.

Which helpers take what:

- a whole Update: :func:`update_type`, :func:`payload`, :func:`chat_id`,
  :func:`user_id`, :func:`sender_id`, :func:`chat_type`, :func:`thread_id`,
  :func:`business_connection_id`, :func:`glance`;
- the inner object *or* a whole Update: :func:`content_type`, :func:`unwrap`. A dict
  counts as an Update if it has ``update_id``, or if its only key is a known update type.

telepot's own vocabulary (flavors, its glance tuples) lives in ``actorbot.compat.telepot``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final, NamedTuple

__all__ = [
    "CONTENT_TYPES",
    "UNKNOWN",
    "UPDATE_TYPES",
    "Glance",
    "business_connection_id",
    "chat_id",
    "chat_type",
    "content_type",
    "glance",
    "payload",
    "payload_type",
    "sender_id",
    "thread_id",
    "unwrap",
    "update_id",
    "update_type",
    "user_id",
]

_Keys = tuple[str, ...]
_Paths = tuple[_Keys, ...]

UNKNOWN: Final = "unknown"
"""Update type of anything not recognised (e.g. a type newer than this code)."""


def _load_update_types() -> list[dict[str, Any]]:
    # Packaged with the library (tests/data/README.md says where it comes from).
    ref = resources.files("actorbot") / "_data" / "update_routing.json"
    data: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return list(data["update_types"])


_ROUTING: Final = _load_update_types()

UPDATE_TYPES: Final[tuple[str, ...]] = tuple(entry["update"] for entry in _ROUTING)
"""The known Update payload keys, in the order of the Bot API's Update object."""

_KNOWN: Final = frozenset(UPDATE_TYPES)
_PAYLOAD_CLASS: Final[dict[str, str]] = {e["update"]: e["payload"] for e in _ROUTING}
_MESSAGE_TYPES: Final = frozenset(t for t, c in _PAYLOAD_CLASS.items() if c == "Message")

# Deliberate deviation from update_routing.json, which lists `sender_chat.id` as the user
# of a channel post: there it is always the channel itself (== chat_id), so a per-user
# handler would be spawned per channel. As in telepot (no `from` -> no user) and as
# updates/SOURCES.md expects, channel posts have no user id; sender_id() gives the channel.
_USER_PATH_OVERRIDES: Final[dict[str, tuple[str, ...]]] = {
    "channel_post": (),
    "edited_channel_post": (),
}
# Who acted, preferring the chat a person acted on behalf of (anonymous admin, channel,
# linked-channel auto-forward, anonymous voter): the data file's note on `message`.
_SENDER_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    **{t: (f"{t}.sender_chat.id", f"{t}.from.id") for t in _MESSAGE_TYPES},
    "poll_answer": ("poll_answer.voter_chat.id", "poll_answer.user.id"),
}
# A chat id that is not a Chat object's `id` has no `type` next to it.
_IMPLIED_CHAT_TYPE: Final[dict[str, str]] = {"business_connection": "private"}


def _compile(dotted: list[str] | tuple[str, ...]) -> _Paths:
    return tuple(tuple(path.split(".")) for path in dotted)


def _per_type(found: dict[str, _Paths]) -> dict[str, _Paths]:
    # Every known type and "unknown" gets an entry, so lookups need no default.
    return {t: found.get(t, ()) for t in (*UPDATE_TYPES, UNKNOWN)}


_CHAT_PATHS: Final = _per_type({e["update"]: _compile(e["chat_id"]) for e in _ROUTING})
_USER_PATHS: Final = _per_type(
    {e["update"]: _compile(_USER_PATH_OVERRIDES.get(e["update"], e["user_id"])) for e in _ROUTING}
)
_SENDER_PATHS: Final = _per_type(
    {**_USER_PATHS, **{t: _compile(fields) for t, fields in _SENDER_FIELDS.items()}}
)
# Where the Message carrying a thread / business connection id sits, per update type.
_MESSAGE_PATHS: Final = _per_type(
    {**{t: ((t,),) for t in _MESSAGE_TYPES}, "callback_query": (("callback_query", "message"),)}
)
_BUSINESS_PATHS: Final = _per_type(
    {
        **{
            t: tuple((*keys, "business_connection_id") for keys in paths)
            for t, paths in _MESSAGE_PATHS.items()
        },
        "business_connection": (("business_connection", "id"),),
        "deleted_business_messages": (("deleted_business_messages", "business_connection_id"),),
    }
)

CONTENT_TYPES: Final[tuple[str, ...]] = (
    # Message fields that say what a message *is*, in the spec's order, except where the
    # server also sets an older field "for backward compatibility": the newer one comes
    # first (animation > document, live_photo > photo, venue > location). rich_message is
    # put before text in case a text fallback ever accompanies it.
    "rich_message", "text", "animation", "audio", "document", "live_photo", "paid_media",
    "photo", "sticker", "story", "video", "video_note", "voice", "checklist", "contact",
    "dice", "game", "poll", "venue", "location", "new_chat_members", "left_chat_member",
    "chat_owner_left", "chat_owner_changed", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "channel_chat_created", "message_auto_delete_timer_changed", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "invoice", "successful_payment",
    "refunded_payment", "users_shared", "chat_shared", "gift", "unique_gift",
    "gift_upgrade_sent", "connected_website", "write_access_allowed", "passport_data",
    "proximity_alert_triggered", "boost_added", "chat_background_set",
    "checklist_tasks_done", "checklist_tasks_added", "direct_message_price_changed",
    "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created",
    "giveaway", "giveaway_winners", "giveaway_completed", "managed_bot_created",
    "paid_message_price_changed", "poll_option_added", "poll_option_deleted",
    "suggested_post_approved", "suggested_post_approval_failed", "suggested_post_declined",
    "suggested_post_paid", "suggested_post_refunded", "video_chat_scheduled",
    "video_chat_started", "video_chat_ended", "video_chat_participants_invited",
    "web_app_data",
    # The next version (aiogram's schema, tests/data/README.md)
    "community_chat_added", "community_chat_removed",
)  # fmt: skip
"""Message content types (telepot's ``all_content_types``, up to the next Bot API version),
by priority."""

_CONTENT_RANK: Final = {name: rank for rank, name in enumerate(CONTENT_TYPES)}

class Glance(NamedTuple):
    """Headline of one Update, for logging and routing decisions."""

    update_type: str
    content_type: str | None
    chat_type: str | None
    chat_id: int | None
    user_id: int | None


def _get(obj: Any, keys: _Keys) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _first_int(update: Any, paths: _Paths) -> int | None:
    # Hot path: inlined walk; `type(...) is int` also rejects bool.
    for keys in paths:
        obj = update
        for key in keys:
            if not isinstance(obj, dict):
                break
            obj = obj.get(key)
        else:
            if type(obj) is int:
                return obj
    return None


def update_id(update: Any) -> int | None:
    """The update's integer ``update_id``; None for anything else (bool included)."""
    value = update.get("update_id") if isinstance(update, dict) else None
    return value if type(value) is int else None


def update_type(update: Any) -> str:
    """The Update's payload key (``"message"``, ``"callback_query"``, ...).

    ``"unknown"`` when no known key is present (a newer Bot API type, or not an Update
    at all, e.g. not a dict): such updates must still be confirmed, never crash a router.
    """
    key: str
    if isinstance(update, dict):
        for key in update:
            if key in _KNOWN:
                return key
    return UNKNOWN


def payload_type(kind: str) -> str | None:
    """The Bot API type of an update type's payload (``"message"`` -> ``"Message"``)."""
    return _PAYLOAD_CLASS.get(kind)


def payload(update: Any) -> Any:
    """The Update's inner object (a Message, a CallbackQuery, ...), or None if unknown."""
    kind = update_type(update)
    return None if kind == UNKNOWN else update[kind]


def chat_id(update: Any) -> int | None:
    """Id of the chat the Update belongs to, per ``update_routing.json``; None if it has none.

    For ``business_message`` and ``guest_message`` the chat is not a chat with the bot:
    key state by ``(business_connection_id(u), chat_id(u))`` or by guest query instead.
    """
    return _first_int(update, _CHAT_PATHS[update_type(update)])


def user_id(update: Any) -> int | None:
    """Id of the user the Update is from, per ``update_routing.json``; None if it has none.

    This is ``from.id`` when present, as in telepot: anonymous group admins therefore
    all appear as GroupAnonymousBot (1087968824) -- use :func:`sender_id` to tell them
    apart. Where the data lists a chat as fallback (a message without ``from``, a
    reaction by an anonymous admin) that chat's id is returned. Channel posts have no
    user (see ``_USER_PATH_OVERRIDES``).
    """
    return _first_int(update, _USER_PATHS[update_type(update)])


def sender_id(update: Any) -> int | None:
    """Who acted, preferring the chat someone acted on behalf of.

    For messages ``sender_chat.id`` wins over ``from.id`` (anonymous admin, channel
    post, automatic forward from a linked channel), for poll answers ``voter_chat.id``
    over ``user.id``; other types give :func:`user_id`.
    """
    return _first_int(update, _SENDER_PATHS[update_type(update)])


def _chat_type(update: Any, kind: str) -> str | None:
    for keys in _CHAT_PATHS[kind]:
        holder = _get(update, keys[:-1])
        if isinstance(holder, dict) and type(holder.get(keys[-1])) is int:
            if keys[-1] != "id":
                return _IMPLIED_CHAT_TYPE.get(kind)
            found = holder.get("type")
            return found if isinstance(found, str) else None
    return None


def chat_type(update: Any) -> str | None:
    """Type of the chat :func:`chat_id` names: "private", "group", "supergroup", "channel"."""
    return _chat_type(update, update_type(update))


def thread_id(update: Any, *, topic_only: bool = False) -> int | None:
    """``message_thread_id`` of the Update's message (a callback query's too), or None.

    Replies in non-forum supergroups carry one as well (reply threads); with
    ``topic_only=True`` only messages in a forum topic (``is_topic_message``) count.
    """
    for keys in _MESSAGE_PATHS[update_type(update)]:
        message = _get(update, keys)
        if isinstance(message, dict):
            found = message.get("message_thread_id")
            if type(found) is int and (not topic_only or message.get("is_topic_message") is True):
                return found
    return None


def business_connection_id(update: Any) -> str | None:
    """The business connection an Update belongs to (the connection's own id for a
    ``business_connection`` update), or None: replies must go through it."""
    for keys in _BUSINESS_PATHS[update_type(update)]:
        found = _get(update, keys)
        if isinstance(found, str) and found:
            return found
    return None


def _content_type(msg: Any) -> str | None:
    if not isinstance(msg, dict) or "message_id" not in msg:
        return None
    best: int | None = None
    for key, value in msg.items():
        rank = _CONTENT_RANK.get(key) if isinstance(key, str) else None
        if rank is not None and value is not None and (best is None or rank < best):
            best = rank
    return None if best is None else CONTENT_TYPES[best]


def unwrap(obj: Any) -> tuple[str | None, Any]:
    """(update type, inner object) of an Update, or (None, obj) for anything else (an
    inner object already): for helpers that take either, as telepot's did."""
    if isinstance(obj, dict) and (
        "update_id" in obj or (len(obj) == 1 and next(iter(obj)) in _KNOWN)
    ):
        kind = update_type(obj)
        return kind, None if kind == UNKNOWN else obj[kind]
    return None, obj


def content_type(msg: Any) -> str | None:
    """What a Message is: the first of :data:`CONTENT_TYPES` it has (``"text"``,
    ``"photo"``, ``"new_chat_members"``, ...).

    Takes a Message or an Update; None if it is not a Message (no ``message_id``, or an
    Update of another type) or carries no known content (e.g. an inaccessible message).
    """
    kind, inner = unwrap(msg)
    if kind is not None and kind not in _MESSAGE_TYPES:
        return None
    return _content_type(inner)


def glance(update: Any) -> Glance:
    """:class:`Glance` of an Update: type, content type, chat type, chat id, user id."""
    kind = update_type(update)
    inner = update[kind] if kind in _MESSAGE_TYPES else None
    return Glance(
        kind,
        _content_type(inner),
        _chat_type(update, kind),
        _first_int(update, _CHAT_PATHS[kind]),
        _first_int(update, _USER_PATHS[kind]),
    )
