"""How telepot delegates run on the engine: the idle-timeout race, order, stopping."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import call, create_open, per_chat_id
from actorbot.engine import Hooks
from actorbot.testing import FakeBotApi
from tests.helpers import eventually


class Echo(telepot.helper.ChatHandler):
    """Answers ``count:text``; the count restarts with every new delegate."""

    def __init__(self, seed_tuple: Any, timeout: float) -> None:
        super().__init__(seed_tuple, timeout)
        self._count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self._count += 1
        self.sender.sendMessage(f"{self._count}:{msg['text']}")


def echo_until_quiet(seed_tuple: Any, timeout: float) -> None:
    """A function delegate: answers until its listener times out, then returns."""
    bot, msg, chat_id = seed_tuple
    listener = bot.create_listener()
    listener.capture(chat__id=chat_id)
    listener.set_options(timeout=timeout)
    count = 0
    while True:
        count += 1
        bot.sendMessage(chat_id, f"{count}:{msg['text']}")
        try:
            msg = listener.wait()
        except telepot.exception.WaitTooLong:
            return


@pytest.mark.parametrize("kind", ["create_open", "call"])
def test_idle_timeout_race_loses_nothing_and_keeps_per_chat_order(
    telegram: FakeBotApi, kind: str
) -> None:
    timeout = 0.004
    delegator = (create_open(Echo, timeout=timeout) if kind == "create_open"
                 else call(echo_until_quiet, timeout))
    bot = telepot.DelegatorBot("123456:TEST-token", [(per_chat_id(), delegator)])
    bot.message_loop()
    rng = random.Random(11)
    expected: defaultdict[int, list[str]] = defaultdict(list)
    try:
        for i in range(12):
            for chat in rng.sample(range(1, 25), 16):
                telegram.inject_message(chat, f"m{i}")
                expected[chat].append(f"m{i}")
            time.sleep(rng.uniform(0, 2 * timeout))  # around the timeout, on purpose
        total = sum(map(len, expected.values()))
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) >= total, 60)
        loop = bot.loop
        assert loop is not None
        eventually(lambda: loop.engine.stats()["handlers_alive"] == 0, 30, "all idle")
        stats = loop.engine.stats()
    finally:
        assert bot.stop()
    assert len(telegram.calls_to("sendMessage")) == total
    for chat, sent in expected.items():
        got = telegram.sent_texts(chat)
        assert [t.split(":")[1] for t in got] == sent  # each once, in order
        counts = [int(t.split(":")[0]) for t in got]
        assert all(c == 1 or c == prev + 1 for prev, c in zip([0, *counts], counts,
                                                               strict=False))
    assert stats["spawned"] > len(expected)  # delegates did time out between messages
    assert stats["failed"] == 0


def test_idle_close_is_not_logged_as_an_error(telegram: FakeBotApi) -> None:
    import structlog

    bot = telepot.DelegatorBot("123456:TEST-token",
                               [(per_chat_id(), create_open(Echo, timeout=0.05))])
    with structlog.testing.capture_logs() as logs:
        bot.message_loop()
        try:
            telegram.inject_message(1, "hi")
            assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 1, 10)
            loop = bot.loop
            assert loop is not None
            eventually(lambda: loop.engine.stats()["closed"] == 1, 10, "the idle close")
        finally:
            assert bot.stop()
    assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
    closed = [e for e in logs if e["event"] == "telepot.delegate_closed"]
    assert [e["reason"] for e in closed] == ["IdleTerminate"]


class Failing(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple: Any) -> None:
        super().__init__(seed_tuple, 10)
        self.closed_with: list[BaseException] = []

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        if msg["text"] == "boom":
            raise ValueError("boom")
        self.sender.sendMessage(f"ok {msg['text']}")

    def on_close(self, ex: BaseException) -> None:
        self.sender.sendMessage(f"closed: {type(ex).__name__}")


def test_a_failing_delegate_is_logged_closed_and_the_next_message_gets_a_new_one(
    telegram: FakeBotApi,
) -> None:
    import structlog

    bot = telepot.DelegatorBot("123456:TEST-token", [(per_chat_id(), create_open(Failing))])
    with structlog.testing.capture_logs() as logs:
        bot.message_loop()
        try:
            for text in ("a", "boom", "b"):
                telegram.inject_message(1, text)
            assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 3, 10)
        finally:
            assert bot.stop()
    assert telegram.sent_texts(1) == ["ok a", "closed: ValueError", "ok b",
                                      "closed: StopListening"]
    failures = [e for e in logs if e["event"] == "telepot.delegate_failed"]
    assert [(e["stage"], e["error"]) for e in failures] == [("on_message", "ValueError: boom")]


def test_stop_closes_waiting_delegates_and_joins_every_thread(telegram: FakeBotApi) -> None:
    entered = threading.Event()

    def waits_forever(seed_tuple: Any) -> None:
        bot, _msg, chat_id = seed_tuple
        listener = bot.create_listener()
        listener.capture(chat__id=chat_id)
        entered.set()
        listener.wait()  # StopListening when the bot stops

    bot = telepot.DelegatorBot("123456:TEST-token", [(per_chat_id(), call(waits_forever))])
    bot.message_loop()
    telegram.inject_message(1, "hi")
    assert entered.wait(10)
    assert bot.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("telepot-")]


def test_plain_bot_callback_sees_messages_in_order_and_survives_an_exception(
    telegram: FakeBotApi,
) -> None:
    seen: list[str] = []

    def handle(msg: dict[str, Any]) -> None:
        _content_type, _chat_type, chat_id = telepot.glance(msg)
        if msg["text"] == "bad":
            raise KeyError("bad")
        seen.append(msg["text"])
        bot.sendMessage(chat_id, msg["text"].upper())

    bot = telepot.Bot("123456:TEST-token")
    bot.message_loop(handle)
    try:
        for i in range(20):
            telegram.inject_message(1 + i % 3, "bad" if i == 5 else f"m{i}")
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 19, 10)
    finally:
        assert bot.stop()
    assert seen == [f"m{i}" for i in range(20) if i != 5]


def test_bot_subclass_handle_routes_by_flavor(telegram: FakeBotApi) -> None:
    got: list[tuple[str, Any]] = []

    class MyBot(telepot.Bot):
        def on_chat_message(self, msg: dict[str, Any]) -> None:
            got.append(("chat", msg["text"]))

        def on_callback_query(self, msg: dict[str, Any]) -> None:
            got.append(("callback_query", msg["data"]))

    bot = MyBot("123456:TEST-token")
    bot.message_loop()
    try:
        telegram.inject_message(1, "hi")
        telegram.inject_callback_query(1, 1, "press", message_id=1)
        eventually(lambda: len(got) == 2, 10, "both messages")
    finally:
        assert bot.stop()
    assert got == [("chat", "hi"), ("callback_query", "press")]


SCRIPT = """
import sys, threading, time
from actorbot.sending import RateLimits, Sending
from actorbot.compat import telepot
from actorbot.testing import FakeBotApi

fake = FakeBotApi().start()
telepot.api.configure(base_url=fake.base_url, poll_timeout=1,
                      sending=Sending(limits=RateLimits.unlimited()), stats_interval=None)
bot = telepot.Bot(fake.token)
bot.message_loop(lambda msg: bot.sendMessage(msg["chat"]["id"], "pong"))

def stop_fake_after_the_bot():
    threading.main_thread().join()
    while bot.loop.engine.status != "stopped":
        time.sleep(0.01)
    sys.stdout.write(f"bot stopped; offset confirmed: {fake.pending_update_count == 0}\\n")
    sys.stdout.flush()
    fake.stop()

threading.Thread(target=stop_fake_after_the_bot).start()
fake.inject_message(1, "ping")
fake.wait_for(lambda: fake.sent_texts(1) == ["pong"], 10)
sys.stdout.write("main thread ends\\n")
sys.stdout.flush()
"""


def test_run_as_thread_stops_gracefully_when_the_main_thread_ends() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    # The engine may still write its last log line as the watcher writes (the status is
    # "stopped" just before "engine.stopped" is logged), so the two can share a line.
    out = result.stdout
    assert out.index("main thread ends\n") < out.index("bot stopped; offset confirmed: True")
    assert "engine.stopped" in result.stdout  # structlog's default output, by the watcher


def test_stop_joins_an_answerer_still_computing(telegram: FakeBotApi) -> None:
    started, release = threading.Event(), threading.Event()

    def compute() -> list[Any]:
        started.set()
        release.wait(10)  # until the engine has stopped: the answer is still to come
        return []

    def on_status(status: str) -> None:
        if status == "stopped":
            release.set()

    bot = telepot.Bot("123456:TEST-token", hooks=Hooks(on_status=on_status))
    answerer = telepot.helper.Answerer(bot)  # made before the loop, as telepot's example
    bot.message_loop({"inline_query": lambda msg: answerer.answer(msg, compute)})
    try:
        query = telegram.inject_inline_query(5, "q")["inline_query"]["id"]
        assert started.wait(10)
    finally:
        assert bot.stop()
    # stop() returned: the computation under way has been answered, its thread is gone
    assert [c.params["inline_query_id"] for c in telegram.calls_to("answerInlineQuery")] == [
        query]
    assert not [t for t in threading.enumerate() if t.name == "telepot-answerer"]


@pytest.mark.parametrize("with_source", [False, True])
def test_stopping_the_engine_itself_ends_the_loops_threads(
    telegram: FakeBotApi, with_source: bool
) -> None:
    import queue

    bot = telepot.Bot("123456:TEST-token")
    source: queue.Queue[Any] | None = queue.Queue() if with_source else None
    bot.message_loop(lambda msg: None, source=source)
    loop = bot.loop
    assert loop is not None
    assert [t for t in threading.enumerate() if t.name.startswith("telepot-")]
    assert loop.engine.stop()  # not bot.stop(): the watcher and the source thread notice
    eventually(lambda: not [t for t in threading.enumerate() if t.name.startswith("telepot-")],
               10, "the loop's threads to end")
    assert bot.stop()


def test_a_second_stop_returns_only_once_the_first_is_done(telegram: FakeBotApi) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_goodbye(seed_tuple: Any) -> None:
        bot, _msg, chat_id = seed_tuple
        listener = bot.create_listener()
        listener.capture(chat__id=chat_id)
        entered.set()
        try:
            listener.wait()
        except telepot.exception.StopListening:
            release.wait(10)  # the first stop() is under way meanwhile
            bot.sendMessage(chat_id, "bye")

    bot = telepot.DelegatorBot("123456:TEST-token", [(per_chat_id(), call(slow_goodbye))])
    bot.message_loop()
    telegram.inject_message(1, "hi")
    assert entered.wait(10)
    first = threading.Thread(target=bot.stop, name="telepot-test-first-stop")
    first.start()
    loop = bot.loop
    assert loop is not None
    eventually(lambda: loop.engine.status == "stopping", 10, "the first stop to begin")
    release.set()
    assert bot.stop()  # the second: returns once the loop has stopped, not at once
    assert loop.engine.status == "stopped"
    assert telegram.sent_texts(1) == ["bye"]
    first.join(10)
