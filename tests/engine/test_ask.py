"""Engine.ask: through the router, so asks are ordered with the seed's updates and survive
passivation (buffered, answered by the successor), each answered exactly once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from actorbot import Route, UserHandler
from actorbot.errors import NotRunning
from actorbot.routing import Ping
from actorbot.runtime import ManualClock
from actorbot.seeds import per_from_id
from actorbot.testing import FakeBotApi
from tests.helpers import make_engine

pytestmark = pytest.mark.usefixtures("no_thread_left")


class Tally(UserHandler):
    spawned = 0
    lock = threading.Lock()

    def on_open(self, update: Any) -> None:
        self.seen: list[Any] = []
        with Tally.lock:
            Tally.spawned += 1

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.seen.append(msg["text"])

    def on_ask(self, message: Any) -> Any:
        self.seen.append(message)
        return list(self.seen)


def update(update_id: int, user: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": user, "type": "private"}, "from": {"id": user, "is_bot": False}}}


def test_asks_are_ordered_with_the_seeds_updates(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(per_from_id(), Tally, name="users")], intake=None)
    with engine:
        futures = []
        for i in range(1, 51):
            engine.feed(update(i, 7, f"u{i}"))
            futures.append(engine.ask("users", 7, f"a{i}"))
        answers = [f.get(timeout=10) for f in futures]
    expected = [x for i in range(1, 51) for x in (f"u{i}", f"a{i}")]
    assert answers[-1] == expected
    assert all(a == expected[:len(a)] for a in answers)


def test_asks_racing_passivation_are_each_answered_once(tg: FakeBotApi) -> None:
    Tally.spawned = 0
    clock = ManualClock()
    engine = make_engine(tg, [Route(per_from_id(), Tally, name="users", idle_timeout=1)],
                         intake=None, clock=clock)
    with engine:
        assert engine._router_ref is not None
        answers = []
        for i in range(300):
            if i % 3 == 0 and answers:
                answers[-1].get(timeout=10)  # idle now ...
                clock.advance(2)  # ... so the sweep asks it to close, racing the next asks
            answers.append(engine.ask("users", 7, i))
        got = [f.get(timeout=10) for f in answers]
        engine._router_ref.ask(Ping(), timeout=10)
        stats = engine.stats()
    assert [g[-1] for g in got] == list(range(300))  # each answered, in order
    assert stats["failed"] == 0
    assert stats["passivated"] + 1 == Tally.spawned  # successors took over, one at a time
    assert stats["passivated"] >= 50  # most idle cycles passivated it


def test_an_ask_to_a_stopped_engine_is_refused_and_one_in_flight_settles(
    tg: FakeBotApi,
) -> None:
    engine = make_engine(tg, [Route(per_from_id(), Tally, name="users")], intake=None)
    with engine:
        futures = [engine.ask("users", u, "q") for u in range(100)]
    for future in futures:  # answered before the handlers closed: stop drains them
        assert future.get(timeout=10) == ["q"]
    with pytest.raises(NotRunning):
        engine.ask("users", 1, "late")
