"""telepot 6.3's asyncio message counter, unchanged but for its imports, running on actorbot.

The class and the bot below are telepot 6.3's ``telepot.async.DelegatorBot`` counter; only
the imports changed (``import telepot.async`` no longer parses: it is ``telepot.aio``),
and ``@asyncio.coroutine``/``yield from`` are written ``async def``/``await``.

    TELEGRAM_BOT_TOKEN=... python examples/telepot_countera.py   # a real bot
    python examples/telepot_countera.py                          # a demo on the fake Telegram
"""

# mypy: allow-untyped-defs, allow-untyped-calls
# (telepot's code below is untyped, and stays as telepot's documentation wrote it)

from __future__ import annotations

import asyncio
import logging
import os

import structlog

import actorbot.compat.telepot.aio
from actorbot import RateLimits, Sending
from actorbot.compat import telepot
from actorbot.compat.telepot.aio.delegate import create_open
from actorbot.compat.telepot.delegate import per_chat_id
from actorbot.testing import FakeBotApi


class MessageCounter(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple, timeout):
        super(MessageCounter, self).__init__(seed_tuple, timeout)  # noqa: UP008 - telepot's code
        self._count = 0

    async def on_message(self, msg):
        self._count += 1
        await self.sender.sendMessage(self._count)


def make_bot(token, timeout=10):
    return actorbot.compat.telepot.aio.DelegatorBot(token, [
        (per_chat_id(), create_open(MessageCounter, timeout=timeout)),
    ])


async def demo() -> None:
    """Two chats talk, fall silent past a short timeout, and one comes back."""
    with FakeBotApi() as fake, telepot.api.using(
        base_url=fake.base_url, poll_timeout=1, sending=Sending(limits=RateLimits.unlimited())
    ):
        bot = make_bot(fake.token, timeout=0.3)
        loop_task = asyncio.create_task(bot.messageLoop())
        for text in ("hi", "how", "are you"):
            fake.inject_message(1001, text)
        fake.inject_message(1002, "hello")
        await asyncio.to_thread(fake.wait_for, lambda: len(fake.calls_to("sendMessage")) == 4, 10)
        engine = bot.engine
        assert engine is not None
        await asyncio.to_thread(fake.wait_for, lambda: engine.stats()["handlers_alive"] == 0, 10)
        print(f"idle for 0.3 s: {engine.stats()['closed']} delegates closed")
        fake.inject_message(1001, "back again")
        await asyncio.to_thread(fake.wait_for, lambda: len(fake.calls_to("sendMessage")) == 5, 10)
        print(f"stopped cleanly: {await bot.stop_async()}")
        await loop_task  # messageLoop() returns once the bot is stopped
        for chat in (1001, 1002):
            print(f"chat {chat}: bot answered {fake.sent_texts(chat)}")


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        asyncio.run(demo())
        return
    bot = make_bot(token)
    loop = asyncio.new_event_loop()  # telepot 6.3's idiom: a task, then run_forever()
    task = loop.create_task(bot.messageLoop())
    print("Listening ...")
    try:
        loop.run_forever()  # Ctrl-C ends it; the bot then stops gracefully
    except KeyboardInterrupt:
        task.cancel()
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


if __name__ == "__main__":
    main()
