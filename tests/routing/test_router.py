"""Handler lifecycle through the router, on virtual time: idle, close, timers, results,
failure policies, several routes, unhashable seeds. Updates enter with ``engine.feed``."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actorbot import (
    CallResult,
    ChatHandler,
    Engine,
    FailurePolicy,
    Handler,
    IdleTimeout,
    Monitor,
    Route,
    UserHandler,
    per_chat_id,
    per_from_id,
)
from actorbot.engine import Handling
from actorbot.errors import ConfigError, Forbidden
from actorbot.handlers import CloseRequested, EngineStopping
from actorbot.routing import Ping
from actorbot.runtime import Backoff, ManualClock
from actorbot.seeds import per_application, per_message, seed_function
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually

pytestmark = pytest.mark.usefixtures("no_thread_left")


def msg(chat: int, text: str = "hi", update_id: int = 1, user: int | None = None) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": user if user is not None else chat, "is_bot": False}}}


class Journal:
    """What handlers did, in order, shared across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[Any, ...]] = []

    def add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return [e for e in self.events if e[0] == kind]


J = Journal()


@pytest.fixture(autouse=True)
def fresh_journal() -> None:
    J.events.clear()


SERIALS = itertools.count()


class Talker(ChatHandler):
    keep_alive_once: ClassVar[bool] = False

    def on_open(self, update: Any) -> None:
        self.asked = False
        self.serial = next(SERIALS)  # not id(self): a freed handler's id may come back
        J.add("open", self.chat_id, self.serial)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        J.add("msg", self.chat_id, msg["text"], self.serial)
        if msg["text"] == "/bye":
            self.close()
        elif msg["text"] == "remind":
            self.schedule(5, "reminder")
        elif msg["text"] == "send":
            self.sender.notify("greeting").send_message("hello")
        elif msg["text"] == "boom":
            raise RuntimeError("boom")

    def on_idle(self) -> bool:
        J.add("idle", self.chat_id)
        if self.keep_alive_once and not self.asked:
            self.asked = True
            self.sender.send_message("are you still there?")
            return False
        return True

    def on_event(self, message: Any) -> None:
        J.add("event", self.chat_id, message)

    def on_result(self, result: CallResult) -> None:
        J.add("result", self.chat_id, result.tag, result.ok,
              result.result["text"] if result.ok else type(result.error).__name__)

    def on_close(self, reason: BaseException) -> None:
        J.add("close", self.chat_id, type(reason).__name__, getattr(self, "serial", None))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def run(tg: FakeBotApi, clock: ManualClock) -> Iterator[Any]:
    engines: list[Engine] = []

    def start(*routes: Route, **options: Any) -> Engine:
        engine = Engine(
            tg.token, list(routes), intake=None, connection=tg.connection, clock=clock,
            stats_interval=None, **options,
        )
        engines.append(engine.start())
        return engine

    yield start
    for engine in engines:
        engine.stop()


def settle(engine: Engine) -> None:
    """Wait until the router and the handlers have nothing left to do."""
    assert engine._router_ref is not None
    engine._router_ref.ask(Ping(), timeout=10)
    assert engine.tracker.wait_idle(10)
    engine._router_ref.ask(Ping(), timeout=10)


def tick(engine: Engine, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    settle(engine)


def test_idle_timeout_passivates_on_virtual_time(run: Any, clock: ManualClock) -> None:
    engine = run(Route(per_chat_id(), Talker, idle_timeout=10))
    engine.feed(msg(1))
    settle(engine)
    tick(engine, clock, 9)
    assert engine.stats()["handlers_alive"] == 1
    tick(engine, clock, 2)
    eventually(lambda: engine.stats()["handlers_alive"] == 0, what="passivation")
    assert J.of("idle") == [("idle", 1)]
    assert [e[2] for e in J.of("close")] == ["IdleTimeout"]
    assert engine.stats()["passivated"] == 1
    engine.feed(msg(1, update_id=2))
    settle(engine)
    assert len(J.of("open")) == 2  # a new handler for the returning chat


def test_on_idle_may_keep_the_handler(run: Any, clock: ManualClock, tg: FakeBotApi) -> None:
    Talker.keep_alive_once = True
    try:
        engine = run(Route(per_chat_id(), Talker, idle_timeout=10))
        engine.feed(msg(1))
        settle(engine)
        tick(engine, clock, 11)
        eventually(lambda: len(J.of("idle")) == 1, what="first idle")
        eventually(lambda: engine.stats()["passivating"] == 0, what="the keep-alive answer")
        assert engine.stats()["handlers_alive"] == 1
        tg.wait_for_calls("sendMessage", 1, timeout=10)
        assert tg.sent_texts(1) == ["are you still there?"]
        tick(engine, clock, 11)
        eventually(lambda: engine.stats()["handlers_alive"] == 0, what="second idle")
        assert J.of("idle") == [("idle", 1), ("idle", 1)]
    finally:
        Talker.keep_alive_once = False


def test_a_busy_handler_is_not_idle(run: Any, clock: ManualClock) -> None:
    engine = run(Route(per_chat_id(), Talker, idle_timeout=10))
    engine.feed(msg(1))
    settle(engine)
    tick(engine, clock, 8)
    engine.feed(msg(1, update_id=2))
    settle(engine)
    tick(engine, clock, 3)  # 11 s after the first update, 3 s after the last one
    assert engine.stats()["handlers_alive"] == 1
    assert J.of("idle") == []


def test_close_hands_later_updates_to_a_successor(run: Any) -> None:
    engine = run(Route(per_chat_id(), Talker))
    engine.feed([msg(1, "a", 1), msg(1, "/bye", 2), msg(1, "b", 3), msg(1, "c", 4)])
    settle(engine)
    eventually(lambda: len(J.of("msg")) == 4, what="all messages")
    texts = [(e[2], e[3]) for e in J.of("msg")]
    assert [t for t, _ in texts] == ["a", "/bye", "b", "c"]
    assert texts[0][1] == texts[1][1] != texts[2][1] == texts[3][1]
    assert J.of("close")[0][2] == "CloseRequested"
    assert engine.stats()["closed"] == 1


def test_scheduled_messages_arrive_and_are_cancelled_on_close(
    run: Any, clock: ManualClock
) -> None:
    engine = run(Route(per_chat_id(), Talker))
    engine.feed([msg(1, "remind", 1), msg(2, "remind", 2), msg(2, "/bye", 3)])
    settle(engine)
    tick(engine, clock, 5)
    eventually(lambda: J.of("event") == [("event", 1, "reminder")], what="reminder")
    settle(engine)
    assert J.of("event") == [("event", 1, "reminder")]  # chat 2 closed: its timer is gone


def test_results_come_back_as_messages(run: Any, tg: FakeBotApi) -> None:
    engine = run(Route(per_chat_id(), Talker))
    engine.feed(msg(1, "send"))
    eventually(lambda: J.of("result"), what="a result")
    assert J.of("result") == [("result", 1, "greeting", True, "hello")]
    tg.add_fault(Fault(method="sendMessage", status=403,
                       description="Forbidden: bot was blocked by the user"))
    engine.feed(msg(1, "send", 2))
    eventually(lambda: len(J.of("result")) == 2, what="an error result")
    assert J.of("result")[1] == ("result", 1, "greeting", False, Forbidden.__name__)


def test_backoff_holds_the_seed_then_replays(run: Any, clock: ManualClock) -> None:
    policy = FailurePolicy(backoff=Backoff(5.0, 60.0, jitter=False), retries=0)
    engine = run(Route(per_chat_id(), Talker, on_failure=policy))
    engine.feed(msg(1, "boom", 1))
    settle(engine)
    # The backoff starts when the router learns the handler closed: only then may time move.
    eventually(lambda: engine.stats()["closed"] == 1, what="the failed handler's close")
    engine.feed([msg(1, "after", 2), msg(2, "other chat", 3)])
    engine._router_ref.ask(Ping(), timeout=10)
    eventually(lambda: [e[2] for e in J.of("msg")][-1:] == ["other chat"], what="chat 2")
    clock.advance(4.9)  # 0.1 s early: the respawn timer must not fire
    engine._router_ref.ask(Ping(), timeout=10)
    assert "after" not in [e[2] for e in J.of("msg")]
    assert engine.stats()["buffered"] == 1
    tick(engine, clock, 0.1)
    eventually(lambda: "after" in [e[2] for e in J.of("msg")], what="replay after backoff")
    assert engine.stats()["buffered"] == 0


def test_failure_policy_respawns_at_once_by_default_and_checks_its_settings() -> None:
    assert [FailurePolicy().backoff.delay(n) for n in (1, 2, 10)] == [0.0, 0.0, 0.0]
    with pytest.raises(ConfigError, match=r"must be a Backoff, e\.g\. Backoff\(1\.0, 60\.0\)"):
        FailurePolicy(backoff=5)  # type: ignore[arg-type]  # the old float setting
    with pytest.raises(ConfigError, match="retries must not be negative"):
        FailurePolicy(retries=-1)
    with pytest.raises(ConfigError, match="give_up_after must be at least 1"):
        FailurePolicy(give_up_after=0)


def test_failure_logs_route_seed_and_update_id(run: Any) -> None:
    engine = run(Route(per_chat_id(), Talker, name="talk",
                       on_failure=FailurePolicy(retries=0)))
    with capture_logs() as logs:
        engine.feed(msg(7, "boom", 41))
        settle(engine)
        eventually(lambda: J.of("close"), what="close")
    (failed,) = [e for e in logs if e["event"] == "handler.failed"]
    assert failed["route"] == "talk"
    assert failed["seed"] == "7"
    assert failed["update_id"] == 41
    assert failed["error"] == "RuntimeError: boom"
    assert J.of("close")[0][2] == "RuntimeError"


def test_one_update_reaches_every_matching_route(run: Any) -> None:
    seen: list[tuple[str, Any]] = []

    class ByUser(UserHandler):
        def on_message(self, update: Any) -> None:
            seen.append(("user", self.user_id))

    class Everything(Monitor):
        def on_message(self, update: Any) -> None:
            seen.append(("monitor", update["update_id"]))

    engine = run(Route(per_chat_id(), Talker), Route(per_from_id(), ByUser),
                 Route(per_application(), Everything, idle_timeout=None))
    engine.feed([msg(-5, "group", 1, user=9), msg(3, "x", 2)])
    settle(engine)
    assert sorted(seen, key=str) == sorted(
        [("user", 9), ("monitor", 1), ("user", 3), ("monitor", 2)], key=str)
    stats = engine.stats()
    assert stats["handled"] == 2  # an update is done once every route finished it
    assert stats["handlers_by_class"] == {"Talker": 2, "ByUser": 2, "Everything": 1}


def test_unhashable_seed_spawns_a_handler_per_update(run: Any, clock: ManualClock) -> None:
    handled: list[int] = []

    class Once(Handler):
        def on_message(self, update: Any) -> None:
            handled.append(id(self))

    engine = run(Route(per_message(), Once, idle_timeout=1))
    engine.feed([msg(1, update_id=i) for i in range(3)])
    settle(engine)
    assert len(set(handled)) == 3
    assert engine.stats()["spawned"] == 3
    tick(engine, clock, 2)
    eventually(lambda: engine.stats()["handlers_alive"] == 0, what="anonymous passivation")


def test_user_handler_sends_to_the_users_private_chat(run: Any, tg: FakeBotApi) -> None:
    class Greeter(UserHandler):
        def on_message(self, update: Any) -> None:
            self.sender.send_message("hello you")

    engine = run(Route(per_from_id(), Greeter))
    engine.feed(msg(-100, "in a group", user=42))
    tg.wait_for_calls("sendMessage", 1, timeout=10)
    assert tg.sent_texts(42) == ["hello you"]
    del engine


def test_a_raising_seed_function_skips_that_route_only(run: Any) -> None:
    @seed_function
    def fragile(update: Any) -> int:
        return int(update["message"]["text"])

    def raw_fragile(update: Any) -> int:
        raise KeyError("no")

    engine = run(Route(fragile, Talker, name="a"), Route(raw_fragile, Talker, name="b"),
                 Route(per_chat_id(), Talker, name="c"))
    with capture_logs() as logs:
        engine.feed(msg(1, "not a number"))
        settle(engine)
    events = [e["event"] for e in logs]
    assert "seed.failed" in events
    assert "router.seed_failed" in events
    assert len(J.of("msg")) == 1  # route c still got it


def test_a_handler_whose_init_fails_does_not_stop_the_engine(run: Any) -> None:
    class Broken(ChatHandler):
        def __init__(self, context: Any) -> None:
            super().__init__(context)
            raise ValueError("cannot start")

    engine = run(Route(per_chat_id(), Broken), Route(per_chat_id(), Talker))
    with capture_logs() as logs:
        engine.feed([msg(1, update_id=1), msg(1, update_id=2)])
        settle(engine)
    assert len(J.of("msg")) == 2
    spawn_failures = [e for e in logs if e["event"] == "handler.failed"]
    assert [e["stage"] for e in spawn_failures] == ["spawn", "spawn"]
    assert engine.stats()["failed"] == 2


def test_stop_closes_handlers_and_flushes_their_goodbyes(
    tg: FakeBotApi, clock: ManualClock
) -> None:
    class Polite(ChatHandler):
        def on_close(self, reason: BaseException) -> None:
            J.add("close", type(reason).__name__)
            self.sender.send_message("bye!")

    engine = Engine(
        tg.token, [Route(per_chat_id(), Polite)], intake=None, connection=tg.connection,
        clock=clock, stats_interval=None,
    ).start()
    engine.feed([msg(c, update_id=c) for c in range(1, 21)])
    settle(engine)
    assert engine.stop(timeout=30) is True
    assert J.of("close") == [("close", EngineStopping.__name__)] * 20
    assert all(tg.sent_texts(c) == ["bye!"] for c in range(1, 21))  # sent before stop()
    assert engine.stats()["handlers_alive"] == 0


def test_feed_needs_a_started_engine(tg: FakeBotApi) -> None:
    engine = Engine(tg.token, [Route(per_chat_id(), Talker)], intake=None, connection=tg.connection)
    with pytest.raises(RuntimeError, match="start"):
        engine.feed(msg(1))
    with pytest.raises(ValueError, match="route"):
        Engine(tg.token, [], connection=tg.connection)
    with pytest.raises(TypeError, match="Handler subclass"):
        Route(per_chat_id(), dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idle_timeout"):
        Route(per_chat_id(), Talker, idle_timeout=0)
    assert isinstance(IdleTimeout(), Exception)
    assert isinstance(CloseRequested(), Exception)


def test_a_capped_sweep_continues_without_waiting_for_the_next_tick(
    run: Any, clock: ManualClock
) -> None:
    engine = run(Route(per_chat_id(), Talker, idle_timeout=10), handling=Handling(sweep_limit=10))
    engine.feed([msg(c, update_id=c) for c in range(100)])
    settle(engine)
    tick(engine, clock, 10)  # one tick; 10 handlers per sweep
    eventually(lambda: engine.stats()["handlers_alive"] == 0, what="all 100 passivated")
    assert engine.stats()["passivated"] == 100


def test_a_migrated_chat_keeps_its_handler(run: Any, tg: FakeBotApi) -> None:
    tg.migrate_chat(-4000009, -1009000000009)

    class Conversation(ChatHandler):
        def on_open(self, update: Any) -> None:
            self.turns = 0

        def on_chat_message(self, msg: dict[str, Any]) -> None:
            self.turns += 1
            J.add("turn", msg["chat"]["id"], self.turns, id(self))
            self.sender.send_message(f"turn {self.turns}")

    engine = run(Route(per_chat_id(), Conversation))
    group = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "a",
                                         "chat": {"id": -4000009, "type": "group"}}}
    engine.feed(group)
    tg.wait_for_calls("sendMessage", 2, timeout=10)  # refused on the old id, then resent
    assert engine._router_ref is not None
    engine._router_ref.ask(Ping(), timeout=10)
    moved = {"update_id": 2, "message": {"message_id": 1, "date": 0, "text": "b",
                                         "chat": {"id": -1009000000009, "type": "supergroup"}}}
    engine.feed(moved)
    settle(engine)
    turns = J.of("turn")
    assert [t[2] for t in turns] == [1, 2]  # the same conversation went on ...
    assert turns[0][3] == turns[1][3]  # ... in the same handler
    tg.wait_for_calls("sendMessage", 3, timeout=10)
    assert tg.sent_texts(-1009000000009) == ["turn 1", "turn 2"]
