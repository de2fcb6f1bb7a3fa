"""A Mini App and a chat sharing one per-user actor: a counter and a note.

Each user has one ``Profile`` handler actor. The page (``static/``, plain HTML and JS)
talks to it over a websocket; the chat talks to it through Telegram. Both change the
same state, and the actor pushes every change to all of the user's open pages.

    python examples/mini_app/mini_app_bot.py            # a scripted demo on the fake Telegram
    python examples/mini_app/mini_app_bot.py --serve    # the same, plus a page to open in
                                                        # a browser (a signed URL is printed)
    TELEGRAM_BOT_TOKEN=... python examples/mini_app/mini_app_bot.py   # a real bot on :8080

With a real bot, serve the port over HTTPS (a TLS proxy) and set that URL as the bot's
Mini App (BotFather, or a ``web_app`` button).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import connect

from actorbot import Engine, Polling, Route, UserHandler, per_from_id
from actorbot.testing import FakeBotApi, sign_init_data
from actorbot.webapp import Client, MiniApp

STATIC = Path(__file__).resolve().parent / "static"
USER = 4242


class Profile(UserHandler):
    """One user's counter and note, whoever changes them: the page or the chat."""

    def on_open(self, update: Any) -> None:
        self.counter = 0
        self.note = ""

    def state(self) -> dict[str, Any]:
        return {"counter": self.counter, "note": self.note}

    # -- the page --------------------------------------------------------------------------

    def on_client_connected(self, client: Client) -> None:
        client.send("state", self.state())

    def on_client_message(self, client: Client, type: str, data: Any) -> None:
        if type == "inc":
            self.counter += 1
        elif type == "note" and isinstance(data, str):
            self.note = data[:200]
        else:
            client.send("error", {"unknown": type})
            return
        self.push("state", self.state())  # every open page of this user

    # -- the chat --------------------------------------------------------------------------

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        if msg.get("text") == "/inc":
            self.counter += 1
            self.push("state", self.state())
        self.sender.send_message(f"counter: {self.counter}, note: {self.note!r}")

    # -- any web backend (Engine.ask) ------------------------------------------------------

    def on_ask(self, message: Any) -> Any:
        return self.state()


def build(token: str, *, port: int = 8080, **options: Any) -> tuple[Engine, MiniApp]:
    app = MiniApp(host="127.0.0.1", port=port, static=STATIC)
    engine = Engine(token, [Route(per_from_id(), Profile, name="profiles")],
                    components=[app], **options)
    return engine, app


def page_url(app: MiniApp, token: str, user: int = USER) -> str:
    """The page's URL with an initData signed for ``token`` where Telegram puts it."""
    init_data = sign_init_data(token, {"id": user, "first_name": "Ada"})
    return f"http://127.0.0.1:{app.port}/#tgWebAppData={quote(init_data, safe='')}"


async def scripted_page(app: MiniApp, token: str) -> None:
    """What the page does, as a websocket client: log in, press +1 twice, save a note."""
    async with connect(f"ws://127.0.0.1:{app.port}/ws") as ws:
        init_data = sign_init_data(token, {"id": USER, "first_name": "Ada"})
        await ws.send(json.dumps({"type": "login", "data": {"initData": init_data}}))
        for frame in ({"type": "inc"}, {"type": "inc"}, {"type": "note", "data": "from the page"}):
            await ws.send(json.dumps(frame))
        states: list[dict[str, Any]] = []
        while len(states) < 4:  # the state on login, then one per change
            message = json.loads(await ws.recv())
            if message["type"] == "state":
                states.append(message["data"])
        print(f"page : saw {[s['counter'] for s in states]}, last {states[-1]}")


def demo(serve: bool) -> None:
    with FakeBotApi() as telegram:
        engine, app = build(telegram.token, port=0, connection=telegram.connection,
                            intake=Polling(timeout=1), stats_interval=None)
        with engine:
            asyncio.run(scripted_page(app, telegram.token))
            telegram.inject_message(USER, "what do you know?")
            telegram.wait_for(lambda: len(telegram.sent_texts(USER)) == 1, 10)
            print(f"chat : bot answered {telegram.sent_texts(USER)}")
            state = engine.ask("profiles", USER, "state?").get(timeout=10)
            print(f"ask  : {state}")
            if serve:
                print(f"open : {page_url(app, telegram.token)}")
                print("       (Ctrl-C to stop)")
                engine.run_forever()


def main() -> None:
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if token:
        engine, app = build(token)
        print(f"Mini App backend on http://127.0.0.1:{app.port}/ (put HTTPS in front)")
        engine.run_forever()
    else:
        demo(serve="--serve" in sys.argv[1:])


if __name__ == "__main__":
    main()
