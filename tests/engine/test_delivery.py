"""Delivery guarantees in one process: replay, dedupe, at-most-once, poison updates, stop."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actorbot import (
    ChatHandler,
    Engine,
    FailurePolicy,
    RateLimits,
    Route,
    UserHandler,
    per_chat_id,
    per_inline_from_id,
)
from actorbot.engine import Handling, Hooks
from actorbot.errors import EngineBusy
from actorbot.journal import Keep, MemoryJournal, SqliteJournal
from actorbot.runtime import Backoff
from actorbot.sending import Sending
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually, make_engine


def msg(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "is_bot": False,
                                                           "first_name": "u"}}}


def inline(update_id: int, user: int) -> dict[str, Any]:
    return {"update_id": update_id, "inline_query": {
        "id": str(update_id), "query": "q", "offset": "",
        "from": {"id": user, "is_bot": False, "first_name": "u"}}}


class Log(ChatHandler):
    seen: ClassVar[list[tuple[str, int, str]]] = []

    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.seen.append((self.context.route, self.chat_id, m["text"]))
        if m["text"].startswith("boom"):
            raise ValueError(m["text"])
        if m["text"].startswith("say"):
            for _ in range(int(m["text"][3:] or 1)):
                self.sender.send_message(m["text"])


class Inline(UserHandler):
    seen: ClassVar[list[int]] = []

    def on_inline_query(self, query: dict[str, Any]) -> None:
        self.seen.append(int(query["id"]))
        raise ValueError("inline handlers fail too")


@pytest.fixture(autouse=True)
def _clear() -> None:
    Log.seen.clear()
    Inline.seen.clear()


def texts(route: str | None = None) -> list[str]:
    return [t for r, _, t in Log.seen if route is None or r == route]


def offline(tg: FakeBotApi, routes: list[Any], **options: Any) -> Engine:
    return make_engine(tg, routes, intake=None, **options)


def test_pending_updates_are_replayed_in_order_before_new_ones(
    tg: FakeBotApi, tmp_path: Path
) -> None:
    path = tmp_path / "j.db"
    crashed = SqliteJournal(path)
    crashed.open()
    crashed.record([msg(3, 1, "c"), msg(1, 1, "a"), msg(2, 2, "b")])
    crashed.ack(2)
    crashed.flush()  # and then the process died: no close()
    engine = offline(tg, [Route(per_chat_id(), Log)], journal=path)
    with engine:
        engine.feed(msg(4, 1, "d"))
        eventually(lambda: len(Log.seen) == 3, what="replay and the new update")
        assert engine.stats()["replayed"] == 2
    assert texts() == ["a", "c", "d"]
    assert SqliteJournal(path).count("pending") == 0
    crashed.close()


def test_an_at_most_once_route_does_not_see_replays(tg: FakeBotApi) -> None:
    journal = MemoryJournal()
    journal.open()
    journal.record([msg(1, 1, "old")])  # pending from an earlier run
    journal.close()
    routes = [Route(per_chat_id(), Log, name="durable"),
              Route(per_chat_id(), Log, name="casual", delivery="at_most_once")]
    engine = offline(tg, routes, journal=journal)
    with engine:
        engine.feed(msg(2, 1, "new"))
        eventually(lambda: len(Log.seen) == 3, what="three deliveries")
    assert texts("durable") == ["old", "new"]
    assert texts("casual") == ["new"]


def test_an_at_most_once_route_never_retries_nor_parks(tg: FakeBotApi) -> None:
    engine = offline(tg, [Route(per_chat_id(), Log, delivery="at_most_once")])
    with engine:
        engine.feed([msg(1, 1, "boom"), msg(2, 1, "after")])
        eventually(lambda: texts() == ["boom", "after"], what="one try, then the next")
        assert engine.stats()["dead_letters"] == 0
        assert engine.stats()["journal_pending"] == 0


def test_at_most_once_update_types_are_neither_kept_nor_retried(tg: FakeBotApi) -> None:
    engine = offline(
        tg, [Route(per_inline_from_id(), Inline)], handling=Handling(at_most_once=["inline_query"]),
    )
    with engine:
        engine.feed([inline(1, 5), inline(2, 5)])
        eventually(lambda: Inline.seen == [1, 2], what="each query tried once")
        assert engine.journal.stats.pending == 0
        assert engine.dead_letters() == []
    with pytest.raises(ValueError, match="at_most_once"):
        Engine(
            tg.token, [Route(per_chat_id(), Log)],
            handling=Handling(at_most_once=["inline_querry"]),
        )
    with pytest.raises(ValueError, match="at_most_once"):
        Engine(
            tg.token, [Route(per_chat_id(), Log)], handling=Handling(at_most_once="inline_query"),
        )


def test_a_poison_update_is_retried_then_parked_and_blocks_nothing(tg: FakeBotApi) -> None:
    route = Route(per_chat_id(), Log, on_failure=FailurePolicy(retries=3))
    engine = offline(tg, [route])
    with capture_logs() as logs, engine:
        engine.feed([msg(1, 1, "boom!"), msg(2, 1, "next"), msg(3, 2, "other chat")])
        eventually(lambda: engine.stats()["handled"] == 3, what="all three")
        stats = engine.stats()
        (dead,) = engine.dead_letters()
    assert [t for _, c, t in Log.seen if c == 1] == ["boom!"] * 4 + ["next"]
    assert "other chat" in texts()
    assert (dead.update_id, dead.route, dead.error) == (1, "Log", "ValueError: boom!")
    assert stats["dead_letters"] == 1
    assert stats["failed"] == 4
    parked = [e for e in logs if e["event"] == "journal.parked"]
    assert [(e["update_id"], e["route"]) for e in parked] == [(1, "Log")]
    assert [e["retries_left"] for e in logs if e["event"] == "handler.failed"] == [3, 2, 1, 0]


def test_feed_drops_duplicates_and_follows_a_backward_jump(tg: FakeBotApi) -> None:
    engine = offline(tg, [Route(per_chat_id(), Log)])
    with engine:
        engine.feed([msg(900, 1, "a"), msg(901, 1, "b")])
        engine.feed(msg(901, 1, "b again"))  # a webhook retry: already handled
        engine.feed([msg(7, 1, "c"), msg(8, 1, "d")])  # Telegram's new random sequence
        engine.feed(msg(902, 1, "e"))
        eventually(lambda: len(Log.seen) == 5, what="five updates")
        assert engine.stats()["duplicates"] == 1
    assert texts() == ["a", "b", "c", "d", "e"]


def test_an_update_is_done_only_when_its_replies_are_out(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="sendMessage", latency=0.5, times=1))
    engine = offline(tg, [Route(per_chat_id(), Log)])
    with engine:
        engine.feed(msg(1, 1, "say"))
        eventually(lambda: texts() == ["say"], what="the handler ran")
        assert engine.journal.stats.pending == 1  # its reply is still on the way
        assert len(engine.tracker) == 1
        tg.wait_for_calls("sendMessage", 1, timeout=5)
        eventually(lambda: engine.journal.stats.pending == 0, what="the ack")


def test_a_stop_that_cannot_drain_leaves_the_rest_for_the_next_start(tg: FakeBotApi) -> None:
    """Replies held back by the rate limits when the stop's deadline passes were never
    sent: their update stays pending and is handled again at the next start."""
    limits = RateLimits(private_per_s=1.0, private_burst=1)
    engine = offline(tg, [Route(per_chat_id(), Log)], sending=Sending(limits=limits))
    engine.start()
    engine.feed([msg(1, 1, "say3"), msg(2, 2, "say")])
    eventually(lambda: len(tg.calls_to("sendMessage")) == 2, what="the first replies")
    assert not engine.stop(timeout=0.3)
    assert engine.journal.stats.pending == 1  # update 1: two of its replies never left
    Log.seen.clear()
    engine.start()
    try:
        eventually(lambda: texts() == ["say3"], what="the replay")
    finally:
        engine.stop(timeout=10)
    assert engine.journal.stats.pending == 0


def test_stop_drains_everything_and_empties_the_journal(tg: FakeBotApi, tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    for chat in range(1, 51):
        for i in range(10):
            tg.inject_message(chat, f"say{i % 2 + 1}")
    engine = make_engine(tg, [Route(per_chat_id(), Log)], journal=path)
    with engine:
        eventually(lambda: engine.stats()["fetched"] >= 100, what="some traffic")
    assert engine.stats()["in_flight"] == 0
    journal = SqliteJournal(path)
    assert journal.count("pending") == 0
    assert len(tg.calls_to("sendMessage")) == sum(
        int(t[3:]) for t in texts())  # every reply of every update handled went out


class FailingOnce(MemoryJournal):
    """A journal whose disk is full once."""

    failed = 0

    def record(self, updates: Sequence[Any], *, offset: int | None = None,
               keep: Keep | None = None) -> list[Any]:
        if not self.failed:
            self.failed += 1
            raise OSError("disk full")
        return super().record(updates, offset=offset, keep=keep)


def test_a_batch_the_journal_could_not_record_is_fetched_again(tg: FakeBotApi) -> None:
    tg.inject_message(1, "a")
    tg.inject_message(1, "b")
    statuses: list[str] = []
    engine = make_engine(tg, [Route(per_chat_id(), Log)], journal=FailingOnce(),
                         hooks=Hooks(on_status=statuses.append))
    with capture_logs() as logs, engine:
        eventually(lambda: texts() == ["a", "b"], what="both, after the failure")
        assert engine.stats()["poll_errors"] == 1
    assert any(e["event"] == "poller.journal_failed" for e in logs)
    # While the journal stalls nothing gets through: not "connected".
    assert statuses[:4] == ["starting", "connected", "retrying", "connected"]


def test_feed_raises_when_the_journal_cannot_record(tg: FakeBotApi) -> None:
    engine = offline(tg, [Route(per_chat_id(), Log)], journal=FailingOnce())
    with engine:
        with pytest.raises(OSError, match="disk full"):
            engine.feed(msg(1, 1, "a"))  # the source keeps it and tries again
        engine.feed(msg(1, 1, "a"))
        eventually(lambda: texts() == ["a"], what="the second try")


def test_a_durable_engine_restarts_on_its_journal(tg: FakeBotApi, tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    for text in ["a", "b"]:
        tg.inject_message(1, text)
    with make_engine(tg, [Route(per_chat_id(), Log)], journal=path):
        eventually(lambda: texts() == ["a", "b"], what="first run")
    tg.inject_message(1, "c")
    second = make_engine(tg, [Route(per_chat_id(), Log)], journal=path)
    with second:
        eventually(lambda: texts() == ["a", "b", "c"], what="second run")
        assert second.stats()["replayed"] == 0
        assert second.stats()["duplicates"] == 0


class Gate(ChatHandler):
    """Holds every update until the test opens the gate (a pooled handler may block in a
    test that owns the pool's workers)."""

    gate = threading.Event()
    seen: ClassVar[list[str]] = []

    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.gate.wait(30)
        self.seen.append(m["text"])


def test_feed_blocks_while_too_much_is_in_flight_then_times_out(tg: FakeBotApi) -> None:
    Gate.gate.clear()
    Gate.seen.clear()
    engine = offline(tg, [Route(per_chat_id(), Gate)], handling=Handling(max_in_flight=2))
    with engine:
        engine.feed([msg(1, 1, "a"), msg(2, 2, "b")])
        with pytest.raises(EngineBusy) as busy:
            engine.feed(msg(3, 3, "c"), timeout=0.2)  # two in flight: no room
        assert busy.value.retry_after == 1
        fed = threading.Event()
        feeder = threading.Thread(target=lambda: (engine.feed(msg(3, 3, "c")), fed.set()))
        feeder.start()
        assert not fed.wait(0.3)  # still blocked: backpressure, not a queue
        Gate.gate.set()
        feeder.join(10)
        assert fed.is_set()
        eventually(lambda: sorted(Gate.seen) == ["a", "b", "c"], what="all three")
    assert engine.journal.stats.pending == 0


def test_a_blocked_feed_gives_up_when_the_engine_stops(tg: FakeBotApi) -> None:
    Gate.gate.clear()
    engine = offline(tg, [Route(per_chat_id(), Gate)], handling=Handling(max_in_flight=1))
    engine.start()
    engine.feed(msg(1, 1, "a"))  # held at the gate: the engine is full
    gave_up = threading.Event()

    def feed() -> None:
        with pytest.raises(RuntimeError, match="stopped while this waited"):
            engine.feed(msg(2, 2, "b"))
        gave_up.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    stopper = threading.Thread(target=engine.stop)
    stopper.start()  # stopping: it cannot drain until the gate opens
    assert gave_up.wait(10)
    Gate.gate.set()
    stopper.join(30)
    feeder.join(10)
    assert not stopper.is_alive()
    assert engine.journal.stats.pending == 0  # "b" was never recorded


def test_an_update_stays_in_the_journal_while_its_reply_is_retried(tg: FakeBotApi) -> None:
    """An outage answered with 502s: the reply is retried past any retry count (here
    ``max_retries=0``) until its deadline, and its update stays pending until it is out."""
    tg.add_fault(Fault(method="sendMessage", status=502))
    sending = Sending(limits=RateLimits.unlimited(), max_retries=0,
                      backoff=Backoff(initial=0.005, maximum=0.02))
    engine = offline(tg, [Route(per_chat_id(), Log)], sending=sending)
    with engine:
        engine.feed(msg(1, 1, "say"))
        eventually(lambda: engine.stats()["sender_retries"] >= 10, what="ten retries")
        assert engine.journal.stats.pending == 1
        tg.clear_faults()
        eventually(lambda: engine.journal.stats.pending == 0, what="the ack")
    assert tg.sent_texts(1) == ["say"]
