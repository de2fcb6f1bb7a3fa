"""The counter bot with declared state, for benchmarks/state.py.

Run by the harness as ``python actorbot_state_counter.py RUNTIME JOURNAL STORE TOKEN
BASE_URL``: JOURNAL ``memory`` or a SQLite path; STORE ``none`` (the count in an
attribute, as examples/counter.py), ``memory``, ``journal`` (a SqliteStore on the
journal's own file: exactly-once), ``sqlite:PATH`` or ``redis:URL``. Each reply is the
chat's count (examples/state_counter.py's handler). Prints ``ready <cpu seconds>`` once
polling, then runs until SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import structlog

from actorbot import Engine, RateLimits, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.handlers import Handler
from actorbot.intake import Polling
from actorbot.sending import Sending
from actorbot.state import MemoryStore, RedisStore, SqliteStore, StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from counter import MessageCounter
from state_counter import StateCounter


def main() -> None:
    runtime, journal, where, token, base_url = sys.argv[1:]
    store: StateStore | None = None
    handler: type[Handler] = StateCounter
    if where == "none":
        handler = MessageCounter
    elif where == "memory":
        store = MemoryStore()
    elif where == "journal":
        store = SqliteStore(journal)
    elif where.startswith("sqlite:"):
        store = SqliteStore(where.removeprefix("sqlite:"))
    elif where.startswith("redis:"):
        store = RedisStore(where.removeprefix("redis:"))
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    engine = Engine(
        token, [Route(per_chat_id(), handler, idle_timeout=600)], intake=Polling(timeout=10),
        handling=Handling(runtime=runtime), sending=Sending(limits=RateLimits.unlimited()),
        connection=Connection(base_url=base_url), stats_interval=None,
        journal=None if journal == "memory" else journal, state=store,
    )
    engine.start()
    times = os.times()
    print(f"ready {times.user + times.system:.4f}", flush=True)
    engine.run_forever()


if __name__ == "__main__":
    main()
