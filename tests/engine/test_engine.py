"""The engine against the fake Bot API over HTTP: the stress tests of docs/architecture.md §2.

Each test asserts exact outcomes (every update, in order, exactly once) and that no engine
thread is left behind after ``stop()``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from actorbot import seeds
from actorbot.engine import Handling
from actorbot.handlers._handler import (
    ChatHandler,
    Handler,
    UserHandler,
)
from actorbot.intake import Polling
from actorbot.routing._router import FailurePolicy, Route
from actorbot.testing import FakeBotApi
from actorbot.updates import UPDATE_TYPES
from tests.corpus import ROWS, Row, load
from tests.helpers import LivenessProbe, make_engine, passivation_storm
from tests.helpers import eventually as wait

pytestmark = pytest.mark.usefixtures("no_thread_left")


# -- 1,000 chats x 20 messages ------------------------------------------------------------


class Counter(ChatHandler):
    def on_open(self, update: Any) -> None:
        self.count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        self.sender.send_message(str(self.count))


@pytest.mark.parametrize(("runtime", "chats"), [("pool", 1000), ("threads", 100)])
def test_chats_interleaved_each_gets_exactly_its_count_in_order(
    tg: FakeBotApi, runtime: str, chats: int
) -> None:
    per_chat = 20
    tg.inject_updates(
        {"message": {"message_id": i, "date": 0, "text": f"m{i}",
                     "chat": {"id": 10_000 + c, "type": "private"},
                     "from": {"id": 10_000 + c, "is_bot": False, "first_name": "u"}}}
        for i in range(per_chat) for c in range(chats)
    )
    engine = make_engine(
        tg, [Route(seeds.per_chat_id(), Counter)], handling=Handling(runtime=runtime),
    )
    with engine:
        assert tg.wait_for(lambda: len(tg.calls_to("sendMessage")) >= chats * per_chat, 240)
        stats = engine.stats()
    expected = [str(i) for i in range(1, per_chat + 1)]
    wrong = [c for c in range(chats) if tg.sent_texts(10_000 + c) != expected]
    assert wrong == []
    assert len(tg.calls_to("sendMessage")) == chats * per_chat
    assert stats["spawned"] == chats
    assert stats["failed"] == 0


# -- passivation race ---------------------------------------------------------------------


class Probe(LivenessProbe):
    live: ClassVar[dict[Any, int]] = {}
    violations: ClassVar[list[Any]] = []
    received: ClassVar[defaultdict[Any, list[int]]] = defaultdict(list)
    opens: ClassVar[defaultdict[Any, int]] = defaultdict(int)


def test_passivation_race_loses_and_reorders_nothing(tg: FakeBotApi) -> None:
    Probe.live.clear()
    Probe.violations.clear()
    Probe.received.clear()
    Probe.opens.clear()
    expected, stats = passivation_storm(tg, Probe, Probe.received, seed=7)
    assert Probe.violations == []
    assert dict(Probe.received) == expected  # nothing lost, duplicated or reordered
    assert stats["passivated"] == sum(Probe.opens.values())
    assert stats["passivated"] > 100  # seeds came back after idling out
    assert stats["buffered_total"] > 0  # updates did arrive mid-handshake
    assert stats["buffered"] == 0
    assert stats["passivating"] == 0


# -- failures -----------------------------------------------------------------------------


class Fragile(ChatHandler):
    handled: ClassVar[list[tuple[int, str, int]]] = []
    closes: ClassVar[list[tuple[int, str]]] = []
    serials: ClassVar[Iterator[int]] = itertools.count()

    def on_open(self, update: Any) -> None:
        self.serial = next(self.serials)  # id(self) may be reused once a handler is freed

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        if msg["text"] == "boom":
            raise ValueError("boom")
        self.handled.append((self.chat_id, msg["text"], self.serial))

    def on_close(self, reason: BaseException) -> None:
        self.closes.append((self.chat_id, type(reason).__name__))


def test_a_failing_handler_loses_no_other_update(tg: FakeBotApi) -> None:
    """Each poison update is tried three times (two retries), each time by a fresh handler,
    then parked; the chat's other updates go on in order."""
    Fragile.handled.clear()
    Fragile.closes.clear()
    chats = range(1, 51)
    texts = ["a", "boom", "b", "c", "boom", "d"]
    for text in texts:
        for chat in chats:
            tg.inject_message(chat, text)
    engine = make_engine(tg, [Route(seeds.per_chat_id(), Fragile)])
    with engine:
        wait(lambda: len(Fragile.handled) == 4 * len(chats), 60, "good updates")
        wait(lambda: engine.stats()["dead_letters"] == 2 * len(chats), 30, "dead letters")
        stats = engine.stats()
        dead = engine.dead_letters(limit=1000)
    for chat in chats:
        got = [(text, owner) for c, text, owner in Fragile.handled if c == chat]
        assert [text for text, _ in got] == ["a", "b", "c", "d"]
        owners = [owner for _, owner in got]
        assert owners[0] != owners[1] == owners[2] != owners[3]  # fresh handlers after a boom
        assert [r for c, r in Fragile.closes if c == chat] == [
            *["ValueError"] * 6, "EngineStopping"]
    assert stats["failed"] == 6 * len(chats)
    assert stats["spawned"] == 7 * len(chats)  # 3 per boom (one per attempt) + 1 for "d"
    assert stats["journal_pending"] == 0
    assert sorted(d.update["message"]["chat"]["id"] for d in dead) == sorted([*chats, *chats])
    assert {(d.route, d.error) for d in dead} == {("Fragile", "ValueError: boom")}


def test_give_up_after_n_failures_stops_the_seed(tg: FakeBotApi) -> None:
    Fragile.handled.clear()
    for text in ["boom", "boom", "a", "b"]:
        tg.inject_message(5, text)
    tg.inject_message(6, "ok")
    route = Route(seeds.per_chat_id(), Fragile,
                  on_failure=FailurePolicy(give_up_after=2, retries=0))
    engine = make_engine(tg, [route])
    with engine:
        wait(lambda: engine.stats()["dropped"] == 2, 30, "dropped updates")
        wait(lambda: (6, "ok") in [(c, t) for c, t, _ in Fragile.handled], 30, "other chat")
    assert [(c, t) for c, t, _ in Fragile.handled] == [(6, "ok")]


# -- stop under load ----------------------------------------------------------------------


class Worker(ChatHandler):
    seen: ClassVar[list[int]] = []

    def on_message(self, update: Any) -> None:
        self.seen.append(update["update_id"])
        self.sender.send_message("ok")


def test_stop_during_load_handles_everything_it_fetched(tg: FakeBotApi) -> None:
    Worker.seen.clear()
    ids = tg.inject_updates(
        {"message": {"message_id": 1, "date": 0, "text": "x",
                     "chat": {"id": i % 100, "type": "private"}}} for i in range(5000))
    engine = make_engine(
        tg, [Route(seeds.per_chat_id(), Worker)], handling=Handling(max_in_flight=300),
    )
    engine.start()
    wait(lambda: len(Worker.seen) >= 500, 60, "some progress")
    assert engine.stop(timeout=60) is True
    confirmed = tg.confirmed_offset
    fetched = [i for i in ids if i < confirmed]
    assert len(fetched) < len(ids)  # the stop really came mid-load
    assert sorted(Worker.seen) == fetched  # each fetched update handled exactly once
    assert engine.status == "stopped"


# -- bad input ----------------------------------------------------------------------------


def test_corpus_updates_reach_the_expected_seeds(tg: FakeBotApi) -> None:
    rows: list[Row] = [p.values[0] for p in ROWS]
    assert len(rows) > 50
    by_chat: dict[int, Any] = {}
    by_user: dict[int, Any] = {}

    class ChatSeen(Handler):
        def on_message(self, update: Any) -> None:
            by_chat[update["update_id"]] = self.seed

    class UserSeen(UserHandler):
        def on_message(self, update: Any) -> None:
            by_user[update["update_id"]] = self.seed

    delivered = [r for r in rows if r.update_type in UPDATE_TYPES]
    ids = tg.inject_updates(load(r.file) for r in delivered)
    engine = make_engine(
        tg,
        [Route(seeds.per_chat_id(), ChatSeen),
                              Route(seeds.per_from_id(), UserSeen)],
        intake=Polling(timeout=1, allowed_updates=list(UPDATE_TYPES)),
    )
    with engine:
        wait(lambda: engine.stats()["handled"] >= len(delivered), 30, "corpus handled")
    for row, update_id in zip(delivered, ids, strict=True):
        seed = by_chat.get(update_id)
        if isinstance(seed, seeds.BusinessChat):  # a business account's chat: its own seed
            seed = seed.chat_id
        assert seed == row.chat_id, row.file
        assert by_user.get(update_id) == row.user_id, row.file
