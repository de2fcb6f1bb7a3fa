"""Seed functions: the telepot-shaped set and the new ones, over synthetic and real updates."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import seeds, updates
from tests.corpus import ROWS, Row, load


def msg(chat_id: int, chat_type: str = "private", user: int | None = 7, **extra: Any) -> dict:
    message: dict[str, Any] = {"message_id": 1, "date": 0, "text": "t",
                               "chat": {"id": chat_id, "type": chat_type}, **extra}
    if user is not None:
        message["from"] = {"id": user, "is_bot": False, "first_name": "u"}
    return {"update_id": 1, "message": message}


def callback(chat_id: int | None, user: int = 7, inline_id: str | None = None) -> dict:
    query: dict[str, Any] = {"id": "q", "from": {"id": user, "is_bot": False},
                             "chat_instance": "ci", "data": "d"}
    if chat_id is not None:
        query["message"] = {"message_id": 42, "date": 0,
                            "chat": {"id": chat_id, "type": "private"}}
    if inline_id is not None:
        query["inline_message_id"] = inline_id
    return {"update_id": 2, "callback_query": query}


INLINE = {"update_id": 3, "inline_query": {"id": "i", "from": {"id": 9, "is_bot": False},
                                           "query": "q", "offset": ""}}


@pytest.mark.parametrize("row", ROWS)
def test_corpus_routes_to_the_expected_seeds(row: Row) -> None:
    update = load(row.file)
    connection = updates.business_connection_id(update)
    expected_chat = (seeds.BusinessChat(connection, row.chat_id)
                     if connection is not None and row.chat_id is not None
                     and row.update_type != "business_connection" else row.chat_id)
    assert seeds.per_chat_id()(update) == expected_chat
    assert seeds.per_from_id()(update) == row.user_id
    expected_inline = row.user_id if row.update_type in ("inline_query",
                                                         "chosen_inline_result") else None
    assert seeds.per_inline_from_id()(update) == expected_inline
    assert seeds.per_update_type()(update) == row.update_type.replace("new_update_kind",
                                                                      "unknown")


def test_per_chat_id_filters_chat_types() -> None:
    assert seeds.per_chat_id()(msg(5)) == 5
    assert seeds.per_chat_id("private")(msg(5)) == 5
    assert seeds.per_chat_id(["group", "supergroup"])(msg(5)) is None
    assert seeds.per_chat_id(["group", "supergroup"])(msg(-5, "group")) == -5
    assert seeds.per_chat_id(update_types="edited_message")(msg(5)) is None


def test_in_and_except_variants() -> None:
    allowed = {5, 6}
    assert seeds.per_chat_id_in(allowed)(msg(5)) == 5
    assert seeds.per_chat_id_in(allowed)(msg(8)) is None
    assert seeds.per_chat_id_except(allowed)(msg(5)) is None
    assert seeds.per_chat_id_except(allowed)(msg(8)) == 8
    assert seeds.per_from_id_in({7})(msg(5)) == 7
    assert seeds.per_from_id_except({7})(msg(5)) is None
    assert seeds.per_inline_from_id_in({9})(INLINE) == 9
    assert seeds.per_inline_from_id_except({9})(INLINE) is None
    assert seeds.per_inline_from_id()(msg(5)) is None  # not an inline update


def test_per_from_id_update_types() -> None:
    assert seeds.per_from_id(update_types="message")(msg(5)) == 7
    assert seeds.per_from_id(update_types="message")(callback(5)) is None
    assert seeds.per_from_id(update_types=["callback_query"])(callback(5)) == 7
    assert seeds.per_from_id_in({7}, update_types="inline_query")(msg(5)) is None
    assert seeds.per_from_id()(INLINE) == 9


def test_per_message_update_types() -> None:
    assert seeds.per_message()(INLINE) == []
    assert seeds.per_message(update_types="message")(msg(5)) == []
    assert seeds.per_message(update_types="message")(INLINE) is None


def test_callback_query_origin() -> None:
    origin = seeds.per_callback_query_origin()
    assert origin(callback(5)) == ("chat", 5, 42)
    assert origin(callback(None, inline_id="AbC")) == ("inline", "AbC")
    assert seeds.per_callback_query_origin("chat")(callback(None, inline_id="AbC")) is None
    assert seeds.per_callback_query_origin("inline")(callback(5)) is None
    assert origin(msg(5)) is None


def test_per_topic_and_business_connection() -> None:
    forum = msg(-100123, "supergroup", message_thread_id=77, is_topic_message=True)
    assert seeds.per_topic()(forum) == (-100123, 77)
    assert seeds.per_topic()(msg(-100123, "supergroup")) == (-100123, None)
    assert seeds.per_topic()(INLINE) is None
    business = {"update_id": 1, "business_message": {
        "message_id": 1, "date": 0, "business_connection_id": "bc1",
        "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False}}}
    assert seeds.per_business_connection()(business) == "bc1"
    assert seeds.per_business_connection()(msg(5)) is None


def test_application_and_message_seeds() -> None:
    assert seeds.per_application()(msg(5)) == seeds.per_application()(INLINE)
    fresh = seeds.per_message()(msg(5))
    assert fresh == []
    assert not seeds.is_hashable(fresh)
    assert seeds.per_message(update_types="inline_query")(msg(5)) is None


def test_is_hashable() -> None:
    assert seeds.is_hashable(5)
    assert seeds.is_hashable(("chat", 5))
    assert not seeds.is_hashable([5])
    assert not seeds.is_hashable((5, [6]))


@pytest.mark.parametrize("junk", [None, 5, "x", [], {}, {"message": 5},
                                  {"message": {"chat": []}}, {"callback_query": {"message": 1}}])
def test_builtin_seeds_never_raise(junk: Any) -> None:
    for make in (seeds.per_chat_id, seeds.per_from_id, seeds.per_inline_from_id,
                 seeds.per_callback_query_origin, seeds.per_topic,
                 seeds.per_business_connection, seeds.per_update_type):
        make()(junk)  # no exception is the assertion


def test_seed_function_guard_logs_without_the_update() -> None:
    @seeds.seed_function
    def by_text_length(update: Any) -> int:
        return len(update["message"]["text"])

    assert by_text_length(msg(5)) == 1
    with capture_logs() as logs:
        assert by_text_length({"secret": "do not log me"}) is None
    assert logs == [{"event": "seed.failed", "seed_function": "by_text_length",
                     "error": "KeyError", "log_level": "warning"}]
