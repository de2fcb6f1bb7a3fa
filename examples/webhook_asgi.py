"""A webhook bot mounted in a Starlette (or FastAPI) site, served by uvicorn.

The site answers ``/`` itself and mounts actorbot's ``WebhookASGIApp`` at ``/telegram``;
the app checks the secret token and feeds each update to the engine, off the event loop,
before answering 200. In FastAPI it is ``app.mount("/telegram", bot)``. The engine starts
and stops with the site (its lifespan), so serving the site with uvicorn runs the whole bot.

    pip install actorbot[asgi] starlette
    TELEGRAM_BOT_TOKEN=... WEBHOOK_URL=https://bot.example.org/telegram/ \\
        WEBHOOK_SECRET=some-secret PORT=8080 python examples/webhook_asgi.py  # behind TLS
    python examples/webhook_asgi.py      # a demo: the fake Telegram POSTs to 127.0.0.1
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import requests
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from actorbot import ChatHandler, Engine, Webhook, per_chat_id
from actorbot import Route as BotRoute
from actorbot.intake import WebhookASGIApp
from actorbot.testing import FakeBotApi

MOUNT = "/telegram"
MAX_CONNECTIONS = 40  # Telegram's parallel requests; uvicorn keeps every one alive


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(f"You said: {msg.get('text', '')}")


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("the site is up\n")


def site(engine: Engine, secret: str) -> tuple[Starlette, WebhookASGIApp]:
    """The application's own site, the bot mounted at ``MOUNT``; the engine runs while
    the site does (``async with engine``: started and stopped without blocking the loop,
    and any ``async def`` hooks run on it)."""
    bot = WebhookASGIApp(engine.feed, secret_token=secret, batches=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine:
            yield

    routes = [Route("/", home), Mount(MOUNT, app=bot)]
    return Starlette(routes=routes, lifespan=lifespan), bot


def build(token: str, url: str, secret: str, **options: Any) -> Engine:
    """setWebhook on start; stop() leaves the webhook set, so no update is lost meanwhile."""
    hook = Webhook(url, secret_token=secret, max_connections=MAX_CONNECTIONS)
    return Engine(token, [BotRoute(per_chat_id(), Echo)], intake=hook, **options)


@contextmanager
def serving(app: Starlette, sock: socket.socket) -> Iterator[uvicorn.Server]:
    """uvicorn on a bound socket in a thread (lifespan: the engine starts); stop it (the
    engine stops) and join the thread on exit."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, args=([sock],), name="asgi-server")
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.01)
        yield server
    finally:
        server.should_exit = True
        thread.join()


def demo() -> None:
    """Three users write; the fake Telegram delivers by webhook; a forger is turned away."""
    secret = "demo-secret"  # noqa: S105  (the fake bot's)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the port goes into the webhook URL before serving
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    url = f"{base}{MOUNT}/"
    with FakeBotApi() as telegram:
        engine = build(telegram.token, url, secret, connection=telegram.connection)
        app, bot = site(engine, secret)
        with serving(app, sock):
            for chat, text in ((1001, "hello"), (1002, "hi bot"), (1001, "how are you?")):
                telegram.inject_message(chat, text)
            telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 3, 10)
            forged = requests.post(url, json={"update_id": 1, "message": {}}, timeout=5)
            print(f"a POST without the secret: {forged.status_code}")
            print(f"GET /: {requests.get(base + '/', timeout=5).text.strip()}")
        for chat in (1001, 1002):
            print(f"chat {chat}: bot answered {telegram.sent_texts(chat)}")
        print(f"webhook requests: {bot.stats()}; "
              f"updates left on the server: {telegram.pending_update_count}")


def serve(token: str) -> None:
    """The real bot: uvicorn serves the site, and with it the engine, until SIGINT/SIGTERM
    (uvicorn's signal handling; its lifespan stops the engine)."""
    secret = os.environ["WEBHOOK_SECRET"]
    engine = build(token, os.environ["WEBHOOK_URL"], secret)
    app, _ = site(engine, secret)
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))  # noqa: S104


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if token:
        serve(token)
    else:
        demo()


if __name__ == "__main__":
    main()
