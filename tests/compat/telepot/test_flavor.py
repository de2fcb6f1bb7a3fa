"""telepot's flavors and glance tuples (``_flavor``), over the vendored update corpus."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from actorbot.compat import telepot
from actorbot.compat.telepot._flavor import FLAVORS, TELEPOT_CONTENT_TYPES, flavor, glance
from actorbot.updates import CONTENT_TYPES, UNKNOWN, content_type, payload, update_type
from tests.corpus import ROWS, Row, load
from tests.test_updates import GARBAGE
from tests.test_updates_properties import JSONISH


@pytest.mark.parametrize("row", ROWS)
def test_inner_object_and_update_have_the_same_flavor(row: Row) -> None:
    update = load(row.file)
    if update_type(update) == UNKNOWN:
        assert flavor(update) == UNKNOWN
        assert glance(update) == ()
        return
    # The inner object alone (what telepot took) gives the same flavor as the Update.
    assert flavor(update) == flavor(payload(update)) in FLAVORS


@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_anything_that_is_not_a_message_has_no_flavor(junk: Any) -> None:
    assert flavor(junk) == UNKNOWN
    assert glance(junk) == ()
    with pytest.raises(telepot.BadFlavor):
        telepot.flance(junk)


@given(JSONISH)
def test_flavor_and_glance_never_raise(value: Any) -> None:
    found = flavor(value)
    assert isinstance(found, str)
    assert isinstance(glance(value, long=True), tuple)
    for name in FLAVORS:
        assert isinstance(glance(value, flavor=name), tuple)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("message_private_text.json", "normal"),
        ("edited_channel_post.json", "normal"),
        ("business_message.json", "normal"),
        ("guest_message.json", "normal"),
        ("callback_query_group.json", "callback_query"),
        ("official_callback_query_inline_message.json", "callback_query"),  # no chat_instance
        ("inline_query.json", "inline_query"),
        ("chosen_inline_result.json", "chosen_inline_result"),
        ("pre_checkout_query.json", "pre_checkout_query"),
        ("poll_legacy_shape.json", "poll"),
        ("poll_answer_user.json", "poll_answer"),
        ("my_chat_member_bot_added_to_group.json", "chat_member"),
        ("chat_member_banned.json", "chat_member"),
        ("chat_join_request.json", "chat_join_request"),
        ("chat_boost.json", "chat_boost"),
        ("business_connection.json", "business_connection"),
        ("deleted_business_messages.json", "deleted_business_messages"),
        ("message_reaction_by_user.json", "message_reaction"),
        ("message_reaction_count_channel.json", "message_reaction_count"),
        ("purchased_paid_media.json", "purchased_paid_media"),
        ("unknown_update_type.json", UNKNOWN),
    ],
)
def test_flavor_of_update_and_of_inner_object(name: str, expected: str) -> None:
    update = load(name)
    assert flavor(update) == expected
    if expected != UNKNOWN:
        assert flavor(payload(update)) == expected
        assert flavor({update_type(update): payload(update)}) == expected  # no update_id


def test_flavor_of_objects_without_a_corpus_sample() -> None:
    assert flavor({"id": "s", "from": {"id": 1}, "shipping_address": {}}) == "shipping_query"
    assert flavor({"chat": {}, "boost_id": "b", "remove_date": 1, "source": {}}) == (
        "removed_chat_boost"
    )
    assert flavor({"user": {"id": 1}, "bot": {"id": 2}}) == "managed_bot"
    assert flavor({"user": {"id": 1}, "invoice_payload": "p", "state": "active"}) == (
        "subscription"
    )
    assert flavor({"_idle": {"seconds": 10}}) == "_idle"  # telepot's events
    assert flavor({1: "x"}) == UNKNOWN
    assert flavor({"a": 1, "b": 2}) == UNKNOWN


def test_telepot_glance_shapes() -> None:
    msg = load("message_supergroup_text.json")["message"]
    assert glance(msg) == ("text", "supergroup", -1009000000101)
    assert glance(msg, long=True) == ("text", "supergroup", -1009000000101, 1767225700, 501)
    query = load("callback_query_group.json")["callback_query"]
    assert glance(query) == glance(query, long=True)
    assert glance(query) == ("4381234567890123458", 7000000102, "plus")
    inline = load("inline_query.json")
    assert glance(inline) == ("2093847561029384756", 7000000101, "cats")
    assert glance(inline, long=True) == ("2093847561029384756", 7000000101, "cats", "")
    chosen = load("chosen_inline_result.json")
    assert glance(chosen, long=True) == ("cat-1", 7000000101, "cats")
    checkout = load("pre_checkout_query.json")
    assert glance(checkout) == ("PCQexample0001", 7000000101, "order-123")
    assert glance(checkout, long=True)[3:] == ("XTR", 250)
    shipping = {"id": "s", "from": {"id": 3}, "invoice_payload": "p", "shipping_address": {}}
    assert glance(shipping, long=True) == ("s", 3, "p")
    # Raw values, as telepot returned them (this legacy query id is a number).
    assert glance(load("official_inline_query.json"))[0] == 134567890097


def test_telepot_content_types_follow_telepot_6_3() -> None:
    assert glance(load("message_venue_with_location.json"))[0] == "location"
    # 6.3's names for what Telegram renamed since (new_chat_member(s), left_chat_member).
    assert glance(load("message_group_new_chat_members.json"))[0] == "new_chat_participant"
    assert glance(load("message_group_left_chat_member.json"))[0] == "left_chat_participant"
    for field in ("new_chat_participant", "new_chat_member", "new_chat_members"):
        assert glance({"message_id": 1, "chat": {"id": 1}, field: {}})[0] == (
            "new_chat_participant")
    assert glance({"message_id": 1, "chat": {"id": 1}, "left_chat_member": {}})[0] == (
        "left_chat_participant")
    animation = {"message_id": 1, "chat": {"id": 1}, "animation": {}, "document": {}}
    assert (content_type(animation), glance(animation)[0]) == ("animation", "document")
    # Contents telepot did not know fall back to CONTENT_TYPES (telepot raised KeyError).
    assert glance(load("message_supergroup_dice.json"))[0] == "dice"
    assert set(TELEPOT_CONTENT_TYPES) - set(CONTENT_TYPES) == {
        "new_chat_participant", "left_chat_participant"}


def test_telepot_glance_missing_values_and_flavors() -> None:
    game = {"id": "q", "from": {"id": 1}, "chat_instance": "c", "game_short_name": "g"}
    assert glance(game) == ("q", 1, None)  # telepot raised KeyError on "data"
    assert glance(load("poll_closed.json")) == ()  # no telepot shape
    assert glance(game, flavor="normal") == (None, None, None)
    assert glance(game, flavor="chat") == (None, None, None)  # 12.7's name for "normal"
    assert glance({"_idle": {}}) == ()
    with pytest.raises(ValueError, match="unknown flavor"):
        glance(game, flavor="callback")
    assert "normal" in FLAVORS
    assert "chat" not in FLAVORS
    assert UNKNOWN in FLAVORS


def test_flance() -> None:
    update = load("pre_checkout_query.json")
    assert telepot.flance(update) == (
        "pre_checkout_query", ("PCQexample0001", 7000000101, "order-123"))
    assert telepot.flance(update["pre_checkout_query"], long=True) == (
        "pre_checkout_query",
        ("PCQexample0001", 7000000101, "order-123", "XTR", 250),
    )
    assert telepot.flance(load("chat_boost.json")) == ("chat_boost", ())
