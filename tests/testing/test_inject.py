"""Injection helpers: the Updates they build and what they store."""

from __future__ import annotations

import pytest

from actorbot.testing import DEFAULT_USER_ID, FakeBotApi
from tests.testing.fake_helpers import Api


def test_inject_message_private(tg: FakeBotApi) -> None:
    tg.add_user(42, "Alice", last_name="Example", username="alice")
    update = tg.inject_message(42, "hello", link_preview_options={"is_disabled": True})
    msg = update["message"]
    assert update["update_id"] == 100_000_001
    assert msg["message_id"] == 1
    assert msg["from"] == {
        "id": 42,
        "is_bot": False,
        "first_name": "Alice",
        "last_name": "Example",
        "username": "alice",
        "language_code": "en",
    }
    assert msg["chat"] == {
        "id": 42,
        "first_name": "Alice",
        "last_name": "Example",
        "username": "alice",
        "type": "private",
    }
    assert msg["text"] == "hello"
    assert msg["link_preview_options"] == {"is_disabled": True}
    assert tg.transcript(42) == [msg]


def test_inject_message_group_default_user_and_thread(tg: FakeBotApi) -> None:
    tg.add_chat(-100500, "supergroup", title="Topics", is_forum=True)
    msg = tg.inject_message(-100500, "hi", message_thread_id=3)["message"]
    assert msg["from"]["id"] == DEFAULT_USER_ID
    assert msg["message_thread_id"] == 3
    assert msg["is_topic_message"] is True
    other = tg.inject_message(-100500, "me too", user_id=55)["message"]
    assert other["from"]["id"] == 55
    assert other["message_id"] == 2


def test_inject_message_chat_type_and_reply(tg: FakeBotApi) -> None:
    first = tg.inject_message(-77, "a", chat_type="supergroup")["message"]
    assert first["chat"]["type"] == "supergroup"
    reply = tg.inject_message(-77, "b", reply_to=first["message_id"])["message"]
    assert reply["reply_to_message"] == first
    with pytest.raises(ValueError, match="supergroup"):
        tg.inject_message(-77, "c", chat_type="group")


def test_inject_command_has_a_bot_command_entity(tg: FakeBotApi) -> None:
    msg = tg.inject_command(5, "/start", args="ref_42")["message"]
    assert msg["text"] == "/start ref_42"
    assert msg["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert tg.inject_command(5, "help")["message"]["text"] == "/help"


def test_inject_edited_message(tg: FakeBotApi) -> None:
    mid = tg.inject_message(5, "tpyo")["message"]["message_id"]
    edited = tg.inject_edited_message(5, mid, "typo")["edited_message"]
    assert edited["message_id"] == mid
    assert edited["text"] == "typo"
    assert "edit_date" in edited
    assert tg.transcript(5) == [edited]
    with pytest.raises(KeyError):
        tg.inject_edited_message(5, 999, "x")


def test_inject_callback_query_uses_the_latest_bot_message(tg: FakeBotApi, api: Api) -> None:
    with pytest.raises(ValueError, match="message_id"):
        tg.inject_callback_query(5, 5, "x")
    sent = api("sendMessage", chat_id=5, text="pick").json()["result"]
    query = tg.inject_callback_query(5, 5, "yes")["callback_query"]
    assert query["message"] == sent
    assert query["data"] == "yes"
    assert query["from"]["id"] == 5
    assert isinstance(query["id"], str)
    assert isinstance(query["chat_instance"], str)
    explicit = tg.inject_callback_query(5, 5, "no", message_id=sent["message_id"])
    assert explicit["callback_query"]["id"] != query["id"]


def test_inject_inline_query_and_chosen_result(tg: FakeBotApi) -> None:
    inline = tg.inject_inline_query(9, "cats", offset="10")["inline_query"]
    assert inline["query"] == "cats"
    assert inline["offset"] == "10"
    assert inline["chat_type"] == "sender"
    chosen = tg.inject_chosen_inline_result(9, "r1", "cats", inline_message_id="AQ")
    assert chosen["chosen_inline_result"] == {
        "result_id": "r1",
        "from": inline["from"],
        "query": "cats",
        "inline_message_id": "AQ",
    }


def test_injected_update_is_what_getupdates_delivers(tg: FakeBotApi, api: Api) -> None:
    injected = [
        tg.inject_message(1, "a"),
        tg.inject_command(1, "/x"),
        tg.inject_inline_query(1, "q"),
    ]
    assert api("getUpdates").json()["result"] == injected
