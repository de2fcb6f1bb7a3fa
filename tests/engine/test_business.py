"""A business account's chat is its own conversation, and replies go through it."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.seeds import BusinessChat
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine

USER = 4242


def private(update_id: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "to the bot",
        "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "u"}}}


def business(update_id: int, connection: str) -> dict[str, Any]:
    return {"update_id": update_id, "business_message": {
        "message_id": update_id, "date": 0, "text": "to the shop",
        "business_connection_id": connection, "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "u"}}}


def test_per_chat_id_keys_business_messages_by_connection_and_chat() -> None:
    seed = per_chat_id()
    assert seed(private(1)) == USER
    assert seed(business(2, "conn-a")) == BusinessChat("conn-a", USER)
    assert seed(business(3, "conn-b")) != seed(business(2, "conn-a"))
    edited = {"update_id": 4, "edited_business_message": business(4, "conn-a")[
        "business_message"]}
    assert seed(edited) == BusinessChat("conn-a", USER)


class Counter(ChatHandler):
    lock = threading.Lock()
    seen: ClassVar[list[tuple[Any, int, str | None]]] = []

    def on_message(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append((self.seed, self.chat_id, self.business_connection_id))
        self.sender.send_message("hello")


def test_business_replies_carry_the_connection(tg: FakeBotApi) -> None:
    Counter.seen.clear()
    engine = make_engine(tg, [Route(per_chat_id(), Counter)], intake=None)
    with engine:
        engine.feed([private(1), business(2, "conn-a"), business(3, "conn-a")])
        eventually(lambda: engine.stats()["handled"] == 3, what="three updates")
        eventually(lambda: len(tg.calls_to("sendMessage")) == 3, what="three replies")
        assert engine.stats()["spawned"] == 2  # the bot's chat, the shop's chat
    assert sorted(Counter.seen, key=repr) == sorted([
        (USER, USER, None),
        (BusinessChat("conn-a", USER), USER, "conn-a"),
        (BusinessChat("conn-a", USER), USER, "conn-a")], key=repr)
    calls = tg.calls_to("sendMessage")
    assert sorted(c.params.get("business_connection_id", "") for c in calls) == [
        "", "conn-a", "conn-a"]
    assert all(c.params["chat_id"] == USER for c in calls)
