"""telepot's camelCase method signatures, and how their arguments become today's Bot API call.

Methods telepot 6.3 had keep 6.3's positional parameter order (where 12.7 inserted
``disable_notification``, ``caption``, ``parse_mode``... it wins, as 6.3 programs pass
``reply_to_message_id`` and ``reply_markup`` positionally); the rest keep 12.7's; methods
newer than telepot take their required parameters positionally, in the spec's order.
Arguments telepot accepted are brought up to date: message identifiers are split, namedtuples become
dicts, ``(filename, file)`` tuples become uploads, and parameters the Bot API replaced
since (``reply_to_message_id``, ``disable_web_page_preview``, ``switch_pm_text``,
``thumb``, ``png_sticker``, ``restrictChatMember``'s flags, inline results'
``message_text`` and ``thumb_url``) are rewritten, as are the
two renamed methods (``kickChatMember``, ``getChatMembersCount``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from actorbot.api import METHODS, InputFile, method_spec
from actorbot.compat.telepot._legacy import modern_markup, modern_result

_SIGNATURES: Final[dict[str, str]] = {
    "getMe": "",
    # telepot 6.3's order
    "sendMessage": "chat_id text parse_mode disable_web_page_preview reply_to_message_id "
                   "reply_markup",
    "sendPhoto": "chat_id photo caption reply_to_message_id reply_markup",
    "sendAudio": "chat_id audio duration performer title reply_to_message_id reply_markup",
    "sendDocument": "chat_id document reply_to_message_id reply_markup",
    "sendSticker": "chat_id sticker reply_to_message_id reply_markup",
    "sendVideo": "chat_id video duration caption reply_to_message_id reply_markup",
    "sendVoice": "chat_id voice duration reply_to_message_id reply_markup",
    "sendLocation": "chat_id latitude longitude reply_to_message_id reply_markup",
    # telepot 12.7's order
    "forwardMessage": "chat_id from_chat_id message_id disable_notification",
    "sendVideoNote": "chat_id video_note duration length disable_notification "
                     "reply_to_message_id reply_markup",
    "sendMediaGroup": "chat_id media disable_notification reply_to_message_id",
    "editMessageLiveLocation": "msg_identifier latitude longitude reply_markup",
    "stopMessageLiveLocation": "msg_identifier reply_markup",
    "sendVenue": "chat_id latitude longitude title address foursquare_id disable_notification "
                 "reply_to_message_id reply_markup",
    "sendContact": "chat_id phone_number first_name last_name disable_notification "
                   "reply_to_message_id reply_markup",
    "sendGame": "chat_id game_short_name disable_notification reply_to_message_id reply_markup",
    "sendInvoice": "chat_id title description payload provider_token start_parameter currency "
                   "prices provider_data photo_url photo_size photo_width photo_height "
                   "need_name need_phone_number need_email need_shipping_address is_flexible "
                   "disable_notification reply_to_message_id reply_markup",
    "sendChatAction": "chat_id action",
    "getUserProfilePhotos": "user_id offset limit",
    "getFile": "file_id",
    "kickChatMember": "chat_id user_id until_date",
    "unbanChatMember": "chat_id user_id",
    "restrictChatMember": "chat_id user_id until_date can_send_messages "
                          "can_send_media_messages can_send_other_messages "
                          "can_add_web_page_previews",
    "promoteChatMember": "chat_id user_id can_change_info can_post_messages can_edit_messages "
                         "can_delete_messages can_invite_users can_restrict_members "
                         "can_pin_messages can_promote_members",
    "exportChatInviteLink": "chat_id",
    "setChatPhoto": "chat_id photo",
    "deleteChatPhoto": "chat_id",
    "setChatTitle": "chat_id title",
    "setChatDescription": "chat_id description",
    "pinChatMessage": "chat_id message_id disable_notification",
    "unpinChatMessage": "chat_id",
    "leaveChat": "chat_id",
    "getChat": "chat_id",
    "getChatAdministrators": "chat_id",
    "getChatMembersCount": "chat_id",
    "getChatMember": "chat_id user_id",
    "setChatStickerSet": "chat_id sticker_set_name",
    "deleteChatStickerSet": "chat_id",
    "answerCallbackQuery": "callback_query_id text show_alert url cache_time",
    "answerShippingQuery": "shipping_query_id ok shipping_options error_message",
    "answerPreCheckoutQuery": "pre_checkout_query_id ok error_message",
    "editMessageText": "msg_identifier text parse_mode disable_web_page_preview reply_markup",
    "editMessageCaption": "msg_identifier caption parse_mode reply_markup",
    "editMessageReplyMarkup": "msg_identifier reply_markup",
    "deleteMessage": "msg_identifier",
    "getStickerSet": "name",
    "uploadStickerFile": "user_id png_sticker",
    "createNewStickerSet": "user_id name title png_sticker emojis contains_masks mask_position",
    "addStickerToSet": "user_id name png_sticker emojis mask_position",
    "setStickerPositionInSet": "sticker position",
    "deleteStickerFromSet": "sticker",
    "answerInlineQuery": "inline_query_id results cache_time is_personal next_offset "
                         "switch_pm_text switch_pm_parameter",
    "getUpdates": "offset limit timeout allowed_updates",
    "setWebhook": "url certificate max_connections allowed_updates",
    "deleteWebhook": "",
    "getWebhookInfo": "",
    "setGameScore": "user_id score game_message_identifier force disable_edit_message",
    "getGameHighScores": "user_id game_message_identifier",
}  # fmt: skip

RENAMED: Final[dict[str, str]] = {
    "kickChatMember": "banChatMember",
    "getChatMembersCount": "getChatMemberCount",
}
_ACTIONS: Final = {"upload_audio": "upload_voice", "record_audio": "record_voice"}  # renamed
_IDENTIFIERS: Final = ("msg_identifier", "game_message_identifier")
_MEDIA_FLAGS: Final = ("can_send_audios", "can_send_documents", "can_send_photos",
                       "can_send_videos", "can_send_video_notes", "can_send_voice_notes")
_PERMISSIONS: Final = ("can_send_messages", "can_send_other_messages",
                       "can_add_web_page_previews")


def signature(method: str) -> tuple[str, ...] | None:
    """The positional parameters of a telepot method (None: not a Bot API method)."""
    known = _SIGNATURES.get(method)
    if known is not None:
        return tuple(known.split())
    spec = method_spec(method)
    if spec is None or spec.name != method:  # camelCase exactly, as telepot spelled it
        return None
    return spec.required


def method_names() -> list[str]:
    return sorted({*_SIGNATURES, *METHODS})


def bind(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Name the positional arguments the way telepot's signature does."""
    names = signature(method) or ()
    if len(args) > len(names):
        raise TypeError(f"{method}() takes {len(names)} positional arguments "
                        f"({', '.join(names)}), got {len(args)}")
    params = dict(kwargs)
    for name, value in zip(names, args, strict=False):
        if name in params:
            raise TypeError(f"{method}() got multiple values for {name!r}")
        params[name] = value
    return params


def dismantle(identifier: Any) -> dict[str, Any]:
    """A telepot message identifier: ``(chat_id, message_id)``, ``(inline_id,)`` or an id."""
    if isinstance(identifier, tuple):
        if len(identifier) == 2:
            return {"chat_id": identifier[0], "message_id": identifier[1]}
        if len(identifier) == 1:
            return {"inline_message_id": identifier[0]}
        raise ValueError(f"not a message identifier: {identifier!r}")
    return {"inline_message_id": identifier}


def jsonable(value: Any) -> Any:
    """Namedtuples (and nested ones) as dicts without None fields, as telepot sent them."""
    as_dict = getattr(value, "_asdict", None)
    if isinstance(value, tuple) and callable(as_dict):
        value = as_dict()
        value = {("from" if k == "from_" else k): v for k, v in value.items()}
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def upload(value: Any) -> Any:
    """telepot's ``(filename, file)`` upload tuple as an :class:`InputFile`."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return InputFile(value[1], filename=value[0])
    return value


def _media(item: Any) -> Any:
    raw = dict(item._asdict() if hasattr(item, "_asdict") else item)
    media = raw.pop("media", None)
    if isinstance(media, tuple):  # (attach name, file) or (attach name, (filename, file))
        media = upload(media[1]) if isinstance(media[1], tuple) else media[1]
    out: dict[str, Any] = jsonable(raw)
    if media is not None:
        out["media"] = media
    return out


def _result(item: Any) -> Any:
    converted = jsonable(item)
    return modern_result(converted) if isinstance(converted, dict) else converted


def _sticker(params: dict[str, Any]) -> dict[str, Any]:
    sticker = {"sticker": upload(params.pop("png_sticker")), "format": "static",
               "emoji_list": [params.pop("emojis", None) or "\N{WHITE SMILING FACE}"],
               "mask_position": jsonable(params.pop("mask_position", None))}
    return {k: v for k, v in sticker.items() if v is not None}


def _replaced(params: dict[str, Any]) -> None:
    """Parameters the Bot API replaced since telepot, rewritten in place."""
    reply_to = params.pop("reply_to_message_id", None)
    if reply_to is not None and "reply_parameters" not in params:
        reply = {"message_id": reply_to}
        if params.pop("allow_sending_without_reply", None):
            reply["allow_sending_without_reply"] = True
        params["reply_parameters"] = reply
    if params.pop("disable_web_page_preview", None) and "link_preview_options" not in params:
        params["link_preview_options"] = {"is_disabled": True}
    pm_text, pm_start = params.pop("switch_pm_text", None), params.pop("switch_pm_parameter", None)
    if pm_text is not None and "button" not in params:
        params["button"] = {"text": pm_text, "start_parameter": pm_start or ""}
    if "thumb" in params:
        params.setdefault("thumbnail", params.pop("thumb"))


def _per_method(method: str, params: dict[str, Any]) -> None:
    """Methods whose parameters changed shape since telepot, rewritten in place."""
    if method == "sendVoice" and "audio" in params:  # telepot 6.3's name
        params.setdefault("voice", params.pop("audio"))
    elif method == "sendChatAction" and params.get("action") in _ACTIONS:
        params["action"] = _ACTIONS[params["action"]]
    elif method == "setWebhook":
        params.setdefault("url", "")  # 6.3's setWebhook(): an empty url cancels the webhook
    elif method == "restrictChatMember" and "permissions" not in params:
        flags: dict[str, Any] = {k: params.pop(k) for k in _PERMISSIONS if k in params}
        media = params.pop("can_send_media_messages", None)
        if media is not None:
            flags.update(dict.fromkeys(_MEDIA_FLAGS, media))
        params["permissions"] = flags
    elif "png_sticker" in params and method == "uploadStickerFile":
        params["sticker"] = params.pop("png_sticker")
        params["sticker_format"] = "static"
    elif "png_sticker" in params and method == "addStickerToSet":
        params["sticker"] = _sticker(params)
    elif "png_sticker" in params and method == "createNewStickerSet":
        if params.pop("contains_masks", None):
            params["sticker_type"] = "mask"
        params["stickers"] = [_sticker(params)]
    elif method == "sendMediaGroup" and isinstance(params.get("media"), list | tuple):
        params["media"] = [_media(m) for m in params["media"]]
    elif method == "answerInlineQuery" and isinstance(params.get("results"), list | tuple):
        params["results"] = [_result(r) for r in params["results"]]


def modernize(method: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(method, params)`` of today's Bot API for a telepot call."""
    params = {k: v for k, v in params.items() if v is not None}
    for key in _IDENTIFIERS:
        if key in params:
            params.update(dismantle(params.pop(key)))
    _replaced(params)
    _per_method(method, params)
    spec = method_spec(method)
    files = spec.file_params if spec is not None else ()
    out = {k: upload(v) if k in files else jsonable(v) for k, v in params.items()}
    if isinstance(out.get("reply_markup"), dict):
        out["reply_markup"] = modern_markup(out["reply_markup"])
    return RENAMED.get(method, method), out
