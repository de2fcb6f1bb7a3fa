"""Helpers for the Mini App tests: an engine with a MiniApp on a free port, a websocket
client that logs in, and a recording handler."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from actorbot import Engine, Route, UserHandler
from actorbot.seeds import per_from_id
from actorbot.testing import FakeBotApi, sign_init_data
from actorbot.webapp import Client, MiniApp
from tests.helpers import make_engine


class Journal:
    """What handlers saw, per user, from every thread (a lock: handlers run on a pool)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[int, list[tuple[Any, ...]]] = {}
        self.changed = threading.Condition(self.lock)

    def add(self, user: int, *event: Any) -> None:
        with self.lock:
            self.events.setdefault(user, []).append(event)
            self.changed.notify_all()

    def of(self, user: int) -> list[tuple[Any, ...]]:
        with self.lock:
            return list(self.events.get(user, ()))

    def wait(self, predicate: Any, timeout: float = 20.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.events), timeout):
                raise AssertionError(f"timed out; saw {self.events}")


JOURNAL = Journal()


class Recorder(UserHandler):
    """Answers every client message with what it has seen, and pushes chat messages."""

    def on_open(self, update: Any) -> None:
        self.seen = 0
        self.state: Any = None

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.seen += 1
        JOURNAL.add(self.user_id, "tg", msg.get("text"), self.state)
        self.push("tg", {"text": msg.get("text"), "seen": self.seen})

    def on_client_connected(self, client: Client) -> None:
        JOURNAL.add(self.user_id, "connected", client.id, client.resumed)

    def on_client_message(self, client: Client, type: str, data: Any) -> None:
        self.seen += 1
        if type == "set":
            self.state = data
        if type == "boom":
            raise RuntimeError("asked to fail")
        if type == "close":
            self.close()
        JOURNAL.add(self.user_id, "message", client.id, type, data)
        client.send("answer", {"type": type, "data": data, "seen": self.seen,
                               "handler": id(self)})

    def on_client_disconnected(self, client: Client) -> None:
        JOURNAL.add(self.user_id, "disconnected", client.id)

    def on_ask(self, message: Any) -> Any:
        if message == "fail":
            raise ValueError("no answer")
        return {"state": self.state, "seen": self.seen, "asked": message,
                "clients": len(self.clients), "handler": id(self)}


@contextlib.contextmanager
def running(
    tg: FakeBotApi, handler: type = Recorder, routes: list[Any] | None = None,
    **options: Any,
) -> Iterator[tuple[Engine, MiniApp]]:
    JOURNAL.events.clear()
    engine_options = {k: options.pop(k) for k in list(options)
                      if k in {"access", "intake", "clock"}}
    engine_options.setdefault("intake", None)  # updates come by say(): no poller timing
    app = MiniApp(port=0, **options)
    engine = make_engine(tg, routes or [Route(per_from_id(), handler, name="users")],
                         components=[app], **engine_options)
    with engine:
        yield engine, app


async def login(
    app: MiniApp | str, tg: FakeBotApi, user: int, **kw: Any
) -> ClientConnection:
    """A connected websocket (to ``app`` or a URL) that logged in as ``user``."""
    ws = await connect(app if isinstance(app, str) else app.url, **kw)
    await ws.send(json.dumps({"type": "login",
                              "data": {"initData": sign_init_data(tg.token, user)}}))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    assert welcome["data"]["user"]["id"] == user
    return ws


async def ask(ws: ClientConnection, type: str, data: Any = None) -> dict[str, Any]:
    await ws.send(json.dumps({"type": type, "data": data}))
    return await next_frame(ws, "answer")


async def next_frame(ws: ClientConnection, type: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if frame["type"] == type:
            data: dict[str, Any] = frame["data"]
            return data


_update_ids = itertools.count(1)


def say(engine: Engine, user: int, text: str) -> None:
    """``user`` writes ``text`` to the bot in the private chat (fed, not polled)."""
    engine.feed(text_update(next(_update_ids), user, text))


def text_update(update_id: int, user: int, text: str) -> dict[str, Any]:
    """A private text message from ``user``, for ``engine.feed`` (tests without polling)."""
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "U"}}}


async def closed_with(ws: Any) -> tuple[int | None, str | None]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed):
        await _drain(ws)
    return ws.close_code, ws.close_reason


async def _drain(ws: Any) -> None:
    while True:
        await asyncio.wait_for(ws.recv(), 20)
