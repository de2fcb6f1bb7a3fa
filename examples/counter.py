"""The classic per-chat message counter (telepot's first DelegatorBot example).

Every chat gets its own handler actor that counts the chat's messages and answers with the
count. After ``IDLE_TIMEOUT`` seconds of silence the handler is passivated, so the next
message starts over at 1.

    TELEGRAM_BOT_TOKEN=... python examples/counter.py   # a real bot
    python examples/counter.py                          # a demo on the fake Telegram
"""

from __future__ import annotations

from typing import Any

from _run import run  # examples/_run.py: token -> real bot, else the demo

from actorbot import ChatHandler, Engine, Polling, Route, per_chat_id
from actorbot.testing import FakeBotApi

IDLE_TIMEOUT = 10.0


class MessageCounter(ChatHandler):
    def on_open(self, update: Any) -> None:
        self.count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        self.sender.send_message(str(self.count))


def build(token: str, idle_timeout: float = IDLE_TIMEOUT,
          **options: Any) -> Engine:
    route = Route(per_chat_id(), MessageCounter, idle_timeout=idle_timeout)
    return Engine(token, [route], **options)


def demo() -> None:
    """Two chats talk, fall silent past a short idle timeout, and come back."""
    with FakeBotApi() as telegram:
        engine = build(telegram.token, connection=telegram.connection, intake=Polling(timeout=1),
                       idle_timeout=0.3)
        with engine:
            for text in ("hi", "how", "are you"):
                telegram.inject_message(1001, text)
            telegram.inject_message(1002, "hello")
            telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 4, 10)
            telegram.wait_for(lambda: engine.stats()["handlers_alive"] == 0, 10)
            print(f"idle for 0.3 s: {engine.stats()['passivated']} handlers passivated")
            telegram.inject_message(1001, "back again")
            telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 5, 10)
        for chat in (1001, 1002):
            print(f"chat {chat}: bot answered {telegram.sent_texts(chat)}")


def main() -> None:
    run(build, demo)


if __name__ == "__main__":
    main()
