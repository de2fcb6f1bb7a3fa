"""telepot 6.3's asyncio reference examples (``reference_6_3_async``), run over the fake
Telegram through ``actorbot.compat.telepot.aio``.

Each program runs as 6.3 wrote it: ``loop.create_task(bot.messageLoop(...))`` then
``loop.run_forever()``, on a thread of its own (as ``python program.py TOKEN`` would).
The test stops it as Ctrl-C would end it gracefully: ``bot.stop()`` from the test's
thread (``messageLoop()`` returns), then ``loop.stop()``. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actorbot.testing import FakeBotApi
from tests.compat.telepot import reference_6_3_async as ref
from tests.compat.telepot.test_reference_6_3 import TOKEN, Program, sent
from tests.helpers import eventually


class AsyncProgram(Program):
    """A 6.3 asyncio program on a thread with its own event loop (as the main thread has)."""

    def __init__(self, source: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
        self.loop = asyncio.new_event_loop()
        super().__init__(source, monkeypatch, *argv)

    def _run(self, source: str) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            super()._run(source)  # returns once the loop is stopped
        finally:  # what asyncio.run() does at the end
            loop = self.loop
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_default_executor())
            asyncio.set_event_loop(None)
            loop.close()

    @property
    def bot(self) -> Any:
        """The program's bot, once its message loop has started."""
        eventually(lambda: getattr(self.namespace.get("bot"), "running", False), 10,
                   "the program's message loop")
        return self.namespace["bot"]

    def call(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the program's loop."""
        self.loop.call_soon_threadsafe(fn, *args)

    def bot_stopped(self) -> None:
        """``messageLoop()`` has returned: stop ``loop.run_forever()``."""
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_async_skeleton_with_a_handle_coroutine_method(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.SKELETON_CLASS, monkeypatch)
    try:
        assert program.output(1) == ["Listening ..."]
        program.bot  # noqa: B018 - the message loop runs
        telegram.inject_message(5, "hi")
        telegram.inject_message(5, None, photo=[{"file_id": "p", "file_unique_id": "u",
                                                 "width": 1, "height": 1}])
        out = program.output(3)
    finally:
        program.stop()
    assert out == ["Listening ...", "text private 5", "photo private 5"]  # in order
    assert program.namespace["bot"].engine.status == "stopped"


def test_async_skeleton_with_a_global_coroutine_handler(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.SKELETON_FUNCTION, monkeypatch)
    try:
        telegram.inject_message(-40, "hey", chat_type="group", user_id=7)
        telegram.inject_message(-40, None, chat_type="group", user_id=7,
                                new_chat_participant={"id": 9, "is_bot": False,
                                                      "first_name": "new"})
        telegram.inject_inline_query(7, "cats")
        out = program.output(4)
    finally:
        program.stop()
    assert out[0] == "Listening ..."
    # one chat's messages in order; the inline query (no chat) is handled concurrently
    assert [line for line in out[1:] if "group" in line] == [
        "text group -40", "new_chat_participant group -40"]
    assert len(out) == 4


def test_async_delegator_counter_counts_per_chat_in_order(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.COUNTER, monkeypatch)
    try:
        for text in ("a", "b", "c"):
            telegram.inject_message(1, text)
            telegram.inject_message(-40, text, chat_type="group", user_id=7)
        telegram.inject_message(2, "x")
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 7, 10)
        engine = program.bot.engine
    finally:
        program.stop()
    assert telegram.sent_texts(1) == ["1", "2", "3"]
    assert telegram.sent_texts(-40) == ["1", "2", "3"]
    assert telegram.sent_texts(2) == ["1"]
    assert [p["chat_id"] for _m, p in sent(telegram, "sendMessage") if p["chat_id"] == 1] == [1] * 3
    stats = engine.stats()
    assert stats["spawned"] >= 3  # a delegate per chat (and the microphone)
    assert stats["handlers_alive"] == 0  # all closed by the stop


def test_delegate_call_and_create_run_match_the_reference_source(
    telegram: FakeBotApi,
) -> None:
    """The reference's own ``call``/``create_run`` and ours make the same delegates."""
    from actorbot.compat import telepot
    from actorbot.compat.telepot import aio
    from actorbot.compat.telepot.aio.delegate import call, create_run
    from actorbot.compat.telepot.delegate import per_chat_id

    theirs: dict[str, Any] = {}
    exec(ref.CALL_SOURCE, theirs)
    exec(ref.CREATE_RUN_SOURCE, theirs)

    async def echo(seed_tuple: Any, prefix: str) -> None:
        bot, msg, _seed = seed_tuple
        listener = bot.create_listener()
        listener.capture(chat__id=msg["chat"]["id"])
        while True:
            await bot.sendMessage(msg["chat"]["id"], f"{prefix}{msg['text']}")
            msg = await listener.wait()

    class Echo:
        def __init__(self, seed_tuple: Any, prefix: str) -> None:
            self.seed_tuple = seed_tuple
            self.prefix = prefix

        async def run(self) -> None:
            await echo(self.seed_tuple, self.prefix)

    patterns = [
        (per_chat_id([ "private"]), theirs["call"](echo, "call:")),
        (per_chat_id(["group"]), theirs["create_run"](Echo, "run:")),
        (per_chat_id(["supergroup"]), call(echo, "call:")),
        (per_chat_id(["channel"]), create_run(Echo, "run:")),
    ]

    async def main() -> None:
        bot = aio.DelegatorBot(TOKEN, patterns)
        task = asyncio.create_task(bot.messageLoop())
        for chat, kind in ((1, "private"), (-2, "group"), (-3, "supergroup")):
            for text in ("a", "b"):
                telegram.inject_message(chat, text, chat_type=kind, user_id=7)
        await asyncio.to_thread(
            telegram.wait_for, lambda: len(telegram.calls_to("sendMessage")) == 6, 10)
        assert await bot.stop_async()
        await asyncio.wait_for(task, 10)  # messageLoop() returns once the bot is stopped

    asyncio.run(main())
    assert telegram.sent_texts(1) == ["call:a", "call:b"]
    assert telegram.sent_texts(-2) == ["run:a", "run:b"]
    assert telegram.sent_texts(-3) == ["call:a", "call:b"]
    assert telepot.flavor({"message_id": 1, "chat": {"id": 1}}) == "normal"


def test_guess_game_closes_itself_and_times_out(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.GUESS, monkeypatch, "42", "0.3")
    try:
        for text in ("hi", "ten", "10", "50", "42"):
            telegram.inject_message(1, text)
        assert telegram.wait_for(lambda: "Correct!" in telegram.sent_texts(1), 10)
        telegram.inject_message(1, "again")  # a new game: a new delegate
        telegram.inject_message(2, "hello")  # a game nobody plays: it expires
        assert telegram.wait_for(lambda: len(telegram.sent_texts(2)) == 2, 10)
        assert telegram.wait_for(lambda: len(telegram.sent_texts(1)) == 7, 10)
    finally:
        program.stop()
    assert telegram.sent_texts(1) == [
        "Guess my number", "Give me a number, please.", "larger", "smaller", "Correct!",
        "Guess my number", "Game expired. The answer is 42"]
    assert telegram.sent_texts(2) == ["Guess my number", "Game expired. The answer is 42"]


def test_speaker_bot_listener_waits_for_the_next_message(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.LISTENER, monkeypatch, "5")
    try:
        program.bot  # noqa: B018 - the message loop runs
        telegram.inject_message(6, "not for the listener")
        telegram.inject_message(5, "hello")
        assert telegram.wait_for(lambda: telegram.sent_texts(5) == ["What is your name?"], 10)
        telegram.inject_message(5, "Ann")
        assert telegram.wait_for(lambda: len(telegram.sent_texts(5)) == 2, 10)
    finally:
        program.stop()
    assert telegram.sent_texts(5) == ["What is your name?", "Hello, Ann"]
    assert telegram.sent_texts(6) == []


def test_answerer_cancels_an_older_query_of_the_same_user_at_once(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = AsyncProgram(ref.INLINE, monkeypatch)
    gates = program.namespace
    try:
        program.bot  # noqa: B018 - the message loop runs
        old = telegram.inject_inline_query(7, "slow")["inline_query"]["id"]
        eventually(lambda: "slow" in gates.get("gates", {}), 10, "the first computation")
        new = telegram.inject_inline_query(7, "fast")["inline_query"]["id"]
        other = telegram.inject_inline_query(8, "other")["inline_query"]["id"]
        eventually(lambda: {"fast", "other"} <= set(gates["gates"]), 10, "the computations")
        program.call(gates["gates"]["slow"].set)  # too late: it was cancelled
        program.call(gates["gates"]["fast"].set)
        program.call(gates["gates"]["other"].set)
        assert telegram.wait_for(lambda: len(telegram.calls_to("answerInlineQuery")) == 2, 10)
    finally:
        program.stop()
    answered = {c.params["inline_query_id"]: c.params["results"][0]["title"]
                for c in telegram.calls_to("answerInlineQuery")}
    assert answered == {new: "fast", other: "other"}
    assert old not in answered
    assert program.output(4)[0] == "Listening ..."
    assert sorted(program.printed[1:]) == [
        "Computing for: fast", "Computing for: other", "Computing for: slow"]
