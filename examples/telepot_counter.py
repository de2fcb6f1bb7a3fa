"""telepot's message counter, unchanged but for its imports, running on actorbot.

The class and the bot below are telepot 12's documented counter (``DelegatorBot`` with
``pave_event_space``, ``per_chat_id``, ``create_open`` and
``include_callback_query_chat_id``). Only ``import telepot`` changed.

    TELEGRAM_BOT_TOKEN=... python examples/telepot_counter.py   # a real bot
    python examples/telepot_counter.py                          # a demo on the fake Telegram
"""

# mypy: allow-untyped-defs, allow-untyped-calls
# (telepot's code below is untyped, and stays as telepot's documentation wrote it)

from __future__ import annotations

import logging
import os
import time

import structlog

from actorbot import RateLimits, Sending
from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import (
    create_open,
    include_callback_query_chat_id,
    pave_event_space,
    per_chat_id,
)
from actorbot.compat.telepot.loop import MessageLoop
from actorbot.testing import FakeBotApi


class MessageCounter(telepot.helper.ChatHandler):
    def __init__(self, *args, **kwargs):
        super(MessageCounter, self).__init__(*args, **kwargs)  # noqa: UP008 - telepot's code
        self._count = 0

    def on_chat_message(self, msg):
        self._count += 1
        self.sender.sendMessage(self._count)


def make_bot(token, timeout=10):
    return telepot.DelegatorBot(token, [
        include_callback_query_chat_id(
            pave_event_space())(
                per_chat_id(), create_open, MessageCounter, timeout=timeout),
    ])


def demo() -> None:
    """Two chats talk, fall silent past a short timeout, and one comes back."""
    with FakeBotApi() as fake, telepot.api.using(
        base_url=fake.base_url, poll_timeout=1, sending=Sending(limits=RateLimits.unlimited())
    ):
        bot = make_bot(fake.token, timeout=0.3)
        MessageLoop(bot).run_as_thread()
        for text in ("hi", "how", "are you"):
            fake.inject_message(1001, text)
        fake.inject_message(1002, "hello")
        fake.wait_for(lambda: len(fake.calls_to("sendMessage")) == 4, 10)
        engine = bot.loop.engine
        fake.wait_for(lambda: engine.stats()["handlers_alive"] == 0, 10)
        print(f"idle for 0.3 s: {engine.stats()['closed']} delegates closed")
        fake.inject_message(1001, "back again")
        fake.wait_for(lambda: len(fake.calls_to("sendMessage")) == 5, 10)
        print(f"stopped cleanly: {bot.stop()}")
        for chat in (1001, 1002):
            print(f"chat {chat}: bot answered {fake.sent_texts(chat)}")


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        demo()
        return
    MessageLoop(make_bot(token)).run_as_thread()
    print("Listening ...")
    while 1:  # telepot's idiom; Ctrl-C ends the program and the bot stops gracefully
        time.sleep(10)


if __name__ == "__main__":
    main()
