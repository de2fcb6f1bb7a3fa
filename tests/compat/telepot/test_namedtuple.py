"""namedtuple: every Bot API type, nested conversion, ``from`` -> ``from_``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from actorbot.compat.telepot import codegen, namedtuple
from actorbot.compat.telepot._calls import jsonable
from actorbot.compat.telepot.namedtuple import (
    ChatMember,
    ForceReply,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    PhotoSizeArray,
    ReplyKeyboardRemove,
    Update,
)
from tests.corpus import API_SPEC

MSG = {"message_id": 5, "date": 0, "text": "hi",
       "chat": {"id": 7, "type": "private"},
       "from": {"id": 7, "is_bot": False, "first_name": "Nick"},
       "photo": [{"file_id": "a", "file_unique_id": "u", "width": 1, "height": 1}],
       "reply_to_message": {"message_id": 4, "date": 0, "chat": {"id": 7, "type": "private"}},
       "forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "X"}}


def test_message_converts_nested_objects_and_from() -> None:
    msg = Message(**MSG)
    assert msg.from_.first_name == "Nick"
    assert type(msg.from_).__name__ == "User"
    assert msg.chat.id == 7
    assert msg.photo[0].file_id == "a"
    assert type(msg.reply_to_message).__name__ == "Message"
    assert type(msg.forward_origin).__name__ == "MessageOriginHiddenUser"
    assert msg.caption is None
    update = Update(update_id=1, message=MSG)
    assert update.message.text == "hi"
    assert update.callback_query is None


def test_unions_pick_their_subtype_by_the_constant_field() -> None:
    member = ChatMember(**{"status": "kicked", "user": {"id": 1, "is_bot": False,
                                                       "first_name": "a"}, "until_date": 0})
    assert type(member).__name__ == "ChatMemberBanned"


def test_unexpected_fields_are_dropped_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="brand_new"):
        msg = Message(**{**MSG, "brand_new": 1})
    assert not hasattr(msg, "brand_new")


def test_outgoing_types_have_telepots_defaults_and_serialise_without_nones() -> None:
    article = InlineQueryResultArticle(
        id="abc", title="t", input_message_content=InputTextMessageContent(message_text="x"))
    assert article.type == "article"
    assert jsonable(article) == {"type": "article", "id": "abc", "title": "t",
                                 "input_message_content": {"message_text": "x"}}
    assert ReplyKeyboardRemove().remove_keyboard is True
    assert ForceReply().force_reply is True
    assert jsonable(Message(**MSG))["from"]["first_name"] == "Nick"
    assert namedtuple.ReplyKeyboardHide is ReplyKeyboardRemove


def test_arrays_and_unknown_names() -> None:
    photos = PhotoSizeArray(MSG["photo"])
    assert photos[0].width == 1
    assert namedtuple.PhotoSizeArrayArray([MSG["photo"]])[0][0].file_id == "a"
    with pytest.raises(AttributeError):
        namedtuple.NoSuchType  # noqa: B018
    assert "Message" in dir(namedtuple)


def test_types_table_matches_the_spec() -> None:
    spec = json.loads(API_SPEC.read_text(encoding="utf-8"))
    assert codegen.OUTPUT.read_text(encoding="utf-8") == codegen.generate(spec)
    result = subprocess.run(
        [sys.executable, "-m", "actorbot.compat.telepot.codegen", str(API_SPEC),
         "--check"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
