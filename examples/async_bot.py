"""A bot written with ``async def`` hooks, embedded in an asyncio program.

Each chat's handler counts its messages and awaits each reply (the sent Message comes
back); ``/weather CITY`` asks an HTTP service with an async client; ``/slow`` runs blocking
work in a thread so the event loop stays free for every other chat. The engine runs its
hooks on the program's own loop (``async with engine``).

    TELEGRAM_BOT_TOKEN=... WEATHER_URL=... python examples/async_bot.py   # a real bot
    python examples/async_bot.py          # a demo on the fake Telegram and a fake service
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from _run import run  # examples/_run.py: token -> real bot, else the demo

from actorbot import ChatHandler, Engine, Polling, RateLimits, Route, Sending, command, per_chat_id
from actorbot.testing import FakeBotApi


class Counter(ChatHandler):
    weather_url = os.environ.get("WEATHER_URL", "http://127.0.0.1:8000/forecast")

    async def on_open(self, update: Any) -> None:
        self.count = 0
        self.http = httpx.AsyncClient(timeout=5.0)  # one per chat here; share one if many

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        sent = await self.sender.send_message(f"message {self.count} in this chat")
        self.last_reply_id = sent["message_id"]  # the Message Telegram sent back

    @command("weather", "Ask the weather service")
    async def weather(self, msg: dict[str, Any], args: str) -> None:
        answer = await self.http.get(self.weather_url, params={"city": args or "Paris"})
        await self.sender.send_message(answer.json()["forecast"])

    @command("slow", "Blocking work, in a thread")
    async def slow(self, msg: dict[str, Any], args: str) -> None:
        took = await asyncio.to_thread(blocking_work)  # the loop serves other chats meanwhile
        await self.sender.send_message(f"done in {took:.2f} s")

    async def on_close(self, reason: BaseException) -> None:
        await self.http.aclose()


def blocking_work() -> float:
    began = time.monotonic()
    time.sleep(0.05)  # a synchronous library call, a file, a CPU-bound step...
    return time.monotonic() - began


def build(token: str, **options: Any) -> Engine:
    return Engine(token, [Route(per_chat_id(), Counter, idle_timeout=600)], **options)


@contextmanager
def weather_service() -> Iterator[str]:
    """A stand-in for a real HTTP API, on a free port of 127.0.0.1."""

    class Forecast(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            city = parse_qs(urlparse(self.path).query).get("city", ["?"])[0]
            body = json.dumps({"forecast": f"sunny in {city}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forecast)
    thread = threading.Thread(target=server.serve_forever, name="weather-service")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/forecast"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def chat(telegram: FakeBotApi) -> None:
    """Two chats talk at once; the service's program awaits the bot's answers."""
    async with build(telegram.token, connection=telegram.connection, intake=Polling(timeout=1),
                     sending=Sending(limits=RateLimits.unlimited())):
        telegram.inject_command(1001, "/slow")
        telegram.inject_message(1002, "hello")
        telegram.inject_message(1002, "again")
        telegram.inject_command(1002, "/weather", "Oslo")
        telegram.inject_message(1001, "hi")
        while len(telegram.calls_to("sendMessage")) < 5:
            await asyncio.sleep(0.01)  # the demo polls the fake; a real service does its job
    for chat_id in (1001, 1002):
        print(f"chat {chat_id}: bot answered {telegram.sent_texts(chat_id)}")


def demo() -> None:
    with FakeBotApi() as telegram, weather_service() as url:
        Counter.weather_url = url
        asyncio.run(chat(telegram))


def main() -> None:
    run(build, demo)


if __name__ == "__main__":
    main()
