"""Objects as telepot 6.3 wrote them, in today's fields: inline query results, keyboards.

In 2016 (telepot 6.3) results carried their message as ``message_text`` (with ``parse_mode`` and
``disable_web_page_preview``) and thumbnails as ``thumb_*``; Telegram now rejects a result
without ``input_message_content`` where one is needed and ignores ``thumb_url``. Both
the namedtuple constructors and ``answerInlineQuery`` pass results through here. And
``{'hide_keyboard': True}`` is today's ``{'remove_keyboard': True}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["modern_fields", "modern_markup", "modern_result"]

_TEXT_FIELDS: Final = ("message_text", "parse_mode", "disable_web_page_preview")
_THUMB_FIELDS: Final = {
    "thumb_url": "thumbnail_url",
    "thumb_width": "thumbnail_width",
    "thumb_height": "thumbnail_height",
    "thumb_mime_type": "thumbnail_mime_type",
}


def modern_result(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` of an InlineQueryResult with 6.3's names moved to today's (a copy).

    ``message_text`` (and the ``parse_mode`` that went with it) becomes an
    InputTextMessageContent unless the result already has an ``input_message_content``.
    Today's names win over 6.3's when both are given.
    """
    out = dict(fields)
    for old, new in _THUMB_FIELDS.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    text = out.pop("message_text", None)
    if text is not None and out.get("input_message_content") is None:
        content: dict[str, Any] = {"message_text": text}
        parse_mode = out.pop("parse_mode", None)  # 6.3: always the message text's
        if parse_mode is not None:
            content["parse_mode"] = parse_mode
        if out.pop("disable_web_page_preview", None):
            content["link_preview_options"] = {"is_disabled": True}
        out["input_message_content"] = content
    else:
        out.pop("disable_web_page_preview", None)
    return out


def modern_markup(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A reply markup with 6.3's ``hide_keyboard`` as today's ``remove_keyboard``."""
    return {("remove_keyboard" if k == "hide_keyboard" else k): v for k, v in fields.items()}


def modern_fields(type_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a ``type_name`` namedtuple being made, with 6.3's names moved."""
    if type_name.startswith("InlineQueryResult"):
        return modern_result(fields)
    if type_name == "ReplyKeyboardRemove":
        return modern_markup(fields)
    return dict(fields)
