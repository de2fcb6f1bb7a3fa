"""The counter with declared state: it survives passivation, crashes and restarts.

examples/counter.py keeps its count in an attribute, so after the idle timeout the next
message starts over at 1. Here the count is ``State``: the engine loads it when the
handler first reads it and saves it with each update, in the journal's own SQLite file,
so an update replayed after a crash never counts twice.

    TELEGRAM_BOT_TOKEN=... python examples/state_counter.py   # a real bot (bot.sqlite)
    python examples/state_counter.py                          # a demo on the fake Telegram
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _run import run  # examples/_run.py: token -> real bot, else the demo

from actorbot import ChatHandler, Engine, Polling, Route, per_chat_id
from actorbot.handlers import State
from actorbot.testing import FakeBotApi

IDLE_TIMEOUT = 10.0


@dataclass
class Count:
    n: int = 0


class StateCounter(ChatHandler):
    state = State(Count)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.state.n += 1
        self.sender.send_message(str(self.state.n))


def build(token: str, db: str = "bot.sqlite", idle_timeout: float = IDLE_TIMEOUT,
          **options: Any) -> Engine:
    route = Route(per_chat_id(), StateCounter, idle_timeout=idle_timeout)
    return Engine(token, [route], journal=db, state=db, **options)  # one file: exactly once


def demo() -> None:
    """A chat talks, falls silent past a short idle timeout, and the bot restarts."""
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as telegram:
        db = str(Path(tmp) / "bot.sqlite")
        for run_number in (1, 2):
            talk(telegram, db, run_number)
        print(f"chat 1001: bot answered {telegram.sent_texts(1001)}")


def talk(telegram: FakeBotApi, db: str, run_number: int) -> None:
    """One run of the bot: three messages, then silence until the handler passivates."""
    engine = build(telegram.token, db, idle_timeout=0.3, connection=telegram.connection,
                   intake=Polling(timeout=1))
    with engine:
        for text in ("hi", "how", "are you"):
            telegram.inject_message(1001, text)
        telegram.wait_for(lambda: len(telegram.sent_texts(1001)) == 3 * run_number, 10)
        telegram.wait_for(lambda: engine.stats()["handlers_alive"] == 0, 10)
        print(f"run {run_number}: idle for 0.3 s, "
              f"{engine.stats()['passivated']} handler passivated")


def main() -> None:
    run(build, demo)


if __name__ == "__main__":
    main()
