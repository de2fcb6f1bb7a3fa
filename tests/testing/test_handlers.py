"""The modelled methods: realistic results, stored state, Telegram's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi
from tests.testing.fake_helpers import Api, expect_error

BOT_FROM = {"id": 123456, "is_bot": True, "first_name": "Test Bot", "username": "test_bot"}


def ok(resp: requests.Response) -> Any:
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["ok"] is True
    return body["result"]


# -- sendMessage and chats ------------------------------------------------------------------


def test_send_message_returns_a_complete_message(tg: FakeBotApi, api: Api) -> None:
    entities = [{"type": "bold", "offset": 0, "length": 5}]
    msg = ok(api("sendMessage", chat_id=42, text="hello there", entities=entities))
    assert msg["message_id"] == 1
    assert msg["from"] == BOT_FROM
    assert msg["chat"] == {"id": 42, "first_name": "User42", "type": "private"}
    assert isinstance(msg["date"], int)
    assert msg["date"] > 1_600_000_000
    assert msg["text"] == "hello there"
    assert msg["entities"] == entities
    assert "reply_markup" not in msg


def test_message_ids_increase_per_chat(tg: FakeBotApi, api: Api) -> None:
    sent = [(c, ok(api("sendMessage", chat_id=c, text="x"))["message_id"]) for c in (1, 2, 1, 1, 2)]
    assert sent == [(1, 1), (2, 1), (1, 2), (1, 3), (2, 2)]
    tg.inject_message(1, "user says")
    assert ok(api("sendMessage", chat_id=1, text="y"))["message_id"] == 5


@pytest.mark.parametrize(
    ("chat_id", "chat"),
    [
        (-42, {"id": -42, "title": "Chat -42", "type": "group"}),
        (
            -1001234567890,
            {"id": -1001234567890, "title": "Chat -1001234567890", "type": "supergroup"},
        ),
    ],
)
def test_chat_type_follows_the_id(
    tg: FakeBotApi, api: Api, chat_id: int, chat: dict[str, Any]
) -> None:
    assert ok(api("sendMessage", chat_id=chat_id, text="x"))["chat"] == chat


def test_declared_chat_details_are_used(tg: FakeBotApi, api: Api) -> None:
    tg.add_chat(-100777, "supergroup", title="Forum", username="forum", is_forum=True)
    msg = ok(api("sendMessage", chat_id=-100777, text="x", message_thread_id=9))
    assert msg["chat"] == {
        "id": -100777,
        "title": "Forum",
        "username": "forum",
        "is_forum": True,
        "type": "supergroup",
    }
    assert msg["message_thread_id"] == 9
    assert msg["is_topic_message"] is True


def test_channel_messages_have_sender_chat_not_from(tg: FakeBotApi, api: Api) -> None:
    tg.add_chat(-1009, "channel", title="News")
    msg = ok(api("sendMessage", chat_id=-1009, text="x"))
    assert "from" not in msg
    assert msg["sender_chat"] == {"id": -1009, "title": "News", "type": "channel"}


def test_text_too_long_is_rejected(tg: FakeBotApi, api: Api) -> None:
    assert ok(api("sendMessage", chat_id=1, text="x" * 4096))
    expect_error(
        api("sendMessage", chat_id=1, text="x" * 4097), 400, "Bad Request: message is too long"
    )


def test_unknown_username_and_zero_chat_are_not_found(tg: FakeBotApi, api: Api) -> None:
    expect_error(
        api("sendMessage", chat_id="@nobody", text="x"), 400, "Bad Request: chat not found"
    )
    expect_error(api("sendMessage", chat_id=0, text="x"), 400, "Bad Request: chat not found")


def test_strict_chats_accept_only_known_chats() -> None:
    with FakeBotApi(strict_chats=True) as tg, requests.Session() as s:
        url = f"{tg.api_url}/sendMessage"
        expect_error(
            s.post(url, json={"chat_id": 5, "text": "x"}), 400, "Bad Request: chat not found"
        )
        tg.add_chat(5)
        assert s.post(url, json={"chat_id": 5, "text": "x"}).status_code == 200
        tg.inject_message(6, "hi")  # a chat seen in an update is known
        assert s.post(url, json={"chat_id": 6, "text": "x"}).status_code == 200


def test_blocked_bot_gets_403(tg: FakeBotApi, api: Api) -> None:
    tg.block_bot(7)
    expect_error(
        api("sendMessage", chat_id=7, text="x"), 403, "Forbidden: bot was blocked by the user"
    )
    expect_error(
        api("sendChatAction", chat_id=7, action="typing"),
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert tg.transcript(7) == []
    tg.unblock_bot(7)
    assert ok(api("sendMessage", chat_id=7, text="x"))["message_id"] == 1


def test_migrated_group_answers_migrate_to_chat_id(tg: FakeBotApi, api: Api) -> None:
    tg.add_chat(-555, "group", title="Old")
    tg.migrate_chat(-555, -1009000000555)
    resp = api("sendMessage", chat_id=-555, text="x")
    assert resp.status_code == 400
    assert resp.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1009000000555},
    }
    msg = ok(api("sendMessage", chat_id=-1009000000555, text="x"))
    assert msg["chat"] == {"id": -1009000000555, "title": "Old", "type": "supergroup"}


def test_reply_parameters_embed_the_replied_message(tg: FakeBotApi, api: Api) -> None:
    update = tg.inject_message(3, "question")
    user_msg = update["message"]
    msg = ok(
        api(
            "sendMessage",
            chat_id=3,
            text="answer",
            reply_parameters={"message_id": user_msg["message_id"]},
        )
    )
    assert msg["reply_to_message"] == user_msg
    expect_error(
        api("sendMessage", chat_id=3, text="x", reply_parameters={"message_id": 99}),
        400,
        "Bad Request: message to be replied not found",
    )
    lenient = {"message_id": 99, "allow_sending_without_reply": True}
    assert "reply_to_message" not in ok(
        api("sendMessage", chat_id=3, text="x", reply_parameters=lenient)
    )


def test_reply_keyboards_are_not_echoed_inline_ones_are(tg: FakeBotApi, api: Api) -> None:
    keyboard = {"keyboard": [[{"text": "a"}]], "resize_keyboard": True}
    assert "reply_markup" not in ok(api("sendMessage", chat_id=1, text="x", reply_markup=keyboard))


# -- media and files ------------------------------------------------------------------------


def test_send_photo_upload_gives_sizes_and_the_file_can_be_fetched(
    tg: FakeBotApi, api: Api, session: requests.Session
) -> None:
    data = b"\xff\xd8jpegdata"
    msg = ok(api("sendPhoto", chat_id=9, caption="look", files={"photo": ("p.jpg", data)}))
    sizes = msg["photo"]
    assert [(p["width"], p["height"]) for p in sizes] == [(90, 67), (320, 240), (800, 600)]
    assert len({p["file_id"] for p in sizes}) == 3
    assert msg["caption"] == "look"
    largest = ok(api("getFile", file_id=sizes[-1]["file_id"]))
    assert largest["file_path"].startswith("photos/")
    assert session.get(tg.file_url(largest["file_path"])).content == data


def test_resending_a_file_id_reuses_the_stored_file(tg: FakeBotApi, api: Api) -> None:
    file_id = tg.add_file(b"%PDF-1.4", "a.pdf")
    doc = ok(api("sendDocument", chat_id=1, document=file_id))["document"]
    assert doc["file_id"] == file_id
    assert doc["file_name"] == "a.pdf"
    assert doc["file_size"] == 8
    assert tg.file_content(file_id) == b"%PDF-1.4"


def test_unknown_file_id_is_rejected(tg: FakeBotApi, api: Api) -> None:
    expect_error(
        api("sendDocument", chat_id=1, document="nope"),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    expect_error(api("getFile", file_id="nope"), 400, "Bad Request: invalid file_id")


def test_url_files_are_accepted(tg: FakeBotApi, api: Api) -> None:
    video = ok(api("sendVideo", chat_id=1, video="https://example.org/v/clip.mp4", duration=7))[
        "video"
    ]
    assert video["file_name"] == "clip.mp4"
    assert video["duration"] == 7
    assert video["mime_type"] == "video/mp4"


@pytest.mark.parametrize(
    ("method", "field", "keys"),
    [
        ("sendAudio", "audio", {"duration", "file_name", "mime_type"}),
        ("sendVoice", "voice", {"duration", "mime_type"}),
        ("sendVideo", "video", {"duration", "width", "height", "file_name", "mime_type"}),
        ("sendAnimation", "animation", {"duration", "width", "height", "file_name", "mime_type"}),
        ("sendSticker", "sticker", {"type", "width", "height", "is_animated", "is_video"}),
        ("sendDocument", "document", {"file_name", "mime_type"}),
    ],
)
def test_media_objects_have_their_fields(
    tg: FakeBotApi, api: Api, method: str, field: str, keys: set[str]
) -> None:
    msg = ok(api(method, chat_id=2, files={field: ("f.bin", b"1234")}))
    obj = msg[field]
    assert {"file_id", "file_unique_id", "file_size"} | keys <= set(obj)
    assert obj["file_size"] == 4
    if field == "animation":
        assert msg["document"]["file_id"] == obj["file_id"]


def test_send_media_group_with_attach_uploads(tg: FakeBotApi, session: requests.Session) -> None:
    media = [
        {"type": "photo", "media": "attach://one", "caption": "first"},
        {"type": "photo", "media": "attach://two"},
        {"type": "document", "media": tg.add_file(b"doc", "d.txt")},
    ]
    resp = session.post(
        f"{tg.api_url}/sendMediaGroup",
        data={"chat_id": "11", "media": json.dumps(media)},
        files={"one": ("1.jpg", b"one"), "two": ("2.jpg", b"two")},
    )
    msgs = ok(resp)
    assert [m["message_id"] for m in msgs] == [1, 2, 3]
    assert len({m["media_group_id"] for m in msgs}) == 1
    assert msgs[0]["caption"] == "first"
    assert "caption" not in msgs[1]
    assert msgs[2]["document"]["file_name"] == "d.txt"
    assert tg.calls[0].files == {"one": b"one", "two": b"two"}
    path = ok(
        session.get(f"{tg.api_url}/getFile", params={"file_id": msgs[1]["photo"][-1]["file_id"]})
    )
    assert session.get(tg.file_url(path["file_path"])).content == b"two"


def test_media_group_needs_2_to_10_items(tg: FakeBotApi, api: Api) -> None:
    one = [{"type": "photo", "media": tg.add_file(b"x", kind="photo")}]
    expect_error(
        api("sendMediaGroup", chat_id=1, media=one),
        400,
        "Bad Request: media group must contain 2-10 items",
    )
    expect_error(
        api("sendMediaGroup", chat_id=1, media=[{"type": "photo", "media": "attach://gone"}] * 2),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )


def test_location_contact_poll_dice(tg: FakeBotApi, api: Api) -> None:
    loc = ok(api("sendLocation", chat_id=1, latitude=52.5, longitude=13.4))["location"]
    assert loc == {"latitude": 52.5, "longitude": 13.4}
    contact = ok(api("sendContact", chat_id=1, phone_number="+100", first_name="Ann"))["contact"]
    assert contact == {"phone_number": "+100", "first_name": "Ann"}
    poll = ok(api("sendPoll", chat_id=1, question="Q?", options=[{"text": "a"}, {"text": "b"}]))[
        "poll"
    ]
    assert poll["question"] == "Q?"
    assert poll["options"] == [{"text": "a", "voter_count": 0}, {"text": "b", "voter_count": 0}]
    assert poll["is_closed"] is False
    assert poll["type"] == "regular"
    dice = ok(api("sendDice", chat_id=1, emoji="🎯"))["dice"]
    assert dice["emoji"] == "🎯"
    assert 1 <= dice["value"] <= 6


def test_send_chat_action_validates_the_action(tg: FakeBotApi, api: Api) -> None:
    assert ok(api("sendChatAction", chat_id=1, action="typing")) is True
    expect_error(
        api("sendChatAction", chat_id=1, action="dancing"),
        400,
        "Bad Request: wrong parameter action in request",
    )
    assert tg.transcript(1) == []


# -- edit, delete, forward, copy -------------------------------------------------------------


def test_edit_message_text_updates_the_stored_message(tg: FakeBotApi, api: Api) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    sent = ok(api("sendMessage", chat_id=5, text="v1", reply_markup=markup))
    edited = ok(api("editMessageText", chat_id=5, message_id=sent["message_id"], text="v2"))
    assert edited["text"] == "v2"
    assert edited["message_id"] == sent["message_id"]
    assert "edit_date" in edited
    assert "reply_markup" not in edited  # omitted markup removes the keyboard
    assert tg.transcript(5) == [edited]
    assert tg.sent_texts(5) == ["v2"]
    assert tg.calls[0].response["result"]["text"] == "v1"  # records are not mutated


def test_edit_errors(tg: FakeBotApi, api: Api) -> None:
    sent = ok(api("sendMessage", chat_id=5, text="same"))
    mid = sent["message_id"]
    expect_error(
        api("editMessageText", chat_id=5, message_id=mid, text="same"),
        400,
        "Bad Request: message is not modified: specified new message content and reply markup"
        " are exactly the same as a current content and reply markup of the message",
    )
    expect_error(
        api("editMessageText", chat_id=5, message_id=99, text="x"),
        400,
        "Bad Request: message to edit not found",
    )
    user_mid = tg.inject_message(5, "mine")["message"]["message_id"]
    expect_error(
        api("editMessageText", chat_id=5, message_id=user_mid, text="x"),
        400,
        "Bad Request: message can't be edited",
    )


def test_inline_message_edits_return_true(tg: FakeBotApi, api: Api) -> None:
    assert ok(api("editMessageText", inline_message_id="AQAAAE", text="x")) is True
    assert ok(api("editMessageReplyMarkup", inline_message_id="AQAAAE")) is True


def test_edit_caption_and_reply_markup(tg: FakeBotApi, api: Api) -> None:
    photo = ok(api("sendPhoto", chat_id=1, photo=tg.add_file(b"p", kind="photo"), caption="old"))
    mid = photo["message_id"]
    assert (
        ok(api("editMessageCaption", chat_id=1, message_id=mid, caption="new"))["caption"] == "new"
    )
    markup = {"inline_keyboard": [[{"text": "go", "callback_data": "go"}]]}
    msg = ok(api("editMessageReplyMarkup", chat_id=1, message_id=mid, reply_markup=markup))
    assert msg["reply_markup"] == markup
    assert msg["caption"] == "new"
    assert tg.transcript(1)[-1] == msg


def test_delete_message(tg: FakeBotApi, api: Api) -> None:
    mid = ok(api("sendMessage", chat_id=1, text="x"))["message_id"]
    assert ok(api("deleteMessage", chat_id=1, message_id=mid)) is True
    assert tg.transcript(1) == []
    expect_error(
        api("deleteMessage", chat_id=1, message_id=mid),
        400,
        "Bad Request: message to delete not found",
    )


def test_forward_and_copy(tg: FakeBotApi, api: Api) -> None:
    original = tg.inject_message(1, "fwd me")["message"]
    fwd = ok(api("forwardMessage", chat_id=2, from_chat_id=1, message_id=original["message_id"]))
    assert fwd["chat"]["id"] == 2
    assert fwd["text"] == "fwd me"
    assert fwd["forward_origin"] == {
        "type": "user",
        "sender_user": original["from"],
        "date": original["date"],
    }
    copied = ok(api("copyMessage", chat_id=3, from_chat_id=1, message_id=original["message_id"]))
    assert copied == {"message_id": 1}
    assert tg.transcript(3)[0]["text"] == "fwd me"
    assert "forward_origin" not in tg.transcript(3)[0]
    expect_error(
        api("forwardMessage", chat_id=2, from_chat_id=1, message_id=77),
        400,
        "Bad Request: message to forward not found",
    )
    expect_error(
        api("copyMessage", chat_id=2, from_chat_id=1, message_id=77),
        400,
        "Bad Request: message to copy not found",
    )


# -- queries ----------------------------------------------------------------------------------

QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def test_answer_callback_query_once(tg: FakeBotApi, api: Api) -> None:
    ok(api("sendMessage", chat_id=4, text="pick"))
    query = tg.inject_callback_query(4, 4, "yes")["callback_query"]
    assert ok(api("answerCallbackQuery", callback_query_id=query["id"], text="done")) is True
    expect_error(api("answerCallbackQuery", callback_query_id=query["id"]), 400, QUERY_INVALID)
    expect_error(api("answerCallbackQuery", callback_query_id="123"), 400, QUERY_INVALID)


def test_answer_inline_query_once(tg: FakeBotApi, api: Api) -> None:
    query = tg.inject_inline_query(8, "cats")["inline_query"]
    results = [
        {"type": "article", "id": "1", "title": "t", "input_message_content": {"message_text": "m"}}
    ]
    assert ok(api("answerInlineQuery", inline_query_id=query["id"], results=results)) is True
    expect_error(
        api("answerInlineQuery", inline_query_id=query["id"], results=results), 400, QUERY_INVALID
    )
    expect_error(api("answerInlineQuery", inline_query_id="bogus", results=[]), 400, QUERY_INVALID)


# -- commands, webhooks, chat -------------------------------------------------------------------


def test_commands_are_stored_per_scope_and_language(tg: FakeBotApi, api: Api) -> None:
    default = [{"command": "start", "description": "Start"}]
    german = [{"command": "start", "description": "Starten"}]
    admins = {"type": "all_chat_administrators"}
    assert ok(api("setMyCommands", commands=default)) is True
    assert ok(api("setMyCommands", commands=german, language_code="de")) is True
    assert ok(api("setMyCommands", commands=german, scope=admins)) is True
    assert ok(api("getMyCommands")) == default
    assert ok(api("getMyCommands", language_code="de")) == german
    assert ok(api("getMyCommands", scope=admins)) == german
    assert ok(api("getMyCommands", language_code="fr")) == []
    assert tg.commands() == default
    assert tg.commands(admins) == german
    assert ok(api("deleteMyCommands", language_code="de")) is True
    assert ok(api("getMyCommands", language_code="de")) == []
    assert ok(api("getMyCommands")) == default


def test_commands_as_form_json(tg: FakeBotApi, session: requests.Session) -> None:
    cmds = [{"command": "help", "description": "Help"}]
    session.post(f"{tg.api_url}/setMyCommands", data={"commands": json.dumps(cmds)})
    assert tg.commands() == cmds


def test_webhook_info_lifecycle(tg: FakeBotApi, api: Api) -> None:
    tg.inject_updates([{"message": {}}, {"message": {}}])
    assert ok(api("getWebhookInfo")) == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 2,
    }
    resp = api(
        "setWebhook",
        url="https://example.org/hook",
        secret_token="s3cr3t_TOKEN",
        max_connections=10,
        allowed_updates=["message"],
    )
    assert resp.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = ok(api("getWebhookInfo"))
    assert info == {
        "url": "https://example.org/hook",
        "has_custom_certificate": False,
        "pending_update_count": 2,
        "max_connections": 10,
        "allowed_updates": ["message"],
    }
    assert "s3cr3t_TOKEN" not in json.dumps(info)
    assert tg.webhook_secret() == "s3cr3t_TOKEN"
    resp = api("deleteWebhook", drop_pending_updates=True)
    assert resp.json() == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert ok(api("getWebhookInfo"))["pending_update_count"] == 0
    assert api("deleteWebhook").json()["description"] == "Webhook is already deleted"


def test_set_webhook_validation(tg: FakeBotApi, api: Api) -> None:
    expect_error(
        api("setWebhook", url="http://example.org/hook"),
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    expect_error(
        api("setWebhook", url="https://example.org/hook", secret_token="no spaces"),
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    assert ok(api("getWebhookInfo"))["url"] == ""


def test_set_webhook_with_empty_url_deletes_it(tg: FakeBotApi, api: Api) -> None:
    ok(api("setWebhook", url="https://example.org/hook"))
    assert api("setWebhook", url="").json()["description"] == "Webhook was deleted"
    assert ok(api("getUpdates")) == []


def test_get_chat(tg: FakeBotApi, api: Api) -> None:
    tg.add_chat(-100, "supergroup", title="G")
    chat = ok(api("getChat", chat_id=-100))
    assert chat["id"] == -100
    assert chat["title"] == "G"
    assert chat["type"] == "supergroup"
