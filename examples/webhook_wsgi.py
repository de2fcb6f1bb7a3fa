"""A webhook bot mounted in a WSGI site: no web framework, any WSGI server.

The site answers ``/`` itself and hands ``/telegram/webhook`` to actorbot's ``WebhookApp``,
which checks the secret token and feeds each update to the engine before answering 200.
In Flask or Django, mount the same ``WebhookApp`` under a URL instead of ``Site``.
The server here is cheroot (``pip install cheroot``); gunicorn or uWSGI work the same way.

    TELEGRAM_BOT_TOKEN=... WEBHOOK_URL=https://bot.example.org/telegram/webhook \\
        WEBHOOK_SECRET=some-secret PORT=8080 python examples/webhook_wsgi.py  # behind TLS
    python examples/webhook_wsgi.py      # a demo: the fake Telegram POSTs to 127.0.0.1
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import requests
from _run import run  # examples/_run.py: token -> real bot, else the demo
from cheroot.wsgi import Server

from actorbot import ChatHandler, Engine, Hooks, Route, Webhook, WebhookApp, per_chat_id
from actorbot.testing import FakeBotApi

HOOK_PATH = "/telegram/webhook"
#: Telegram's parallel requests (setWebhook ``max_connections``); the server must keep as
#: many connections alive, or it closes some after each answer and Telegram reconnects.
MAX_CONNECTIONS = 40


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(f"You said: {msg.get('text', '')}")


class Site:
    """The application's own WSGI site, with the bot mounted at ``HOOK_PATH``."""

    def __init__(self) -> None:
        self.bot: WebhookApp | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == HOOK_PATH and self.bot is not None:
            return self.bot(environ, start_response)
        status, body = ("200 OK", b"the site is up\n") if path == "/" else ("404 Not Found", b"")
        start_response(status, [("Content-Type", "text/plain"),
                                ("Content-Length", str(len(body)))])
        return [body]


def build(token: str, url: str, secret: str, **options: Any) -> Engine:
    """setWebhook on start; stop() leaves the webhook set, so no update is lost meanwhile."""
    hook = Webhook(url, secret_token=secret, max_connections=MAX_CONNECTIONS)
    return Engine(token, [Route(per_chat_id(), Echo)], intake=hook, **options)


@contextmanager
def serving(site: Site, host: str, port: int) -> Iterator[Server]:
    """Run cheroot in a thread; stop it and join the thread on exit."""
    server = Server((host, port), site, numthreads=MAX_CONNECTIONS)
    server.request_queue_size = 128  # Telegram opens up to max_connections at once
    # cheroot keeps only 10 idle keep-alive connections by default: with Telegram's 40 it
    # closes others after their answer (benchmarks/webhook.py: 250-290 connections opened
    # for 1,000 updates instead of 40, and about a tenth more CPU per update).
    server.keep_alive_conn_limit = MAX_CONNECTIONS
    server.prepare()  # binds: the port is known from here on
    thread = threading.Thread(target=server.serve, name="wsgi-server")
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join()


def demo() -> None:
    """Three users write; the fake Telegram delivers by webhook; a forger is turned away."""
    secret = "demo-secret"  # noqa: S105  (the fake bot's)
    site = Site()
    with FakeBotApi() as telegram, serving(site, "127.0.0.1", 0) as server:
        url = f"http://127.0.0.1:{server.bind_addr[1]}{HOOK_PATH}"
        engine = build(telegram.token, url, secret, connection=telegram.connection)
        site.bot = WebhookApp(engine.feed, secret_token=secret)
        with engine:
            for chat, text in ((1001, "hello"), (1002, "hi bot"), (1001, "how are you?")):
                telegram.inject_message(chat, text)
            telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 3, 10)
            forged = requests.post(url, json={"update_id": 1, "message": {}}, timeout=5)
            print(f"a POST without the secret: {forged.status_code}")
            print(f"GET /: {requests.get(url.replace(HOOK_PATH, '/'), timeout=5).text.strip()}")
        for chat in (1001, 1002):
            print(f"chat {chat}: bot answered {telegram.sent_texts(chat)}")
        print(f"webhook requests: {site.bot.stats()}; "
              f"updates left on the server: {telegram.pending_update_count}")


def serve(token: str) -> Engine:
    """The real bot: the site listens on PORT (behind a TLS proxy) until the engine stops."""
    secret = os.environ["WEBHOOK_SECRET"]
    site = Site()
    server = ExitStack()
    server.enter_context(serving(site, "0.0.0.0", int(os.environ.get("PORT", "8080"))))  # noqa: S104

    def on_status(status: str) -> None:
        if status == "stopped":
            server.close()

    engine = build(token, os.environ["WEBHOOK_URL"], secret, hooks=Hooks(on_status=on_status))
    site.bot = WebhookApp(engine.feed, secret_token=secret)
    return engine


def main() -> None:
    run(serve, demo)


if __name__ == "__main__":
    main()
