"""loop: the reordering of webhook updates, the ``source=`` queue, ``Webhook.feed``."""

from __future__ import annotations

import json
import queue
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.compat.telepot.loop import OrderedWebhook, Webhook
from actorbot.testing import FakeBotApi
from tests.helpers import eventually

TOKEN = "123456:TEST-token"


def update(update_id: int, chat: int = 1, text: str | None = None) -> dict[str, Any]:
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": 0, "text": text or f"u{update_id}",
                        "chat": {"id": chat, "type": "private"}}}


@pytest.mark.parametrize("ordered", [True, False])
def test_source_queue_feeds_the_bot_json_bytes_and_dicts(
    telegram: FakeBotApi, ordered: bool
) -> None:
    seen: list[str] = []
    source: queue.Queue[Any] = queue.Queue()
    bot = telepot.Bot(TOKEN)
    bot.message_loop(lambda msg: seen.append(msg["text"]), source=source, ordered=ordered)
    try:
        source.put(json.dumps(update(1)))
        source.put(json.dumps(update(2)).encode())
        source.put("not json")  # logged and skipped
        source.put(update(3))
        eventually(lambda: len(seen) == 3, 10, "three messages")
    finally:
        assert bot.stop()
    assert seen == ["u1", "u2", "u3"]
    assert telegram.calls_to("getUpdates") == []  # the queue replaces polling


@pytest.mark.parametrize("cls", [Webhook, OrderedWebhook])
def test_webhooks_feed_the_engine(telegram: FakeBotApi, cls: type[Webhook]) -> None:
    seen: list[str] = []
    bot = telepot.Bot(TOKEN)
    webhook = cls(bot, {"chat": lambda msg: seen.append(msg["text"])})
    webhook.feed(update(1))  # before the loop runs: kept until it starts, as telepot queued
    webhook.run_as_thread()
    try:
        for n in (3, 2) if cls is OrderedWebhook else (2, 3):
            webhook.feed(json.dumps(update(n)))
        eventually(lambda: len(seen) == 3, 10, "three messages")
    finally:
        assert bot.stop()
    assert seen == ["u1", "u2", "u3"]


def test_only_one_loop_at_a_time(telegram: FakeBotApi) -> None:
    bot = telepot.Bot(TOKEN)
    bot.message_loop(lambda msg: None)
    try:
        with pytest.raises(RuntimeError, match="already running"):
            bot.message_loop(lambda msg: None)
        with pytest.raises(ValueError, match="Invalid source"):
            telepot.Bot(TOKEN).message_loop(source=[])
    finally:
        assert bot.stop()


def test_message_loop_run_forever_blocks_until_the_bot_stops(telegram: FakeBotApi) -> None:
    import threading

    bot = telepot.Bot(TOKEN)
    runner = threading.Thread(target=bot.message_loop, name="telepot-test-runner", kwargs={
        "callback": lambda msg: bot.sendMessage(msg["chat"]["id"], "pong"),
        "run_forever": True})
    runner.start()
    try:
        telegram.inject_message(1, "ping")
        assert telegram.wait_for(lambda: telegram.sent_texts(1) == ["pong"], 10)
        assert runner.is_alive()
    finally:
        assert bot.stop()
        runner.join(10)
    assert not runner.is_alive()
