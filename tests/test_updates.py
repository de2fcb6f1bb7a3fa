"""actorbot.updates against the vendored Bot API data: the update corpus and its expected
answers (SOURCES.md), the routing data, the spec; then edge cases (telepot's: tests/compat)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import pytest

from actorbot.updates import (
    CONTENT_TYPES,
    UNKNOWN,
    UPDATE_TYPES,
    Glance,
    business_connection_id,
    chat_id,
    chat_type,
    content_type,
    glance,
    payload,
    payload_type,
    sender_id,
    thread_id,
    update_id,
    update_type,
    user_id,
)
from tests.corpus import AIOGRAM_EXCERPT, API_SPEC, CORPUS, ROWS, Row, load, read_table

# ---------------------------------------------------------------- the corpus, per file


@pytest.mark.parametrize("row", ROWS)
def test_corpus_answers_match_sources_table(row: Row) -> None:
    update = load(row.file)
    # The table names the raw key; keys this Bot API version does not know are "unknown".
    assert row.update_type in update
    expected_type = row.update_type if row.update_type in UPDATE_TYPES else UNKNOWN
    assert update_type(update) == expected_type
    assert chat_id(update) == row.chat_id
    assert user_id(update) == row.user_id
    seen = glance(update)
    assert (seen.update_type, seen.chat_id, seen.user_id) == (
        expected_type,
        row.chat_id,
        row.user_id,
    )


@pytest.mark.parametrize("row", ROWS)
def test_corpus_payload_and_chat_type_agree(row: Row) -> None:
    update = load(row.file)
    kind = update_type(update)
    if kind == UNKNOWN:
        assert payload(update) is None
        assert glance(update) == Glance(UNKNOWN, None, None, None, None)
        return
    assert payload(update) is update[kind]
    # update_routing.json's private_chat_rule.
    cid, uid, ctype = chat_id(update), user_id(update), chat_type(update)
    assert (ctype is None) == (cid is None)
    if ctype == "private":
        assert cid is not None
        assert cid >= 0
        assert uid in (None, cid)
    elif ctype == "group":
        assert cid is not None
        assert cid < 0
    elif ctype is not None:
        assert ctype in ("supergroup", "channel")
        assert str(cid).startswith("-100")


CORPUS_CONTENT = {
    "business_message.json": "text",
    "channel_post_giveaway.json": "giveaway",
    "edited_channel_post.json": "text",
    "edited_message_live_location.json": "location",
    "guest_message.json": "text",
    "message_chat_shared.json": "chat_shared",
    "message_forum_topic_reply.json": "text",
    "message_forwarded_hidden_user.json": "text",
    "message_group_left_chat_member.json": "left_chat_member",
    "message_group_migrate_to_chat_id.json": "migrate_to_chat_id",
    "message_group_new_chat_members.json": "new_chat_members",  # not the legacy duplicates
    "message_private_command_start_payload.json": "text",
    "message_private_cyrillic_emoji_text.json": "text",
    "message_private_document.json": "document",
    "message_private_location.json": "location",
    "message_private_photo.json": "photo",
    "message_private_photo_caption_entities.json": "photo",
    "message_private_reply_to_bot.json": "text",
    "message_private_sticker.json": "sticker",
    "message_private_text.json": "text",
    "message_private_web_app_data.json": "web_app_data",
    "message_supergroup_anonymous_admin_forward.json": "text",
    "message_supergroup_dice.json": "dice",
    "message_supergroup_forwarded_story.json": "story",
    "message_supergroup_migrate_from_chat_id.json": "migrate_from_chat_id",
    "message_supergroup_reply_command_thread.json": "text",
    "message_supergroup_text.json": "text",
    "message_supergroup_video_chat_started.json": "video_chat_started",
    "message_venue_with_location.json": "venue",  # location is also set
    "official_edited_message.json": "text",
    "official_message_document.json": "document",
    "official_message_forwarded_legacy.json": "text",
}


@pytest.mark.parametrize("row", ROWS)
def test_corpus_content_type(row: Row) -> None:
    update = load(row.file)
    expected = CORPUS_CONTENT.get(row.file)
    is_message = payload_type(update_type(update)) == "Message"
    assert (expected is not None) == is_message, "CORPUS_CONTENT is incomplete"
    assert content_type(update) == expected
    assert glance(update).content_type == expected
    if expected is not None:
        assert content_type(payload(update)) == expected


def test_sources_table_lists_every_corpus_file() -> None:
    listed = [row.file for row in read_table()]
    assert sorted(listed) == sorted(p.name for p in CORPUS.glob("*.json"))
    assert len(set(listed)) == len(listed)


# ---------------------------------------------------------------- the routing data


def test_update_types_come_from_the_packaged_data() -> None:
    packaged = resources.files("actorbot") / "_data" / "update_routing.json"
    data = json.loads(packaged.read_text(encoding="utf-8"))
    assert tuple(entry["update"] for entry in data["update_types"]) == UPDATE_TYPES
    assert len(UPDATE_TYPES) == len(set(UPDATE_TYPES)) == 26
    for entry in data["update_types"]:
        for path in entry["chat_id"] + entry["user_id"]:
            assert path.split(".")[0] == entry["update"], path


@cache
def _spec() -> Any:
    return json.loads(API_SPEC.read_text(encoding="utf-8"))


@cache
def _spec_10_2() -> dict[str, Any]:
    schema = json.loads(AIOGRAM_EXCERPT.read_text(encoding="utf-8"))
    return {item["name"]: item for s in schema["items"] for item in s["children"]}


def _fields(source: str, type_name: str) -> list[tuple[str, str]]:
    """(name, description) of a type's fields in the spec or in aiogram's newer schema."""
    if source == "spec":
        return [(f["name"], f["description"]) for f in _spec()["types"][type_name]["fields"]]
    return [(a["name"], a["description"]) for a in _spec_10_2()[type_name]["annotations"]]


def test_update_types_match_the_spec() -> None:
    in_spec = [name for name, _ in _fields("spec", "Update") if name != "update_id"]
    in_next = [name for name, _ in _fields("aiogram", "Update") if name != "update_id"]
    assert list(UPDATE_TYPES) == in_next
    assert [t for t in UPDATE_TYPES if t in in_spec] == in_spec


# Message fields that describe a message (who, where, when, how shown) rather than say
# what it is. A new spec field must be classified here or in CONTENT_TYPES.
NOT_CONTENT = {
    "message_id", "message_thread_id", "direct_messages_topic", "from", "sender_chat",
    "sender_boost_count", "sender_business_bot", "sender_tag", "date", "guest_query_id",
    "business_connection_id", "chat", "forward_origin", "is_topic_message",
    "is_automatic_forward", "reply_to_message", "external_reply", "quote", "reply_to_story",
    "reply_to_checklist_task_id", "reply_to_poll_option_id", "via_bot",
    "guest_bot_caller_user", "guest_bot_caller_chat", "edit_date", "has_protected_content",
    "is_from_offline", "is_paid_post", "media_group_id", "author_signature",
    "paid_star_count", "entities", "link_preview_options", "suggested_post_info",
    "effect_id", "caption", "caption_entities", "show_caption_above_media",
    "has_media_spoiler", "reply_markup",
    "receiver_user", "ephemeral_message_id",  # aiogram's schema (Bot API 10.2)
}  # fmt: skip


@pytest.mark.parametrize("source", ["spec", "aiogram"])
def test_content_types_cover_every_content_field_of_the_spec(source: str) -> None:
    fields = _fields(source, "Message")
    names = {name for name, _ in fields}
    content = names - NOT_CONTENT
    assert not content - set(CONTENT_TYPES), "Message fields missing from CONTENT_TYPES"
    assert not set(CONTENT_TYPES) & NOT_CONTENT
    # Whatever the spec itself calls content is in the list.
    said = re.compile(r"(Optional\. )?(Service message|Message is|Message contains|The message is)")
    assert {name for name, text in fields if said.match(text)} <= set(CONTENT_TYPES)


def test_content_types_are_message_fields_and_newer_fields_win() -> None:
    fields = _fields("aiogram", "Message")
    assert len(CONTENT_TYPES) == len(set(CONTENT_TYPES))
    assert set(CONTENT_TYPES) <= {name for name, _ in fields}
    # "For backward compatibility, when this field is set, the X field will also be set."
    pairs = [
        (name, m.group(1))
        for name, text in fields
        if (m := re.search(r"the (\w+) field will also be set", text))
    ]
    assert pairs  # animation/document, live_photo/photo, venue/location at least
    for newer, older in pairs:
        assert CONTENT_TYPES.index(newer) < CONTENT_TYPES.index(older), (newer, older)
        assert content_type({"message_id": 1, older: {}, newer: {}}) == newer


# ---------------------------------------------------------------- robustness


GARBAGE: list[Any] = [None, 0, 1.5, True, "message", b"message", [], [{"message": {}}], (), {}]


@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_anything_that_is_not_an_update_is_unknown(junk: Any) -> None:
    assert update_type(junk) == UNKNOWN
    assert payload(junk) is None
    assert glance(junk) == Glance(UNKNOWN, None, None, None, None)
    for helper in (chat_id, user_id, sender_id, chat_type, thread_id, business_connection_id):
        assert helper(junk) is None
    assert content_type(junk) is None


def _msg(**fields: Any) -> dict[str, Any]:
    return {"update_id": 1, "message": {"message_id": 1, "date": 1, **fields}}


@pytest.mark.parametrize(
    ("update", "expected_chat", "expected_user"),
    [
        (_msg(chat={"id": "123", "type": "private"}, **{"from": {"id": 5}}), None, 5),
        (_msg(chat=[{"id": 123}], **{"from": [{"id": 5}]}), None, None),
        (_msg(chat={"id": True, "type": "private"}, **{"from": {"id": False}}), None, None),
        (_msg(chat={"id": 12.0}, **{"from": {"id": None}}), None, None),
        (_msg(chat=None, **{"from": "x"}), None, None),
        ({"update_id": 1, "message": "text"}, None, None),
        ({"update_id": 1, "message": None}, None, None),
        # A wrongly typed first choice falls through to the next one in the routing data.
        (_msg(chat={"id": -100}, sender_chat={"id": -100}, **{"from": {"id": "7"}}), -100, -100),
        ({"update_id": 1, "callback_query": {"id": "q", "from": {"id": 7}, "message": 5}}, None, 7),
    ],
)
def test_wrongly_typed_fields_give_none(
    update: Any, expected_chat: int | None, expected_user: int | None
) -> None:
    assert update_type(update) in ("message", "callback_query")
    assert chat_id(update) == expected_chat
    assert user_id(update) == expected_user
    assert glance(update).chat_id == expected_chat


def test_chat_type_is_the_type_of_the_chat_chat_id_names() -> None:
    assert chat_type(_msg(chat={"id": -5, "type": "group"})) == "group"
    assert chat_type(_msg(chat={"id": "-5", "type": "group"})) is None  # no chat id
    assert chat_type(_msg(chat={"id": -5, "type": ["group"]})) is None
    assert chat_type(load("business_connection.json")) == "private"  # user_chat_id
    assert chat_type(load("poll_answer_retracted_voter_chat.json")) == "channel"
    assert chat_type(load("inline_query.json")) is None  # its chat_type field names no chat


def test_update_type_takes_the_first_known_key() -> None:
    assert update_type({"update_id": 1, "new_kind": {}, "poll": {}, "message": {}}) == "poll"
    assert update_type({1: {}, None: {}, "message": {}}) == "message"


# ---------------------------------------------------------------- sender, thread, business


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("message_supergroup_anonymous_admin_forward.json", -1009000000008),  # not 1087968824
        ("message_supergroup_migrate_from_chat_id.json", -1009000000007),
        ("channel_post_giveaway.json", -1009000000006),
        ("edited_channel_post.json", -1009000000201),
        ("poll_answer_retracted_voter_chat.json", -1009000000201),
        ("message_reaction_anonymous_actor_chat.json", -1009000000005),
        ("message_private_text.json", 7000000001),
        ("inline_query.json", 7000000101),
        ("poll_closed.json", None),
        ("unknown_update_type.json", None),
    ],
)
def test_sender_id_prefers_the_chat_acted_on_behalf_of(name: str, expected: int | None) -> None:
    assert sender_id(load(name)) == expected


def test_thread_id() -> None:
    topic = load("message_forum_topic_reply.json")
    assert thread_id(topic) == thread_id(topic, topic_only=True) == 4
    reply = load("message_supergroup_reply_command_thread.json")
    assert thread_id(reply) == 134545
    assert thread_id(reply, topic_only=True) is None  # a reply thread, not a forum topic
    clicked = load("callback_query_group.json")
    clicked["callback_query"]["message"].update(message_thread_id=9, is_topic_message=True)
    assert thread_id(clicked, topic_only=True) == 9
    assert thread_id(load("message_private_text.json")) is None
    assert thread_id(_msg(message_thread_id="4", is_topic_message=True)) is None
    assert thread_id(load("poll_closed.json")) is None


def test_business_connection_id() -> None:
    assert business_connection_id(load("business_message.json")) == "BCexampleConnId0001"
    assert business_connection_id(load("business_connection.json")) == "BCexampleConnId0001"
    assert business_connection_id(load("deleted_business_messages.json")) == "123"
    assert business_connection_id(load("message_private_text.json")) is None
    assert business_connection_id(_msg(business_connection_id="")) is None
    assert business_connection_id(_msg(business_connection_id=123)) is None
    clicked = load("callback_query_with_message.json")
    clicked["callback_query"]["message"]["business_connection_id"] = "BC2"
    assert business_connection_id(clicked) == "BC2"


# ---------------------------------------------------------------- content types


def test_content_type_edge_cases() -> None:
    assert content_type({"message_id": 1, "chat": {"id": 1}, "date": 0}) is None  # inaccessible
    assert content_type({"message_id": 1, "text": None, "photo": []}) == "photo"
    assert content_type({"text": "no message_id: not a message"}) is None
    assert content_type({"update_id": 1, "poll": {"id": "p", "question": "?"}}) is None
    assert content_type({"message_id": 1, "dice": {}, "caption": "x", "entities": []}) == "dice"
    assert content_type({"message_id": 1, 7: "x", "unknown_new_field": {}}) is None


@pytest.mark.parametrize(("update", "expected"), [
    ({"update_id": 7, "message": {}}, 7),
    ({"update_id": -3}, -3),
    ({"update_id": True}, None),
    ({"update_id": "7"}, None),
    ({"update_id": 7.0}, None),
    ({}, None),
    ([{"update_id": 7}], None),
    (None, None),
])
def test_update_id_is_an_int_or_none(update: Any, expected: int | None) -> None:
    assert update_id(update) == expected
