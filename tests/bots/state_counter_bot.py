"""A bot for tests that kill it: counts each chat's messages in declared state, journal
and state in one SQLite file (exactly-once effects on state).

Run as ``python -m tests.bots.state_counter_bot DB_PATH BASE_URL [mirror]`` with the
token in ``ACTORBOT_TEST_TOKEN``; prints ``ready`` once polling, stops gracefully on
SIGTERM. A short idle timeout mixes passivations into the load. ``mirror`` sends every
odd count to chat ``chat_id + MIRROR`` instead: one seed's calls then go to two chats and
resolve out of order, so its updates' acknowledgements do too.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

import structlog

from actorbot import ChatHandler, Engine, RateLimits, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.handlers import State
from actorbot.intake import Polling
from actorbot.sending import Sending

MIRROR = 1_000_000


@dataclass
class Count:
    n: int = 0


class Counter(ChatHandler):
    state = State(Count)
    mirror = False

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.state.n += 1
        odd = self.mirror and self.state.n % 2
        self.sender.send_message(f"count {self.state.n}",
                                 chat_id=self.chat_id + MIRROR if odd else self.chat_id)


def main() -> None:
    db, base_url = sys.argv[1:3]
    Counter.mirror = sys.argv[3:] == ["mirror"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    engine = Engine(
        os.environ["ACTORBOT_TEST_TOKEN"], [Route(per_chat_id(), Counter, idle_timeout=0.05)],
        intake=Polling(timeout=1), handling=Handling(max_in_flight=500),
        sending=Sending(limits=RateLimits.unlimited()),
        connection=Connection(base_url=base_url), journal=db, state=db, stats_interval=None,
    )
    engine.start()
    book = engine._state_book  # for its counters: the test asks how many acks waited
    print("ready", flush=True)
    engine.run_forever()
    stats = engine.stats()
    print(f"stopped pending={stats['journal_pending']} in_flight={stats['in_flight']} "
          f"passivated={stats['passivated']} held={book.stats['held'] if book else 0}",
          flush=True)


if __name__ == "__main__":
    main()
