"""A monitor: one handler actor that sees every update and logs what it is (not its text).

Useful next to a bot's real routes for auditing traffic. ``per_application()`` gives every
update the same seed, so a single ``Monitor`` instance receives them all, in order.

    TELEGRAM_BOT_TOKEN=... python examples/monitor.py
    python examples/monitor.py      # a demo: a few kinds of updates on the fake Telegram
"""

from __future__ import annotations

from typing import Any

import structlog
from _run import run  # examples/_run.py: token -> real bot, else the demo

from actorbot import Engine, Monitor, Polling, Route
from actorbot.seeds import per_application
from actorbot.testing import FakeBotApi
from actorbot.updates import glance

log = structlog.get_logger("examples.monitor")


class UpdateLogger(Monitor):
    def on_message(self, update: Any) -> None:
        seen = glance(update)
        log.info("update", update_id=update.get("update_id"), type=seen.update_type,
                 content=seen.content_type, chat=seen.chat_id, user=seen.user_id)


def build(token: str, **options: Any) -> Engine:
    return Engine(token, [Route(per_application(), UpdateLogger, idle_timeout=None)], **options)


def demo() -> None:
    with FakeBotApi() as telegram:
        engine = build(telegram.token, connection=telegram.connection, intake=Polling(timeout=1))
        with engine:
            telegram.inject_message(1001, "hello")
            telegram.inject_command(-4001, "/help", user_id=1002)
            telegram.inject_callback_query(1001, 1001, "button-1", message_id=1)
            telegram.inject_inline_query(1003, "cats")
            telegram.inject_update({"brand_new_update_kind": {"id": 1}})
            telegram.wait_for(lambda: engine.stats()["handled"] == 5, 10)
        print(f"logged {engine.stats()['handled']} updates with one monitor")


def main() -> None:
    run(build, demo)


if __name__ == "__main__":
    main()
