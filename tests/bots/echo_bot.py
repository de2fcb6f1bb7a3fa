"""A bot for tests that kill it: echoes every message's text, journal on disk.

Run as ``python -m tests.bots.echo_bot JOURNAL_PATH BASE_URL [async]`` with the token in
``ACTORBOT_TEST_TOKEN``; prints ``ready`` once polling, stops gracefully on SIGTERM. With
``async`` the handler's hook is ``async def`` and awaits each reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import structlog

from actorbot import ChatHandler, Engine, RateLimits, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.intake import Polling
from actorbot.sending import Sending


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg["text"])


class AsyncEcho(ChatHandler):
    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        await self.sender.send_message(msg["text"])


def main() -> None:
    journal, base_url = sys.argv[1:3]
    handler = AsyncEcho if sys.argv[3:] == ["async"] else Echo
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    engine = Engine(
        os.environ["ACTORBOT_TEST_TOKEN"], [Route(per_chat_id(), handler)],
        intake=Polling(timeout=1),
        handling=Handling(max_in_flight=500), sending=Sending(limits=RateLimits.unlimited()),
        connection=Connection(base_url=base_url), journal=journal, stats_interval=None,
    )
    engine.start()
    print("ready", flush=True)
    engine.run_forever()
    stats = engine.stats()
    print(f"stopped pending={stats['journal_pending']} in_flight={stats['in_flight']}",
          flush=True)


if __name__ == "__main__":
    main()
