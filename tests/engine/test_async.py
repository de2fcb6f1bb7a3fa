"""Handlers with ``async def`` hooks, over the fake Bot API: the same guarantees as plain ones.

Per-seed order, one live handler per seed and lossless passivation are checked under load
exactly as for sync handlers (tests/engine/test_engine.py); then what only async hooks
have: awaited calls, the application's own loop, and a stop that cancels what overruns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from typing import Any, ClassVar

import pytest
import structlog.testing
import uvloop

from actorbot import seeds
from actorbot.engine import Handling, Hooks
from actorbot.errors import (
    AsyncHookError,
    BadRequest,
    ConfigError,
    SenderQueueFull,
    StateError,
)
from actorbot.handlers import ChatHandler, command
from actorbot.routing import FailurePolicy, Route
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import LivenessProbe, make_engine, passivation_storm
from tests.helpers import eventually as wait

pytestmark = pytest.mark.usefixtures("no_thread_left")


def texts_of(tg: FakeBotApi, chat: int) -> list[str]:
    return tg.sent_texts(chat)


# -- the three bots of the issue, written with async hooks -------------------------------


class AsyncCounter(ChatHandler):
    async def on_open(self, update: Any) -> None:
        self.count = 0

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        await asyncio.sleep(0.001)
        sent = await self.sender.send_message(str(self.count))
        assert sent["chat"]["id"] == self.chat_id


def test_1000_chats_x_20_with_an_await_in_each_hook_answer_in_order(tg: FakeBotApi) -> None:
    chats, per_chat = 1000, 20
    tg.inject_updates(
        {"message": {"message_id": i, "date": 0, "text": f"m{i}",
                     "chat": {"id": 10_000 + c, "type": "private"},
                     "from": {"id": 10_000 + c, "is_bot": False, "first_name": "u"}}}
        for i in range(per_chat) for c in range(chats))
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncCounter)])
    with engine:
        assert tg.wait_for(lambda: len(tg.calls_to("sendMessage")) >= chats * per_chat, 240)
        stats = engine.stats()
    expected = [str(i) for i in range(1, per_chat + 1)]
    assert [c for c in range(chats) if texts_of(tg, 10_000 + c) != expected] == []
    assert len(tg.calls_to("sendMessage")) == chats * per_chat
    assert (stats["spawned"], stats["failed"], stats["hook_failures"]) == (chats, 0, 0)


class AsyncGuess(ChatHandler):
    """The guessing game, with an awaited reply and an async on_idle goodbye."""

    async def on_open(self, update: Any) -> None:
        self.answer = 37
        await self.sender.send_message("Guess a number from 1 to 100")

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        guess = int(msg["text"])
        if guess == self.answer:
            await self.sender.send_message("Correct!")
            self.close()
        else:
            await self.sender.send_message("larger" if guess < self.answer else "smaller")

    async def on_idle(self) -> bool:
        await self.sender.send_message("Game expired. Bye!")
        return True


def test_the_guessing_game_with_async_hooks_is_won_by_bisection_and_expires(
    tg: FakeBotApi
) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncGuess, idle_timeout=0.2)])
    with engine:
        low, high = 1, 100
        while True:
            guess = (low + high) // 2
            before = len(texts_of(tg, 1))
            tg.inject_message(1, str(guess))
            wanted = before + (2 if before == 0 else 1)  # the first message opens the game
            tg.wait_for(lambda n=wanted: len(texts_of(tg, 1)) >= n, 10)
            last = texts_of(tg, 1)[-1]
            if last == "Correct!":
                break
            low, high = (guess + 1, high) if last == "larger" else (low, guess - 1)
        tg.inject_message(2, "50")
        tg.wait_for(lambda: texts_of(tg, 2)[-1:] == ["Game expired. Bye!"], 10)
        wait(lambda: engine.stats()["handlers_alive"] == 0, 10, "both games to end")
        stats = engine.stats()
    assert "Game expired. Bye!" not in texts_of(tg, 1)  # a won game closes, not expires
    assert texts_of(tg, 2) == ["Guess a number from 1 to 100", "smaller", "Game expired. Bye!"]
    assert (stats["closed"], stats["passivated"]) == (1, 1)


class AsyncCommands(ChatHandler):
    @command("start", "Say hello")
    async def start_command(self, msg: dict[str, Any], args: str) -> None:
        await asyncio.sleep(0)
        await self.sender.send_message(f"hello {args or 'you'}")

    @command("sync", "A plain command beside async ones")
    def sync_command(self, msg: dict[str, Any], args: str) -> None:
        self.sender.send_message("plain")

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        await self.sender.send_message(f"not a command: {msg['text']}")

    async def on_callback_query(self, query: dict[str, Any]) -> None:
        await self.sender.answer_callback_query(query["id"], text=f"pressed {query['data']}")


def test_a_command_bot_with_async_and_plain_commands_and_a_button(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncCommands)])
    with engine:
        tg.inject_command(5, "/start", "bob")
        tg.inject_command(5, "/sync")
        tg.inject_message(5, "hi")
        tg.wait_for(lambda: len(texts_of(tg, 5)) == 3, 10)
        tg.inject_callback_query(5, 5, "b1")
        tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) == 1, 10)
    assert texts_of(tg, 5) == ["hello bob", "plain", "not a command: hi"]
    assert tg.calls_to("answerCallbackQuery")[0].params["text"] == "pressed b1"
    menu = tg.calls_to("setMyCommands")[0].params["commands"]
    assert [c["command"] for c in menu] == ["start", "sync"]


# -- passivation and ordering under stress ---------------------------------------------------


class AsyncProbe(LivenessProbe):
    """The liveness probe with an await in every hook."""

    live: ClassVar[dict[Any, int]] = {}
    violations: ClassVar[list[Any]] = []
    received: ClassVar[defaultdict[Any, list[int]]] = defaultdict(list)
    opens: ClassVar[defaultdict[Any, int]] = defaultdict(int)

    async def on_open(self, update: Any) -> None:  # type: ignore[override]
        super().on_open(update)
        await asyncio.sleep(0)

    async def on_message(self, update: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0 if update["update_id"] % 2 else 0.0005)
        super().on_message(update)

    async def on_close(self, reason: BaseException) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_close(reason)


def test_passivation_race_with_async_hooks_loses_and_reorders_nothing(tg: FakeBotApi) -> None:
    for table in (AsyncProbe.live, AsyncProbe.received, AsyncProbe.opens):
        table.clear()
    AsyncProbe.violations.clear()
    expected, stats = passivation_storm(tg, AsyncProbe, AsyncProbe.received, seed=11,
                                        bursts=60)
    assert AsyncProbe.violations == []
    assert dict(AsyncProbe.received) == expected  # nothing lost, doubled or reordered
    assert stats["passivated"] == sum(AsyncProbe.opens.values())
    assert stats["passivated"] > 100
    assert stats["buffered_total"] > 0
    assert (stats["buffered"], stats["passivating"], stats["coroutines_running"]) == (0, 0, 0)


class Mixed(ChatHandler):
    """Plain and async hooks in one class; events and results reach async hooks too."""

    log: ClassVar[list[tuple[int, str]]] = []

    def on_open(self, update: Any) -> None:
        self.log.append((self.chat_id, "open"))

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.log.append((self.chat_id, f"msg {msg['text']}"))
        self.sender.notify("sent").send_message("ok")  # a plain future, reported back
        self.schedule(0.01, "tick")

    async def on_result(self, result: Any) -> None:
        await asyncio.sleep(0)
        self.log.append((self.chat_id, f"result {result.tag} ok={result.ok}"))

    async def on_event(self, message: Any) -> None:
        self.log.append((self.chat_id, f"event {message}"))


def test_plain_and_async_hooks_mix_in_one_class(tg: FakeBotApi) -> None:
    Mixed.log.clear()
    engine = make_engine(tg, [Route(seeds.per_chat_id(), Mixed)])
    with engine:
        tg.inject_message(3, "a")
        wait(lambda: len(Mixed.log) == 4, 10, "open, message, result and event")
    assert Mixed.log[:2] == [(3, "open"), (3, "msg a")]
    assert sorted(Mixed.log[2:]) == [(3, "event tick"), (3, "result sent ok=True")]


# -- failures --------------------------------------------------------------------------------


class AsyncFragile(ChatHandler):
    handled: ClassVar[list[tuple[int, str]]] = []
    closes: ClassVar[list[str]] = []

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        if msg["text"] == "boom":
            raise ValueError("boom")
        self.handled.append((self.chat_id, msg["text"]))

    async def on_close(self, reason: BaseException) -> None:
        self.closes.append(type(reason).__name__)


def test_an_async_hook_that_raises_follows_the_failure_policy(tg: FakeBotApi) -> None:
    AsyncFragile.handled.clear()
    AsyncFragile.closes.clear()
    for text in ("a", "boom", "b"):
        tg.inject_message(1, text)
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncFragile,
                                    on_failure=FailurePolicy(retries=1))])
    with engine:
        wait(lambda: engine.stats()["dead_letters"] == 1, 20, "the poison update parked")
        wait(lambda: len(AsyncFragile.handled) == 2, 20, "the other updates")
        letters = engine.dead_letters()
        stats = engine.stats()
    assert AsyncFragile.handled == [(1, "a"), (1, "b")]
    assert AsyncFragile.closes.count("ValueError") == 2  # tried twice, by fresh handlers
    assert letters[0].error == "ValueError: boom"
    assert stats["failed"] == 2


class AwaitsAFailedCall(ChatHandler):
    seen: ClassVar[list[str]] = []

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        try:
            await self.sender.send_message("")  # Telegram: "message text is empty"
        except BadRequest as exc:
            self.seen.append(type(exc).__name__)
            await self.sender.send_message("handled it")


def test_an_awaited_call_raises_its_typed_error_and_the_update_is_not_parked(
    tg: FakeBotApi
) -> None:
    AwaitsAFailedCall.seen.clear()
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AwaitsAFailedCall)])
    with engine:
        tg.inject_message(9, "go")
        tg.wait_for(lambda: texts_of(tg, 9) == ["handled it"], 10)
        wait(lambda: engine.stats()["in_flight"] == 0, 10, "the update to finish")
        stats = engine.stats()
    assert AwaitsAFailedCall.seen == ["BadRequest"]
    assert (stats["dead_letters"], stats["failed"]) == (0, 0)


class ReturnsACoroutineFromAPlainDef(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> Any:
        return asyncio.sleep(0)  # a plain def on a pool thread: nothing can await this


def test_a_plain_hook_returning_a_coroutine_is_a_logged_counted_failure(
    tg: FakeBotApi
) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), ReturnsACoroutineFromAPlainDef,
                                    on_failure=FailurePolicy(retries=0))])
    with structlog.testing.capture_logs() as logs, engine:
        tg.inject_message(4, "x")
        wait(lambda: engine.stats()["failed"] == 1, 10, "the failure")
        wait(lambda: engine.stats()["dead_letters"] == 1, 10, "the dead letter")
    failed = [e for e in logs if e["event"] == "handler.failed"]
    assert len(failed) == 1
    assert failed[0]["error"].startswith("AsyncHookError: ReturnsACoroutineFromAPlainDef."
                                         "on_chat_message returned coroutine from a plain def")


def test_hooks_the_engine_cannot_await_are_refused_before_anything_runs(tg: FakeBotApi) -> None:
    class Generator(ChatHandler):
        async def on_chat_message(self, msg: Any) -> Any:  # an async generator, not a hook
            yield msg

    class PlainOnMessage(ChatHandler):
        def on_message(self, update: Any) -> Any:
            return super().on_message(update)

        async def on_chat_message(self, msg: Any) -> None:
            pass

    async def seed(update: Any) -> int:
        return 1

    async def status(new: str) -> None:
        pass

    with pytest.raises(AsyncHookError, match="async generator"):
        Route(seeds.per_chat_id(), Generator)
    with pytest.raises(AsyncHookError, match="on_message is a plain def, but on_chat_message"):
        Route(seeds.per_chat_id(), PlainOnMessage)
    with pytest.raises(AsyncHookError, match="route seed"):
        Route(seed, AsyncCounter)
    with pytest.raises(AsyncHookError, match=r"Hooks\.on_status is async def"):
        Hooks(on_status=status)  # type: ignore[arg-type]


class OverridesOnMessageAsync(ChatHandler):
    async def on_message(self, update: Any) -> None:
        await super().on_message(update)  # awaitable whatever the hook it ran
        await self.sender.send_message("after")

    def on_edited_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("edited (plain hook)")

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        await self.sender.send_message("message (async hook)")


def test_an_async_on_message_awaits_super_for_plain_and_async_hooks(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), OverridesOnMessageAsync)])
    with engine:
        sent = tg.inject_message(6, "a")
        tg.wait_for(lambda: len(texts_of(tg, 6)) == 2, 10)
        tg.inject_updates([{"edited_message": {**sent["message"], "edit_date": 1}}])
        tg.wait_for(lambda: len(texts_of(tg, 6)) == 4, 10)
    assert texts_of(tg, 6) == ["message (async hook)", "after", "edited (plain hook)", "after"]


# -- stopping ----------------------------------------------------------------------------------


class Sleeper(ChatHandler):
    started: ClassVar[threading.Event] = threading.Event()
    cancelled: ClassVar[list[int]] = []

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        if msg["text"] == "quick":
            await asyncio.sleep(0.05)
            await self.sender.send_message("done")
            return
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.append(self.chat_id)
            raise


def test_stop_lets_short_coroutines_finish_and_cancels_the_rest_by_its_deadline(
    tg: FakeBotApi, tmp_path: Any
) -> None:
    Sleeper.started.clear()
    Sleeper.cancelled.clear()
    journal = tmp_path / "bot.journal"
    engine = make_engine(tg, [Route(seeds.per_chat_id(), Sleeper)], journal=journal)
    engine.start()
    tg.inject_message(1, "quick")
    hung = tg.inject_message(2, "forever")["update_id"]
    assert Sleeper.started.wait(10)
    began = time.monotonic()
    with structlog.testing.capture_logs() as logs:
        drained = engine.stop(timeout=1.0)
    took = time.monotonic() - began
    assert not drained
    assert took < 1.0 + 0.5, took  # bounded by the deadline (plus the teardown's joins)
    assert texts_of(tg, 1) == ["done"]  # the short one finished before the deadline
    assert Sleeper.cancelled == [2]
    events = [e["event"] for e in logs]
    assert "engine.coroutines_cancelled" in events
    assert next(e for e in logs if e["event"] == "handler.cancelled")["update_id"] == hung
    assert engine.status == "stopped"
    # The cancelled update was not acknowledged: it is replayed at the next start.
    Sleeper.started.clear()
    again = make_engine(tg, [Route(seeds.per_chat_id(), Sleeper)], journal=journal)
    again.start()
    try:
        assert Sleeper.started.wait(10)
        assert again.stats()["replayed"] == 1
    finally:
        again.stop(timeout=0.5)


# -- the application's loop --------------------------------------------------------------------


def test_async_with_in_an_asyncio_service_runs_hooks_on_the_services_loop(
    tg: FakeBotApi
) -> None:
    loops: list[Any] = []

    class OnServiceLoop(ChatHandler):
        async def on_chat_message(self, msg: dict[str, Any]) -> None:
            loops.append(asyncio.get_running_loop())
            await self.sender.send_message("pong")

    async def service() -> tuple[Any, list[str]]:
        engine = make_engine(tg, [Route(seeds.per_chat_id(), OnServiceLoop)])
        async with engine:
            assert engine.loop_runtime is not None
            assert not engine.loop_runtime.owned
            with pytest.raises(StateError, match="stop_async"):
                engine.stop()  # from the loop itself, it would block the hooks
            tg.inject_message(8, "ping")
            while texts_of(tg, 8) != ["pong"]:
                await asyncio.sleep(0.005)
        return asyncio.get_running_loop(), texts_of(tg, 8)

    loop, answered = asyncio.run(service())
    assert answered == ["pong"]
    assert loops == [loop]
    assert not any(t.name == "actorbot-loop" for t in threading.enumerate())


def test_a_sync_engine_with_async_hooks_owns_its_loop_and_joins_it(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncCounter)])
    with engine:
        assert engine.loop_runtime is not None
        assert engine.loop_runtime.owned
        assert "actorbot-loop" in {t.name for t in threading.enumerate()}
        tg.inject_message(1, "x")
        tg.wait_for(lambda: texts_of(tg, 1) == ["1"], 10)
    assert engine.loop_runtime is None


def test_with_a_loop_the_sender_runs_on_it_not_on_a_thread_of_its_own(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncCounter)])
    with engine:
        tg.inject_message(1, "x")
        tg.wait_for(lambda: texts_of(tg, 1) == ["1"], 10)
        names = {t.name for t in threading.enumerate()}
    assert "actorbot-loop" in names
    assert not [name for name in names if name.startswith("Sender")]


def test_with_a_loop_the_senders_calls_go_out_from_the_loop_not_http_threads(
    tg: FakeBotApi
) -> None:
    engine = make_engine(tg, [Route(seeds.per_chat_id(), AsyncCounter)])
    with engine:
        for chat in range(1, 21):
            tg.inject_message(chat, "x")
        tg.wait_for(lambda: len(tg.calls_to("sendMessage")) == 20, 10)
        names = {t.name for t in threading.enumerate()}
    assert not [name for name in names if name.startswith("actorbot-http")]
    assert [texts_of(tg, chat) for chat in range(1, 21)] == [["1"]] * 20


class QueuesAReply(ChatHandler):
    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("queued")  # out when the engine stops


def test_a_call_still_out_when_the_sender_stops_is_cancelled_and_its_update_replayed(
    tg: FakeBotApi, tmp_path: Any
) -> None:
    journal = tmp_path / "bot.journal"
    engine = make_engine(tg, [Route(seeds.per_chat_id(), QueuesAReply)], journal=journal)
    engine.start()
    tg.add_fault(Fault(method="sendMessage", times=1, latency=5.0))  # past the deadline
    tg.inject_message(1, "x")
    wait(lambda: engine.stats()["sender_in_flight"] == 1, 10, "the call to be out")
    began = time.monotonic()
    assert not engine.stop(timeout=1.0)
    assert time.monotonic() - began < 1.5  # not the call's 5 s: it was cancelled
    again = make_engine(tg, [Route(seeds.per_chat_id(), QueuesAReply)], journal=journal)
    with again:
        wait(lambda: again.stats()["replayed"] == 1 and again.stats()["in_flight"] == 0, 10,
             "the update to be replayed and answered")
    assert "queued" in texts_of(tg, 1)


class SendsTwiceWithoutAwaiting(ChatHandler):
    errors: ClassVar[list[str]] = []

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("first")  # holds the only slot until the loop settles it
        try:
            self.sender.send_message("second")
        except SenderQueueFull as exc:
            self.errors.append(str(exc))


def test_a_full_queue_on_the_senders_loop_raises_rather_than_blocking_it(
    tg: FakeBotApi
) -> None:
    # block_when_full would wait for a slot that only the loop it blocks can free.
    SendsTwiceWithoutAwaiting.errors.clear()
    engine = make_engine(tg, [Route(seeds.per_chat_id(), SendsTwiceWithoutAwaiting)],
                         sending=Sending(limits=RateLimits.unlimited(), max_queue=1,
                                         block_when_full=True))
    with engine:
        tg.inject_message(1, "x")
        tg.wait_for(lambda: texts_of(tg, 1) == ["first"], 10)
        wait(lambda: engine.stats()["in_flight"] == 0, 10, "the update to finish")
    assert SendsTwiceWithoutAwaiting.errors == ["sendMessage: the sender's queue is full"]


class RecordsItsLoop(ChatHandler):
    loops: ClassVar[list[str]] = []

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.loops.append(type(asyncio.get_running_loop()).__module__)
        await self.sender.send_message("on " + self.loops[-1])


def test_the_engines_own_loop_comes_from_the_loop_factory(tg: FakeBotApi) -> None:
    RecordsItsLoop.loops.clear()
    engine = make_engine(tg, [Route(seeds.per_chat_id(), RecordsItsLoop)],
                         handling=Handling(loop_factory=uvloop.new_event_loop))
    with engine:
        tg.inject_message(1, "x")
        tg.wait_for(lambda: texts_of(tg, 1) == ["on uvloop"], 10)
    assert RecordsItsLoop.loops == ["uvloop"]


def test_a_loop_factory_that_makes_no_loop_fails_the_start_and_leaves_nothing_running(
    tg: FakeBotApi
) -> None:
    def no_loop() -> Any:
        return "a loop"

    engine = make_engine(tg, [Route(seeds.per_chat_id(), RecordsItsLoop)],
                         handling=Handling(loop_factory=no_loop))
    with pytest.raises(ConfigError, match="returned 'a loop', not an event loop"):
        engine.start()
    assert engine.status == "stopped"  # and no thread left (the fixture checks)


def test_an_engine_without_async_hooks_starts_no_loop(tg: FakeBotApi) -> None:
    class Plain(ChatHandler):
        def on_chat_message(self, msg: dict[str, Any]) -> None:
            self.sender.send_message("plain")

    engine = make_engine(tg, [Route(seeds.per_chat_id(), Plain)])
    with engine:
        assert engine.loop_runtime is None
        assert "actorbot-loop" not in {t.name for t in threading.enumerate()}


class Gate(ChatHandler):
    gate: ClassVar[threading.Event] = threading.Event()
    waiting: ClassVar[threading.Event] = threading.Event()

    async def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.waiting.set()
        await asyncio.to_thread(self.gate.wait, 10)  # blocking work, off the loop
        await self.sender.send_message("through")


def test_an_update_is_acknowledged_only_when_its_coroutine_finished(
    tg: FakeBotApi, tmp_path: Any
) -> None:
    Gate.gate.clear()
    Gate.waiting.clear()
    engine = make_engine(tg, [Route(seeds.per_chat_id(), Gate)], journal=tmp_path / "j")
    with engine:
        tg.inject_message(1, "x")
        assert Gate.waiting.wait(10)
        held = engine.stats()
        Gate.gate.set()
        tg.wait_for(lambda: texts_of(tg, 1) == ["through"], 10)
        wait(lambda: engine.stats()["journal_pending"] == 0, 10, "the acknowledgement")
    assert (held["journal_pending"], held["in_flight"], held["coroutines_running"]) == (1, 1, 1)
