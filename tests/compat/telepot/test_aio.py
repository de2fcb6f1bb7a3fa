"""``actorbot.compat.telepot.aio`` beyond the reference's programs: the feed's rendezvous,
calls outside and inside the loop, the ways to stop, webhook queues, the Answerer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.compat.telepot import aio
from actorbot.compat.telepot.aio._listen import AioFeed, Listener, Outcome
from actorbot.compat.telepot.aio.delegate import create_open, per_chat_id
from actorbot.compat.telepot.aio.loop import MessageLoop
from actorbot.compat.telepot.exception import BotWasBlockedError, StopListening, WaitTooLong
from actorbot.errors import StateError
from actorbot.testing import FakeBotApi

TOKEN = "123456:TEST-token"


async def until(predicate: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Wait on the loop for ``predicate`` with a deadline (the fake records from threads)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.002)


async def running(bot: aio.Bot) -> None:
    await until(lambda: bot.running, "the message loop")


# -- the rendezvous ------------------------------------------------------------------------


def test_feed_hands_a_message_over_only_to_a_waiting_delegate() -> None:
    async def main() -> None:
        feed = AioFeed()
        got: list[Any] = []

        async def delegate() -> None:
            try:
                while True:
                    got.append(await feed.get())
            finally:
                feed.exited()

        task = asyncio.create_task(delegate())
        await feed.settle()
        assert await feed.offer("a") is Outcome.TAKEN
        assert await feed.offer("b") is Outcome.TAKEN
        assert got == ["a", "b"]
        feed.close()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 5)
        assert isinstance(task.exception(), StopListening)
        assert await feed.offer("c") is Outcome.CLOSED

    asyncio.run(main())


def test_feed_a_delegate_that_times_out_as_a_message_comes_does_not_swallow_it() -> None:
    async def main() -> None:
        feed = AioFeed()

        async def delegate() -> None:
            try:
                await feed.get(timeout=0)  # times out at once
            except Exception:  # noqa: BLE001 - queue.Empty: the delegate ends
                pass
            finally:
                feed.exited()

        task = asyncio.create_task(delegate())
        assert await feed.offer("late") is Outcome.EXITED  # the actor starts a new delegate
        await task

    asyncio.run(main())


def test_listener_wait_times_out_with_wait_too_long_and_skips_what_it_does_not_capture() -> None:
    async def main() -> None:
        bot = aio.SpeakerBot(TOKEN)
        listener = bot.create_listener()
        assert isinstance(listener, Listener)
        listener.capture(chat__id=1)
        listener.set_options(timeout=0.01)
        bot.mic.send({"chat": {"id": 2}, "text": "no"})
        bot.mic.send({"chat": {"id": 1}, "text": "yes"})
        assert (await listener.wait())["text"] == "yes"
        with pytest.raises(WaitTooLong):
            await listener.wait()
        bot.client.close()

    asyncio.run(main())


# -- calls ---------------------------------------------------------------------------------


def test_methods_are_coroutines_outside_the_loop_with_telepots_errors(telegram: FakeBotApi) -> None:
    async def main() -> None:
        bot = aio.Bot(TOKEN)
        me = await bot.getMe()
        assert me["id"] == 123456
        telegram.inject_message(1, "hi")
        sent = await bot.sendMessage(1, "hello", reply_to_message_id=None)
        assert sent["text"] == "hello"
        updates = await bot.getUpdates(timeout=0)
        assert [u["message"]["text"] for u in updates] == ["hi"]
        telegram.block_bot(1)
        with pytest.raises(BotWasBlockedError):
            await bot.sendMessage(1, "again")
        bot.client.close()

    asyncio.run(main())
    assert [c.params["text"] for c in telegram.calls_to("sendMessage")] == ["hello", "again"]


def test_calls_in_the_loop_go_through_the_engines_sender_in_order(telegram: FakeBotApi) -> None:
    async def handle(msg: dict[str, Any]) -> None:
        for i in range(3):
            await bot.sendMessage(msg["chat"]["id"], f"{msg['text']}{i}")

    bot = aio.Bot(TOKEN)

    async def main() -> None:
        task = asyncio.create_task(bot.messageLoop(handle))
        await running(bot)
        for chat in (1, 2):
            for text in ("a", "b"):
                telegram.inject_message(chat, text)
        await until(lambda: len(telegram.calls_to("sendMessage")) == 12, "the answers")
        engine = bot.engine
        assert engine is not None
        assert engine.stats()["sender_calls"] == 12
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    for chat in (1, 2):
        assert telegram.sent_texts(chat) == ["a0", "a1", "a2", "b0", "b1", "b2"]


# -- stopping ------------------------------------------------------------------------------


def test_cancelling_the_message_loop_stops_the_bot_gracefully(telegram: FakeBotApi) -> None:
    done: list[str] = []
    gate: list[asyncio.Event] = []

    async def handle(msg: dict[str, Any]) -> None:
        gate.append(asyncio.Event())
        await bot.sendMessage(msg["chat"]["id"], "working")
        done.append(msg["text"])

    bot = aio.Bot(TOKEN)

    async def main() -> None:
        task = asyncio.create_task(bot.messageLoop(handle))
        await running(bot)
        with pytest.raises(StateError, match="stop_async"):
            bot.stop()  # on the loop it would block it
        telegram.inject_message(1, "m")
        await until(lambda: done == ["m"], "the handler")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert bot.engine is not None
        assert bot.engine.status == "stopped"

    asyncio.run(main())
    assert telegram.sent_texts(1) == ["working"]


def test_bot_stop_from_another_thread_ends_message_loop(telegram: FakeBotApi) -> None:
    bot = aio.Bot(TOKEN)
    results: list[bool] = []

    async def main() -> None:
        task = asyncio.create_task(bot.messageLoop(lambda msg: None))
        await running(bot)
        stopper = threading.Thread(target=lambda: results.append(bot.stop()))
        stopper.start()
        await asyncio.wait_for(task, 10)  # returns, not cancelled
        await asyncio.to_thread(stopper.join, 10)

    asyncio.run(main())
    assert results == [True]


# -- webhook queues, handle(), MessageLoop -------------------------------------------------


def test_source_queue_is_reordered_and_drained_before_the_stop(telegram: FakeBotApi) -> None:
    got: list[int] = []

    def handle(msg: dict[str, Any]) -> None:
        got.append(msg["message_id"])

    bot = aio.Bot(TOKEN)

    def update(uid: int) -> dict[str, Any]:
        return {"update_id": uid, "message": {"message_id": uid, "date": 0, "text": "x",
                                              "chat": {"id": 1, "type": "private"}}}

    async def main() -> None:
        source: asyncio.Queue[Any] = asyncio.Queue()
        task = asyncio.create_task(bot.messageLoop(handle, source))
        await running(bot)
        source.put_nowait(update(100))
        source.put_nowait(json.dumps(update(102)))  # JSON text: 101 is missing yet
        source.put_nowait(json.dumps(update(101)).encode())  # bytes
        source.put_nowait(update(103))
        assert await bot.stop_async()  # what the queue held is handled first
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert got == [100, 101, 102, 103]
    assert telegram.calls_to("getUpdates") == []  # a source, not polling


def test_delegator_handle_feeds_the_running_loop_and_refuses_otherwise(
    telegram: FakeBotApi,
) -> None:
    class Echo(telepot.helper.ChatHandler):
        async def on_chat_message(self, msg: dict[str, Any]) -> None:
            await self.sender.sendMessage(msg["text"])

    bot = aio.DelegatorBot(TOKEN, [(per_chat_id(), create_open(Echo, timeout=10))])
    msg = {"message_id": 1, "date": 0, "text": "by hand", "chat": {"id": 3, "type": "private"}}

    async def main() -> None:
        with pytest.raises(StateError):
            bot.handle(msg)
        source: asyncio.Queue[Any] = asyncio.Queue()
        task = asyncio.create_task(bot.messageLoop(source=source))
        await running(bot)
        bot.handle(msg)
        await until(lambda: telegram.sent_texts(3) == ["by hand"], "the echo")
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())


def test_message_loop_run_forever_is_12_7s_spelling(telegram: FakeBotApi) -> None:
    class Bot(aio.Bot):
        async def on_chat_message(self, msg: dict[str, Any]) -> None:
            await self.sendMessage(msg["chat"]["id"], "12.7")

    bot = Bot(TOKEN)

    async def main() -> None:
        task = asyncio.create_task(MessageLoop(bot).run_forever())
        await running(bot)
        telegram.inject_message(4, "hi")
        await until(lambda: telegram.sent_texts(4) == ["12.7"], "the answer")
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)
        assert bot.loop is asyncio.get_running_loop()

    asyncio.run(main())


# -- delegates -----------------------------------------------------------------------------


def test_no_message_is_lost_when_delegates_time_out_as_messages_come(
    telegram: FakeBotApi,
) -> None:
    class Counter(telepot.helper.ChatHandler):
        def __init__(self, seed_tuple: Any, timeout: float) -> None:
            super().__init__(seed_tuple, timeout)
            self._count = 0

        async def on_message(self, msg: dict[str, Any]) -> None:
            self._count += 1
            await self.sender.sendMessage(self._count)

    bot = aio.DelegatorBot(TOKEN, [(per_chat_id(), create_open(Counter, timeout=0.01))])

    async def main() -> None:
        task = asyncio.create_task(bot.messageLoop())
        await running(bot)
        for i in range(30):
            telegram.inject_message(1, str(i))
            if i % 3 == 0:
                await asyncio.sleep(0.01)  # let some delegates time out in between
        await until(lambda: len(telegram.sent_texts(1)) == 30, "an answer to every message")
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    counts = [int(t) for t in telegram.sent_texts(1)]
    assert len(counts) == 30  # one answer per message: none lost, none doubled
    assert all(c in (1, prev + 1) for prev, c in zip([0, *counts], counts, strict=False))


def test_answerer_plain_function_and_answer_formats(telegram: FakeBotApi) -> None:
    answers: dict[str, Any] = {
        "list": [{"type": "article", "id": "1", "title": "t", "message_text": "m"}],
        "tuple": ([{"type": "article", "id": "2", "title": "t", "message_text": "m"}], 60),
        "dict": {"results": [], "cache_time": 5},
    }
    bot = aio.Bot(TOKEN)
    answerer = aio.helper.Answerer(bot, lambda q: answers[q["query"]])

    async def main() -> None:
        task = asyncio.create_task(bot.messageLoop({"inline_query": answerer.answer}))
        await running(bot)
        for query in answers:
            telegram.inject_inline_query(7 + len(query), query)
        await until(lambda: len(telegram.calls_to("answerInlineQuery")) == 3, "the answers")
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    calls = sorted((c.params.get("cache_time", 0), [r["id"] for r in c.params["results"]])
                   for c in telegram.calls_to("answerInlineQuery"))
    assert calls == [(0, ["1"]), (5, []), (60, ["2"])]


# -- the threaded flavour ------------------------------------------------------------------


def test_threaded_listener_made_after_the_loop_started_hears_messages(
    telegram: FakeBotApi,
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(lambda msg: None, None)])
    bot.message_loop()
    try:
        listener = bot.create_listener()  # the mic had no listener when the loop started
        listener.capture(chat__id=5)
        listener.set_options(timeout=10)
        telegram.inject_message(5, "x")
        assert listener.wait()["text"] == "x"
    finally:
        assert bot.stop()


def test_countera_example_counts_per_chat_and_starts_over_after_the_timeout() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "telepot_countera.py"
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "chat 1001: bot answered ['1', '2', '3', '1']" in out
    assert "chat 1002: bot answered ['1']" in out
    assert "idle for 0.3 s: 2 delegates closed" in out
    assert "stopped cleanly: True" in out
    assert "TEST-token" not in out + result.stderr
