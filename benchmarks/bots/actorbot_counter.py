"""The counter bot for benchmarks/counter.py: each reply is the chat's message count.

Run by the harness as ``python actorbot_counter.py RUNTIME [JOURNAL] TOKEN BASE_URL``
(JOURNAL: ``memory``, the default, or a SQLite file path, optionally ``path?FULL``;
RUNTIME ``pool@telegram`` keeps Telegram's default limits instead of none; RUNTIME
``async``: the same counter with ``async def`` hooks that await each reply;
``async-nowait``: async hooks that queue each reply without awaiting it; ``async-uvloop``:
``async`` on a uvloop event loop, ``Handling(loop_factory=uvloop.new_event_loop)``); prints
``ready <cpu seconds>`` once polling, then runs until SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import structlog

from actorbot import ChatHandler, Engine, RateLimits, Route, per_chat_id
from actorbot.journal import Journal, MemoryJournal, SqliteJournal

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from counter import MessageCounter

from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.intake import Polling
from actorbot.sending import Sending


class AsyncMessageCounter(ChatHandler):
    """``MessageCounter`` with async hooks: each reply is awaited before the next update."""

    async def on_open(self, update: Any) -> None:
        self.count = 0

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        await self.sender.send_message(str(self.count))


class AsyncNoWaitCounter(ChatHandler):
    """Async hooks that queue each reply like the sync counter, without awaiting it."""

    async def on_open(self, update: Any) -> None:
        self.count = 0

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        self.sender.send_message(str(self.count))


ASYNC = {"async": AsyncMessageCounter, "async-nowait": AsyncNoWaitCounter,
         "async-uvloop": AsyncMessageCounter}


def main() -> None:
    runtime, *rest = sys.argv[1:]
    runtime, _, limits = runtime.partition("@")
    handler: type[ChatHandler] = MessageCounter
    loop_factory = None
    if runtime == "async-uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    if runtime in ASYNC:
        runtime, handler = "pool", ASYNC[runtime]
    where, token, base_url = rest if len(rest) == 3 else ["memory", *rest]
    journal: Journal = MemoryJournal()
    if where != "memory":
        path, _, sync = where.partition("?")
        journal = SqliteJournal(path, synchronous="FULL" if sync == "FULL" else "NORMAL")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    engine = Engine(
        token, [Route(per_chat_id(), handler)], intake=Polling(timeout=10),
        handling=Handling(runtime=runtime, loop_factory=loop_factory),
        sending=Sending(limits=RateLimits() if limits == "telegram" else RateLimits.unlimited()),
        connection=Connection(base_url=base_url), stats_interval=None, journal=journal,
    )
    engine.start()
    times = os.times()
    print(f"ready {times.user + times.system:.4f}", flush=True)
    engine.run_forever()


if __name__ == "__main__":
    main()
