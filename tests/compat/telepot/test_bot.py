"""The camelCase Bot surface: telepot's signatures, today's parameters, telepot's errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from actorbot.api import BadRequest, ChatMigrated, ServerError, error_from_response
from actorbot.compat import telepot
from actorbot.compat.telepot import _calls
from actorbot.compat.telepot.exception import (
    BotWasBlockedError,
    MigratedToSupergroupChatError,
    TelegramError,
    TooManyRequestsError,
    translate,
)
from actorbot.compat.telepot.namedtuple import InlineKeyboardButton, InlineKeyboardMarkup
from actorbot.errors import Forbidden, RetryAfter
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually

TOKEN = "123456:TEST-token"
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A",
                                                                       callback_data="a")]])
KEYBOARD_JSON = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}


@pytest.mark.parametrize(("name", "args", "kwargs", "method", "params"), [
    # telepot 6.3's positional order: reply_to_message_id, reply_markup after the options
    ("sendMessage", (1, "hi", "HTML", True, 7, KEYBOARD), {"disable_notification": True},
     "sendMessage",
     {"chat_id": 1, "text": "hi", "parse_mode": "HTML", "disable_notification": True,
      "link_preview_options": {"is_disabled": True}, "reply_parameters": {"message_id": 7},
      "reply_markup": KEYBOARD_JSON}),
    ("sendPhoto", (1, "file", "cap", 7, KEYBOARD), {}, "sendPhoto",
     {"chat_id": 1, "photo": "file", "caption": "cap", "reply_parameters": {"message_id": 7},
      "reply_markup": KEYBOARD_JSON}),
    ("sendAudio", (1, "file", 6, "Ding Dong", "Ring", 7), {}, "sendAudio",
     {"chat_id": 1, "audio": "file", "duration": 6, "performer": "Ding Dong", "title": "Ring",
      "reply_parameters": {"message_id": 7}}),
    ("sendDocument", (1, "file", 7, KEYBOARD), {}, "sendDocument",
     {"chat_id": 1, "document": "file", "reply_parameters": {"message_id": 7},
      "reply_markup": KEYBOARD_JSON}),
    ("sendSticker", (1, "file", 7), {}, "sendSticker",
     {"chat_id": 1, "sticker": "file", "reply_parameters": {"message_id": 7}}),
    ("sendVideo", (1, "file", 5, "cap", 7), {}, "sendVideo",
     {"chat_id": 1, "video": "file", "duration": 5, "caption": "cap",
      "reply_parameters": {"message_id": 7}}),
    ("sendVoice", (1,), {"audio": "file", "duration": 6}, "sendVoice",  # 6.3 named it audio
     {"chat_id": 1, "voice": "file", "duration": 6}),
    ("sendVoice", (1, "file", 6, 7), {}, "sendVoice",
     {"chat_id": 1, "voice": "file", "duration": 6, "reply_parameters": {"message_id": 7}}),
    ("setWebhook", (), {}, "setWebhook", {"url": ""}),  # 6.3: cancel the webhook
    ("setWebhook", ("https://x.example/hook",), {}, "setWebhook",
     {"url": "https://x.example/hook"}),
    ("forwardMessage", (1, 2, 3), {"disable_notification": True}, "forwardMessage",
     {"chat_id": 1, "from_chat_id": 2, "message_id": 3, "disable_notification": True}),
    ("sendLocation", (1, 1.5, 2.5, 60), {"live_period": 90}, "sendLocation",
     {"chat_id": 1, "latitude": 1.5, "longitude": 2.5, "live_period": 90,
      "reply_parameters": {"message_id": 60}}),
    ("sendVenue", (1, 1.0, 2.0, "T", "A", "fsq"), {}, "sendVenue",
     {"chat_id": 1, "latitude": 1.0, "longitude": 2.0, "title": "T", "address": "A",
      "foursquare_id": "fsq"}),
    ("sendContact", (1, "+1", "Ann"), {"last_name": "Lee"}, "sendContact",
     {"chat_id": 1, "phone_number": "+1", "first_name": "Ann", "last_name": "Lee"}),
    ("sendChatAction", (1, "typing"), {}, "sendChatAction", {"chat_id": 1, "action": "typing"}),
    ("editMessageText", ((1, 2), "new"), {"reply_markup": KEYBOARD}, "editMessageText",
     {"chat_id": 1, "message_id": 2, "text": "new", "reply_markup": KEYBOARD_JSON}),
    ("editMessageText", ("inline-1", "new"), {}, "editMessageText",
     {"inline_message_id": "inline-1", "text": "new"}),
    ("editMessageCaption", (("inline-1",),), {"caption": "c"}, "editMessageCaption",
     {"inline_message_id": "inline-1", "caption": "c"}),
    ("editMessageReplyMarkup", ((1, 2), KEYBOARD), {}, "editMessageReplyMarkup",
     {"chat_id": 1, "message_id": 2, "reply_markup": KEYBOARD_JSON}),
    ("deleteMessage", ((1, 2),), {}, "deleteMessage", {"chat_id": 1, "message_id": 2}),
    ("answerCallbackQuery", ("q", "done", True), {}, "answerCallbackQuery",
     {"callback_query_id": "q", "text": "done", "show_alert": True}),
    ("answerInlineQuery", ("q", [], 5, True, "10", "Go", "start"), {}, "answerInlineQuery",
     {"inline_query_id": "q", "results": [], "cache_time": 5, "is_personal": True,
      "next_offset": "10", "button": {"text": "Go", "start_parameter": "start"}}),
    ("kickChatMember", (-5, 7, 99), {}, "banChatMember",
     {"chat_id": -5, "user_id": 7, "until_date": 99}),
    ("getChatMembersCount", (-5,), {}, "getChatMemberCount", {"chat_id": -5}),
    ("restrictChatMember", (-5, 7), {"can_send_messages": True,
                                     "can_send_media_messages": False}, "restrictChatMember",
     {"chat_id": -5, "user_id": 7, "permissions": {
         "can_send_messages": True, "can_send_audios": False, "can_send_documents": False,
         "can_send_photos": False, "can_send_videos": False, "can_send_video_notes": False,
         "can_send_voice_notes": False}}),
    ("setGameScore", (7, 100, (1, 2)), {"force": True}, "setGameScore",
     {"user_id": 7, "score": 100, "chat_id": 1, "message_id": 2, "force": True}),
    ("getGameHighScores", (7, ("inline-1",)), {}, "getGameHighScores",
     {"user_id": 7, "inline_message_id": "inline-1"}),
    ("uploadStickerFile", (7, b"png"), {}, "uploadStickerFile",
     {"user_id": 7, "sticker": b"png", "sticker_format": "static"}),
    ("getUpdates", (5, 10, 0), {}, "getUpdates", {"offset": 5, "limit": 10, "timeout": 0}),
    ("setWebhook", ("https://x/y",), {"max_connections": 3}, "setWebhook",
     {"url": "https://x/y", "max_connections": 3}),
    ("sendPhoto", (1, "file-id", "cap"), {"thumb": "t"}, "sendPhoto",
     {"chat_id": 1, "photo": "file-id", "caption": "cap", "thumbnail": "t"}),
    # newer than telepot: required parameters positional, in the spec's order
    ("sendDice", (1,), {"emoji": "🎲"}, "sendDice", {"chat_id": 1, "emoji": "🎲"}),
    ("copyMessage", (1, 2, 3), {}, "copyMessage",
     {"chat_id": 1, "from_chat_id": 2, "message_id": 3}),
    ("setMessageReaction", (1, 2), {}, "setMessageReaction", {"chat_id": 1, "message_id": 2}),
])
def test_telepot_call_becomes_todays_bot_api_call(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], method: str,
    params: dict[str, Any],
) -> None:
    assert _calls.modernize(name, _calls.bind(name, args, kwargs)) == (method, params)


def test_wrong_arguments_are_type_errors_before_any_request() -> None:
    with pytest.raises(TypeError, match="takes 2 positional"):
        _calls.bind("sendChatAction", (1, "typing", "extra"), {})
    with pytest.raises(TypeError, match="multiple values for 'text'"):
        _calls.bind("sendMessage", (1, "a"), {"text": "b"})
    bot = telepot.Bot(TOKEN, base_url="http://127.0.0.1:9")
    with pytest.raises(AttributeError):
        bot.noSuchMethod  # noqa: B018
    with pytest.raises(TypeError, match="missing required parameter"):
        bot.sendMessage(1)
    assert "sendMessage" in dir(bot)
    assert "banChatMember" in dir(bot)
    assert TOKEN not in repr(bot)


def test_methods_against_the_fake_return_telepots_results(tg: FakeBotApi,
                                                          tmp_path: Path) -> None:
    bot = telepot.Bot(TOKEN, base_url=tg.base_url)
    tg.inject_message(1, "hello")
    assert bot.getMe()["username"] == "test_bot"
    sent = bot.sendMessage(1, 42, reply_to_message_id=1, reply_markup=KEYBOARD)
    assert sent["text"] == "42"
    assert sent["reply_to_message"]["message_id"] == 1
    edited = bot.editMessageText(telepot.message_identifier(sent), "edited")
    assert edited["text"] == "edited"
    photo = bot.sendPhoto(1, ("cat.png", io.BytesIO(b"\x89PNG")), caption="a cat")
    assert tg.calls_to("sendPhoto")[0].files["photo"] == b"\x89PNG"
    document = bot.sendDocument(1, io.BytesIO(b"doc"))
    file_id = document["document"]["file_id"]
    bot.downloadFile(file_id, str(tmp_path / "a.bin"))
    out = io.BytesIO()
    bot.download_file(file_id, out)
    assert (tmp_path / "a.bin").read_bytes() == b"doc" == out.getvalue()
    assert photo["caption"] == "a cat"
    assert [u["message"]["text"] for u in bot.getUpdates(timeout=0)] == ["hello"]
    assert bot.deleteMessage(telepot.message_identifier(sent)) is True
    assert telepot.glance(edited, long=True)[:3] == ("text", "private", 1)
    bot.client.close()


def test_errors_are_telepots_and_actorbots(tg: FakeBotApi) -> None:
    bot = telepot.Bot(TOKEN, base_url=tg.base_url)
    tg.inject_message(1, "hello")
    tg.block_bot(1)
    with pytest.raises(BotWasBlockedError) as blocked:
        bot.sendMessage(1, "hi")
    assert isinstance(blocked.value, Forbidden)
    assert isinstance(blocked.value, TelegramError)
    assert blocked.value.error_code == 403
    assert blocked.value.description == "Forbidden: bot was blocked by the user"
    assert blocked.value.json["ok"] is False
    tg.add_fault(Fault(method="sendMessage", status=429, times=1))
    tg.unblock_bot(1)
    with pytest.raises(TooManyRequestsError) as limited:
        bot.sendMessage(1, "hi")
    assert isinstance(limited.value, RetryAfter)
    assert TOKEN not in str(limited.value) + repr(limited.value)
    bot.client.close()


@pytest.mark.parametrize(("error", "expected", "actorbot_type"), [
    (error_from_response(400, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                         {"migrate_to_chat_id": -100}), MigratedToSupergroupChatError,
     ChatMigrated),
    (error_from_response(403, 403, "Forbidden: bot was kicked from the group chat", None),
     telepot.exception.BotWasKickedError, Forbidden),
    (error_from_response(400, 400, "Bad Request: not enough rights to send", None),
     telepot.exception.NotEnoughRightsError, BadRequest),
    (error_from_response(401, 401, "Unauthorized", None), telepot.exception.UnauthorizedError,
     telepot.exception.UnauthorizedError),
    (error_from_response(502, 502, "Bad Gateway", None), TelegramError, ServerError),
])
def test_translation_picks_telepots_class_and_keeps_actorbots(
    error: Exception, expected: type[Exception], actorbot_type: type[Exception]
) -> None:
    out = translate(error)
    assert isinstance(out, expected)
    assert isinstance(out, actorbot_type)
    assert type(out).__name__ == expected.__name__


def test_a_programs_own_description_patterns_win() -> None:
    class ChatNotFound(TelegramError):
        DESCRIPTION_PATTERNS = ["chat not found"]  # noqa: RUF012 - telepot's spelling

    out = translate(error_from_response(400, 400, "Bad Request: chat not found", None))
    assert isinstance(out, ChatNotFound)
    assert isinstance(out, BadRequest)


def test_calls_from_handlers_go_through_the_sender_and_return_the_result(
    telegram: FakeBotApi,
) -> None:
    class Editor(telepot.helper.ChatHandler):
        def __init__(self, seed_tuple: Any) -> None:
            super().__init__(seed_tuple, 10)

        def on_chat_message(self, msg: dict[str, Any]) -> None:
            sent = self.sender.sendMessage("draft")
            telepot.helper.Editor(self.bot, sent).editMessageText("final")

    bot = telepot.DelegatorBot(TOKEN, [(telepot.delegate.per_chat_id(),
                                        telepot.delegate.create_open(Editor))])
    bot.message_loop()
    try:
        telegram.inject_message(1, "go")
        assert telegram.wait_for(lambda: len(telegram.calls_to("editMessageText")) == 1, 10)
        loop = bot.loop
        assert loop is not None
        eventually(lambda: loop.engine.stats()["sender_calls"] >= 2, 10, "sender calls")
    finally:
        assert bot.stop()
    assert telegram.sent_texts(1) == ["final"]
