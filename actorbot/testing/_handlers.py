"""The Bot API methods the fake models, each a function of (state, call) -> result.

Handlers run with the state lock held, raise :class:`FakeApiError` for Telegram's error
answers and return the ``result`` to send. Methods not listed in :data:`HANDLERS` answer
``true`` (see the dispatcher), so a client can reach every method.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from actorbot.testing import _errors as errs
from actorbot.testing._decode import Upload, require_int
from actorbot.testing._errors import FakeApiError, bad_request
from actorbot.testing._objects import (
    CHANNEL,
    Json,
    StoredFile,
    media_object,
    mime_for,
    now,
    path_for,
)
from actorbot.testing._state import LONG_POLL_MAX, BotState

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_DOWNLOAD: Final = 20 << 20
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_DICE_MAX: Final = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
#: Message fields that are content (what forward/copy carry over).
_CONTENT_KEYS: Final[tuple[str, ...]] = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "audio",
    "video",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


@dataclass(slots=True)
class MethodCall:
    """What a handler sees: canonical method, decoded parameters and uploads."""

    method: str
    params: dict[str, Any]
    uploads: dict[str, Upload]


@dataclass(frozen=True, slots=True)
class WithDescription:
    """A result sent with Telegram's optional success ``description`` (webhook calls)."""

    result: Any
    description: str


MethodHandler = Callable[[BotState, MethodCall], Any]
HANDLERS: dict[str, MethodHandler] = {}


def _handles(*names: str) -> Callable[[MethodHandler], MethodHandler]:
    def register(fn: MethodHandler) -> MethodHandler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


# -- helpers ---------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _reply_target(st: BotState, chat_id: int, p: dict[str, Any]) -> Json | None:
    reply = p.get("reply_parameters")
    mid: Any = None
    allow_missing = bool(p.get("allow_sending_without_reply"))
    if isinstance(reply, dict):
        mid = reply.get("message_id")
        allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        chat_ref = reply.get("chat_id")
        if chat_ref is not None:
            chat_id = st.resolve_chat(chat_ref, write=False).id
    elif p.get("reply_to_message_id") is not None:
        mid = p.get("reply_to_message_id")
    if mid is None:
        return None
    target = st.message(chat_id, mid)
    if target is None:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return {k: v for k, v in target.items() if k != "reply_to_message"}


def new_message(st: BotState, call: MethodCall, content: Json, chat_key: str = "chat_id") -> Json:
    """A message from the bot to the call's chat, stored in the transcript."""
    p = call.params
    chat = st.resolve_chat(p.get(chat_key))
    reply = _reply_target(st, chat.id, p)
    msg: Json = {"message_id": st.next_mid(chat.id)}
    if chat.type == CHANNEL:
        msg["sender_chat"] = chat.to_dict()
    else:
        msg["from"] = st.bot_sender
    msg["chat"] = chat.to_dict()
    msg["date"] = now()
    thread = p.get("message_thread_id")
    if isinstance(thread, int) and not isinstance(thread, bool) and thread:
        msg["message_thread_id"] = thread
        if chat.is_forum:
            msg["is_topic_message"] = True
    if reply is not None:
        msg["reply_to_message"] = reply
    msg.update(content)
    markup = p.get("reply_markup")
    # Message.reply_markup is only ever an inline keyboard: reply keyboards are not echoed
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        msg["reply_markup"] = markup
    if p.get("protect_content"):
        msg["has_protected_content"] = True
    st.store_message(chat.id, msg)
    return msg


def _caption(p: dict[str, Any]) -> Json:
    out: Json = {}
    caption = p.get("caption")
    if caption:
        if not isinstance(caption, str):
            caption = str(caption)
        if _utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        out["caption"] = caption
        if p.get("caption_entities"):
            out["caption_entities"] = p["caption_entities"]
        if p.get("show_caption_above_media"):
            out["show_caption_above_media"] = True
    if p.get("has_spoiler"):
        out["has_media_spoiler"] = True
    return out


def store_file(st: BotState, data: bytes, filename: str, mime: str, kind: str) -> StoredFile:
    """Keep a file so getFile and downloads find it; ids look like Telegram's."""
    st.file_counter += 1
    n = st.file_counter
    f = StoredFile(
        file_id=f"BQACAgIAAxkBAAI{n:08d}{kind[:2].upper()}",
        file_unique_id=f"AgAD{n:06d}",
        data=data,
        filename=filename,
        mime_type=mime_for(kind, mime),
        file_path=path_for(kind, n, filename),
    )
    st.files[f.file_id] = f
    st.file_paths[f.file_path] = f
    return f


def resolve_file(st: BotState, call: MethodCall, value: Any, field: str, kind: str) -> StoredFile:
    """A file parameter: an upload, ``attach://<part>``, a known file_id or an URL."""
    upload = call.uploads.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = call.uploads.get(value[len("attach://") :])
        if upload is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        return store_file(st, upload.data, upload.filename, upload.content_type, kind)
    if isinstance(value, str) and value:
        known = st.files.get(value)
        if known is not None:
            return known
        if value.startswith(("http://", "https://")):
            name = value.rstrip("/").rpartition("/")[2] or "file"
            return store_file(st, b"", name, "", kind)
    if value is None or value == "":
        raise errs.missing_param(call.method, field)
    raise FakeApiError(400, errs.WRONG_FILE_ID)


def _media_content(st: BotState, call: MethodCall, kind: str, value: Any, field: str) -> Json:
    f = resolve_file(st, call, value, field, kind)
    sizes: list[StoredFile] = []
    if kind == "photo":
        sizes = [store_file(st, f.data, f.filename, f.mime_type, kind) for _ in range(2)]
    content: Json = {kind: media_object(kind, f, call.params, sizes)}
    if kind == "animation":
        content["document"] = media_object("document", f, call.params, [])
    return content


# -- getMe, getUpdates, webhooks ------------------------------------------------------


@_handles("getMe")
def get_me(st: BotState, call: MethodCall) -> Any:
    return st.bot_user


def _int_arg(p: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """Like the real server's get_integer_arg: missing -> default, then clamped."""
    value = p.get(name)
    if value is None or value == "":
        number = default
    elif isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value)
    else:
        number = 0
    return min(max(number, low), high)


@_handles("getUpdates")
def get_updates(st: BotState, call: MethodCall) -> Any:
    p = call.params
    offset = p.get("offset")
    offset = offset if isinstance(offset, int) and not isinstance(offset, bool) else 0
    limit = _int_arg(p, "limit", 100, 1, 100)
    timeout = _int_arg(p, "timeout", 0, 0, LONG_POLL_MAX)
    return st.get_updates(offset, limit, timeout, p.get("allowed_updates"))


def _webhook_url_ok(url: str) -> bool:
    if url.startswith("https://"):
        return True
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")


@_handles("setWebhook")
def set_webhook(st: BotState, call: MethodCall) -> Any:
    p = call.params
    url = p.get("url")
    url = url.strip() if isinstance(url, str) else ""
    if not url:
        return delete_webhook(st, call)
    if not _webhook_url_ok(url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    max_conn = _int_arg(p, "max_connections", 40, 1, 100)
    secret = p.get("secret_token")
    if secret is not None and (not isinstance(secret, str) or not _SECRET_RE.fullmatch(secret)):
        raise bad_request("secret token contains unallowed characters")
    st.set_allowed(p.get("allowed_updates"))
    hook = st.webhook
    already = hook.url == url
    hook.url = url
    hook.secret_token = secret
    hook.max_connections = max_conn
    hook.ip_address = p.get("ip_address") if isinstance(p.get("ip_address"), str) else None
    hook.has_custom_certificate = "certificate" in call.uploads
    hook.last_error_date = hook.last_error_message = None
    if p.get("drop_pending_updates"):
        st.drop_pending()
    st.terminate_poll(errs.CONFLICT_SET_WEBHOOK)
    st.updates_cond.notify_all()  # wake the webhook deliverer
    return WithDescription(True, "Webhook is already set" if already else "Webhook was set")


@_handles("deleteWebhook")
def delete_webhook(st: BotState, call: MethodCall) -> Any:
    had = bool(st.webhook.url)
    if call.params.get("drop_pending_updates"):
        st.drop_pending()
    st.webhook.url = ""
    st.webhook.secret_token = None
    st.webhook.last_error_date = st.webhook.last_error_message = None
    return WithDescription(True, "Webhook was deleted" if had else "Webhook is already deleted")


@_handles("getWebhookInfo")
def get_webhook_info(st: BotState, call: MethodCall) -> Any:
    hook = st.webhook
    out: Json = {
        "url": hook.url,
        "has_custom_certificate": hook.has_custom_certificate if hook.url else False,
        "pending_update_count": len(st.queue),
    }
    if hook.url:
        if hook.ip_address:
            out["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            out["last_error_date"] = hook.last_error_date
            out["last_error_message"] = hook.last_error_message
        out["max_connections"] = hook.max_connections
        if st.allowed is not None:
            out["allowed_updates"] = sorted(st.allowed)
    return out


# -- sending ---------------------------------------------------------------------------


@_handles("sendMessage")
def send_message(st: BotState, call: MethodCall) -> Any:
    p = call.params
    text = p.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FakeApiError(400, errs.TEXT_EMPTY)
    if _utf16_len(text) > MAX_TEXT:
        raise FakeApiError(400, errs.TEXT_TOO_LONG)
    content: Json = {"text": text}
    if p.get("entities"):
        content["entities"] = p["entities"]
    if isinstance(p.get("link_preview_options"), dict):
        content["link_preview_options"] = p["link_preview_options"]
    return new_message(st, call, content)


def _make_media_sender(kind: str) -> MethodHandler:
    def send_media(st: BotState, call: MethodCall) -> Any:
        st.resolve_chat(call.params.get("chat_id"))  # chat errors before file errors
        content = _media_content(st, call, kind, call.params.get(kind), kind)
        content.update(_caption(call.params))
        return new_message(st, call, content)

    send_media.__name__ = f"send_{kind}"
    send_media.__doc__ = f"send{kind.title()}: store the file, answer the Message with ``{kind}``."
    return send_media


for _kind, _method in (
    ("photo", "sendPhoto"),
    ("document", "sendDocument"),
    ("audio", "sendAudio"),
    ("video", "sendVideo"),
    ("voice", "sendVoice"),
    ("animation", "sendAnimation"),
    ("video_note", "sendVideoNote"),
    ("sticker", "sendSticker"),
):
    HANDLERS[_method] = _make_media_sender(_kind)


def _float(p: dict[str, Any], name: str) -> float:
    value = p.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"invalid {name} specified")
    return float(value)


def _location(p: dict[str, Any]) -> Json:
    loc: Json = {"latitude": _float(p, "latitude"), "longitude": _float(p, "longitude")}
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if p.get(key) is not None:
            loc[key] = p[key]
    return loc


@_handles("sendLocation")
def send_location(st: BotState, call: MethodCall) -> Any:
    return new_message(st, call, {"location": _location(call.params)})


@_handles("sendVenue")
def send_venue(st: BotState, call: MethodCall) -> Any:
    p = call.params
    loc = _location(p)
    venue: Json = {
        "location": loc,
        "title": str(p.get("title", "")),
        "address": str(p.get("address", "")),
    }
    for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if p.get(key):
            venue[key] = p[key]
    return new_message(st, call, {"venue": venue, "location": loc})


@_handles("sendContact")
def send_contact(st: BotState, call: MethodCall) -> Any:
    p = call.params
    contact: Json = {"phone_number": str(p["phone_number"]), "first_name": str(p["first_name"])}
    for key in ("last_name", "vcard"):
        if p.get(key):
            contact[key] = p[key]
    return new_message(st, call, {"contact": contact})


@_handles("sendPoll")
def send_poll(st: BotState, call: MethodCall) -> Any:
    p = call.params
    question = p.get("question")
    if not isinstance(question, str) or not question:
        raise bad_request("poll question must be non-empty")
    options = p.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= 12:
        raise bad_request("poll must have 2-12 options")
    texts = [o.get("text") if isinstance(o, dict) else o for o in options]
    if not all(isinstance(t, str) and t for t in texts):
        raise bad_request("poll options must be non-empty")
    st.query_counter += 1
    poll: Json = {
        "id": str(5_000_000_000_000_000_000 + st.query_counter),
        "question": question,
        "options": [{"text": t, "voter_count": 0} for t in texts],
        "total_voter_count": 0,
        "is_closed": bool(p.get("is_closed")),
        "is_anonymous": p.get("is_anonymous", True) is not False,
        "type": p.get("type") or "regular",
        "allows_multiple_answers": bool(p.get("allows_multiple_answers")),
    }
    return new_message(st, call, {"poll": poll})


@_handles("sendDice")
def send_dice(st: BotState, call: MethodCall) -> Any:
    emoji = call.params.get("emoji") or "🎲"
    top = _DICE_MAX.get(emoji)
    if top is None:
        raise bad_request("invalid dice emoji specified")
    return new_message(st, call, {"dice": {"emoji": emoji, "value": st.rng.randint(1, top)}})


@_handles("sendChatAction")
def send_chat_action(st: BotState, call: MethodCall) -> Any:
    st.resolve_chat(call.params.get("chat_id"))
    if call.params.get("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


_GROUP_KINDS: Final = frozenset({"photo", "video", "audio", "document"})


@_handles("sendMediaGroup")
def send_media_group(st: BotState, call: MethodCall) -> Any:
    p = call.params
    st.resolve_chat(p.get("chat_id"))
    media = p.get("media")
    if not isinstance(media, list):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(media) <= 10:
        raise bad_request("media group must contain 2-10 items")
    contents: list[Json] = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in _GROUP_KINDS:
            raise bad_request("unsupported media type in media group")
        kind = str(item["type"])
        sub = MethodCall(call.method, {**item, "chat_id": p.get("chat_id")}, call.uploads)
        content = _media_content(st, sub, kind, item.get("media"), "media")
        content.update(_caption(item))
        contents.append(content)
    st.media_group_counter += 1
    group_id = str(13_000_000_000_000_000 + st.media_group_counter)
    out = []
    for content in contents:
        msg = new_message(st, call, {"media_group_id": group_id, **content})
        out.append(msg)
    return out


# -- editing and deleting -----------------------------------------------------------------


def _edit_target(st: BotState, call: MethodCall) -> tuple[int, Json] | None:
    """The stored bot message an edit aims at; ``None`` for inline messages."""
    p = call.params
    if p.get("inline_message_id") and p.get("chat_id") is None:
        return None
    chat = st.resolve_chat(p.get("chat_id"))
    mid = require_int(p, "message_id") if p.get("message_id") is not None else None
    msg = st.message(chat.id, mid) if mid is not None else None
    if msg is None:
        raise bad_request("message to edit not found")
    sender = msg.get("from")
    if chat.type != CHANNEL and (
        not isinstance(sender, dict) or sender.get("id") != st.bot_user["id"]
    ):
        raise bad_request("message can't be edited")
    return chat.id, msg


def _apply_edit(st: BotState, chat_id: int, old: Json, changes: Json, markup: Any) -> Json:
    new = {k: v for k, v in old.items() if v is not None}
    for key, value in changes.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        new["reply_markup"] = markup
    else:
        new.pop("reply_markup", None)
    same = {k: v for k, v in old.items() if k != "edit_date"} == {
        k: v for k, v in new.items() if k != "edit_date"
    }
    if same:
        raise FakeApiError(400, errs.NOT_MODIFIED)
    new["edit_date"] = now()
    st.store_message(chat_id, new)
    return new


@_handles("editMessageText")
def edit_message_text(st: BotState, call: MethodCall) -> Any:
    p = call.params
    text = p.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FakeApiError(400, errs.TEXT_EMPTY)
    if _utf16_len(text) > MAX_TEXT:
        raise FakeApiError(400, errs.TEXT_TOO_LONG)
    target = _edit_target(st, call)
    if target is None:
        return True
    chat_id, msg = target
    if "text" not in msg:
        raise bad_request("there is no text in the message to edit")
    changes = {"text": text, "entities": p.get("entities") or None}
    return _apply_edit(st, chat_id, msg, changes, p.get("reply_markup"))


@_handles("editMessageCaption")
def edit_message_caption(st: BotState, call: MethodCall) -> Any:
    p = call.params
    target = _edit_target(st, call)
    if target is None:
        return True
    chat_id, msg = target
    if "text" in msg:
        raise bad_request("there is no caption in the message to edit")
    caption = p.get("caption") or None
    if isinstance(caption, str) and _utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    changes = {
        "caption": caption,
        "caption_entities": (p.get("caption_entities") or None) if caption else None,
    }
    return _apply_edit(st, chat_id, msg, changes, p.get("reply_markup"))


@_handles("editMessageReplyMarkup")
def edit_message_reply_markup(st: BotState, call: MethodCall) -> Any:
    target = _edit_target(st, call)
    if target is None:
        return True
    chat_id, msg = target
    return _apply_edit(st, chat_id, msg, {}, call.params.get("reply_markup"))


@_handles("deleteMessage")
def delete_message(st: BotState, call: MethodCall) -> Any:
    chat = st.resolve_chat(call.params.get("chat_id"))
    mid = require_int(call.params, "message_id")
    if st.messages.get(chat.id, {}).pop(mid, None) is None:
        raise bad_request("message to delete not found")
    return True


@_handles("deleteMessages")
def delete_messages(st: BotState, call: MethodCall) -> Any:
    chat = st.resolve_chat(call.params.get("chat_id"))
    ids = call.params.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    stored = st.messages.get(chat.id, {})
    for mid in ids:
        stored.pop(mid, None)
    return True


# -- forwarding and copying ---------------------------------------------------------------


def _source(st: BotState, call: MethodCall, mid: Any, what: str) -> Json:
    src_chat = st.resolve_chat(call.params.get("from_chat_id"), write=False)
    msg = st.message(src_chat.id, mid)
    if msg is None:
        raise bad_request(f"message to {what} not found")
    return msg


def _origin(msg: Json) -> Json:
    sender = msg.get("sender_chat")
    if isinstance(sender, dict) and sender.get("type") == CHANNEL:
        return {
            "type": "channel",
            "chat": sender,
            "message_id": msg["message_id"],
            "date": msg["date"],
        }
    if isinstance(sender, dict):
        return {"type": "chat", "sender_chat": sender, "date": msg["date"]}
    return {"type": "user", "sender_user": msg.get("from"), "date": msg["date"]}


def _forward_one(st: BotState, call: MethodCall, mid: Any) -> Json:
    src = _source(st, call, mid, "forward")
    content = {k: src[k] for k in _CONTENT_KEYS if k in src}
    return new_message(st, call, {"forward_origin": _origin(src), **content})


def _copy_one(st: BotState, call: MethodCall, mid: Any) -> Json:
    src = _source(st, call, mid, "copy")
    content = {k: src[k] for k in _CONTENT_KEYS if k in src}
    if "caption" in call.params:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_caption(call.params))
    if "poll" in content:
        raise bad_request("message can't be copied")
    return new_message(st, call, content)


@_handles("forwardMessage")
def forward_message(st: BotState, call: MethodCall) -> Any:
    return _forward_one(st, call, require_int(call.params, "message_id"))


@_handles("copyMessage")
def copy_message(st: BotState, call: MethodCall) -> Any:
    return {"message_id": _copy_one(st, call, require_int(call.params, "message_id"))["message_id"]}


def _many(st: BotState, call: MethodCall, one: Callable[[BotState, MethodCall, Any], Json]) -> Any:
    ids = call.params.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    return [{"message_id": one(st, call, mid)["message_id"]} for mid in sorted(ids)]


@_handles("forwardMessages")
def forward_messages(st: BotState, call: MethodCall) -> Any:
    return _many(st, call, _forward_one)


@_handles("copyMessages")
def copy_messages(st: BotState, call: MethodCall) -> Any:
    return _many(st, call, _copy_one)


# -- answering queries ----------------------------------------------------------------------


def _answer(queries: dict[str, bool], query_id: Any) -> bool:
    if not isinstance(query_id, str) or queries.get(query_id) is not False:
        raise FakeApiError(400, errs.QUERY_INVALID)
    queries[query_id] = True
    return True


@_handles("answerCallbackQuery")
def answer_callback_query(st: BotState, call: MethodCall) -> Any:
    text = call.params.get("text")
    if isinstance(text, str) and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    return _answer(st.callback_queries, call.params.get("callback_query_id"))


@_handles("answerInlineQuery")
def answer_inline_query(st: BotState, call: MethodCall) -> Any:
    results = call.params.get("results")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    return _answer(st.inline_queries, call.params.get("inline_query_id"))


# -- commands, files, chats -------------------------------------------------------------------


def commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """Storage key of a command list: the scope (default scope if absent) and language."""
    if not isinstance(scope, dict):
        scope = {"type": "default"}
    lang = language_code if isinstance(language_code, str) else ""
    return json.dumps(scope, sort_keys=True), lang


@_handles("setMyCommands")
def set_my_commands(st: BotState, call: MethodCall) -> Any:
    p = call.params
    commands = p.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for item in commands:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("command"), str)
            and isinstance(item.get("description"), str)
        ):
            raise bad_request("can't parse BotCommand JSON object")
    key = commands_key(p.get("scope"), p.get("language_code"))
    cleaned = [{"command": c["command"], "description": c["description"]} for c in commands]
    if cleaned:
        st.commands[key] = cleaned
    else:
        st.commands.pop(key, None)
    return True


@_handles("getMyCommands")
def get_my_commands(st: BotState, call: MethodCall) -> Any:
    return list(
        st.commands.get(
            commands_key(call.params.get("scope"), call.params.get("language_code")), []
        )
    )


@_handles("deleteMyCommands")
def delete_my_commands(st: BotState, call: MethodCall) -> Any:
    st.commands.pop(commands_key(call.params.get("scope"), call.params.get("language_code")), None)
    return True


@_handles("getFile")
def get_file(st: BotState, call: MethodCall) -> Any:
    file_id = call.params.get("file_id")
    f = st.files.get(file_id) if isinstance(file_id, str) else None
    if f is None:
        raise bad_request("invalid file_id")
    if len(f.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return f.to_file()


@_handles("getChat")
def get_chat(st: BotState, call: MethodCall) -> Any:
    chat = st.resolve_chat(call.params.get("chat_id"), write=False)
    return {**chat.to_dict(), "accent_color_id": 0, "max_reaction_count": 11}
