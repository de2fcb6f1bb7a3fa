"""82 hostile update shapes through getUpdates, feed() and a WebhookApp, with each
journal: the engine never dies and a good update of another chat after each one is
handled."""

from __future__ import annotations

import io
import itertools
import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from actorbot import ChatHandler, Route, UserHandler, WebhookApp, per_chat_id, per_from_id
from actorbot.journal import Journal, MemoryJournal, SqliteJournal
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine

CANARY = 900_000


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = {"x": [value]}
    return value


def good(chat: int) -> dict[str, Any]:
    return {"message_id": 1, "date": 0, "text": "ok", "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "u"}}


NON_DICTS: list[Any] = [None, 0, 1, -1, 1.5, True, False, "", "x", [], [1], {}, [{}]]
BAD_IDS: list[Any] = [None, "1", 1.5, True, False, [], {}, -1, 0, 2**31, 2**53 + 1,
                      2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
MESSAGES: list[Any] = [
    None, [], "x", 1, {}, {"chat": None}, {"chat": {}}, {"chat": {"id": "7"}},
    {"chat": {"id": True}}, {"chat": {"id": 2**64}}, {"chat": {"id": 1.5}},
    {"chat": {"id": 5, "type": 7}}, {"chat": {"id": 5}, "text": "\ud800"},
    {"chat": {"id": 5}, "text": 5}, {"chat": {"id": 5}, "text": "x" * 100_000},
    {"chat": {"id": 5}, "from": "me"}, {"chat": {"id": 5}, "from": {"id": "x"}},
    {"chat": {"id": 5}, "date": "soon"}, {"chat": {"id": 5}, "entities": "bad"},
    {"chat": {"id": 5}, "text": "/start",
     "entities": [{"type": "bot_command", "offset": 5, "length": 99}]},
    {"chat": {"id": 5}, "extra": nested(300)},
]
TYPES = ["edited_message", "channel_post", "callback_query", "inline_query",
         "business_message", "deleted_business_messages", "my_chat_member",
         "message_reaction", "poll", "pre_checkout_query", "chosen_inline_result",
         "shipping_query", "purchased_paid_media", "not_a_type_yet"]


def shapes() -> list[tuple[Any, bool]]:
    """(update, keep its update_id when polled): the fake numbers int ids itself, so that
    only ids of the wrong type reach the poller as they are (a real offset must move)."""
    ids = itertools.count(1000)
    out: list[tuple[Any, bool]] = [(v, True) for v in NON_DICTS]
    out += [({"update_id": i, "message": good(5)}, type(i) is not int) for i in BAD_IDS]
    out += [({"update_id": next(ids), "message": m}, False) for m in MESSAGES]
    out += [({"update_id": next(ids), t: p}, False) for t in TYPES for p in ({}, None)]
    out += [
        ({"update_id": next(ids), "message": good(5), "edited_message": good(6)}, False),
        ({"update_id": next(ids)}, False),
        ({"update_id": next(ids), "business_message": {**good(5),
                                                       "business_connection_id": 5}}, False),
        ({"update_id": next(ids), "business_message": {**good(5),
                                                       "business_connection_id": None}}, False),
    ]
    return out


SHAPES = shapes()
assert len(SHAPES) >= 81


class Canary(ChatHandler):
    lock = threading.Lock()
    seen: ClassVar[set[int]] = set()

    def on_chat_message(self, m: dict[str, Any]) -> None:
        if type(self.chat_id) is int and CANARY <= self.chat_id < CANARY + len(SHAPES):
            with self.lock:
                self.seen.add(self.chat_id)


class Person(UserHandler):
    def on_message(self, update: Any) -> None:
        self.sender.send_message("hi")


def post(app: WebhookApp, body: bytes) -> int:
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1"}
    status: list[str] = []
    b"".join(app(environ, lambda s, h, exc=None: status.append(s)))
    return int(status[0][:3])


@pytest.fixture(params=["memory", "sqlite"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Journal:
    return MemoryJournal() if request.param == "memory" else SqliteJournal(tmp_path / "j.db")


@pytest.mark.parametrize("source", ["getUpdates", "feed", "webhook"])
def test_no_shape_kills_the_engine_or_blocks_another_chat(
    tg: FakeBotApi, journal: Journal, source: str, no_thread_left: None
) -> None:
    Canary.seen.clear()
    routes = [Route(per_chat_id(), Canary), Route(per_from_id(), Person)]
    polling = source == "getUpdates"
    engine = make_engine(tg, routes, journal=journal,
                         **({} if polling else {"intake": None}))
    app = WebhookApp(engine.feed, secret_token=None)
    statuses: list[int] = []
    with engine:
        for n, (shape, keep) in enumerate(SHAPES):
            canary = {"update_id": CANARY + n, "message": good(CANARY + n)}
            if polling:
                tg.inject_update(shape, keep_update_id=keep)
                tg.inject_update(canary)
            elif source == "feed":
                engine.feed(shape)
                engine.feed(canary)
            else:
                statuses.append(post(app, json.dumps(shape).encode()))
                assert post(app, json.dumps(canary).encode()) == 200
        expected = set(range(CANARY, CANARY + len(SHAPES)))
        eventually(lambda: Canary.seen == expected, timeout=15, what="every other chat")
        assert engine.running
        assert engine.error is None
    assert engine.status == "stopped"
    assert journal.stats.pending == 0
    assert set(statuses) <= {200, 400}
