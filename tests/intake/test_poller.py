"""The poller against the fake server: every error answered as Telegram asks, bounded
in-flight updates, and a stop that does not wait for a long poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from structlog.testing import capture_logs

from actorbot import Client, Engine, Route, per_chat_id
from actorbot.errors import PollingStopped
from actorbot.handlers import ChatHandler
from actorbot.intake import Poller, Polling
from actorbot.intake._poller import confirm_offset
from actorbot.journal import MemoryJournal
from actorbot.routing import Batch
from actorbot.runtime import Backoff, InFlight
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually

pytestmark = pytest.mark.usefixtures("no_thread_left")


class Sink(pykka.ThreadingActor):
    """Stands in for the router: records batches and tracks each update as in flight."""

    def __init__(self, tracker: InFlight) -> None:
        super().__init__()
        self.tracker = tracker
        self.batches: list[list[Any]] = []
        self.lock = threading.Lock()
        self.seq = 0

    def on_receive(self, message: Any) -> Any:
        assert isinstance(message, Batch)
        with self.lock:
            self.batches.append(message.updates)
        for _ in message.updates:
            self.seq += 1
            self.tracker.begin(self.seq, 1)
        return None

POLLING_FIELDS = frozenset(Polling.__dataclass_fields__)


@pytest.fixture
def poll(tg: FakeBotApi) -> Iterator[Any]:
    started: list[tuple[pykka.ActorRef[Any], pykka.ActorRef[Any], Poller, Client]] = []

    def start(**options: Any) -> tuple[Poller, Sink, InFlight, list[PollingStopped]]:
        client = Client(tg.token, base_url=tg.base_url)
        tracker = InFlight()
        sink = Sink(tracker)
        sink_ref = sink.actor_ref
        sink._start_actor_loop()
        fatal: list[PollingStopped] = []
        settings = {k: options.pop(k) for k in POLLING_FIELDS if k in options}
        settings.setdefault("timeout", 1)
        settings.setdefault("backoff", Backoff(initial=0.01))
        poller = Poller(client, sink_ref, tracker, Polling(**settings), on_fatal=fatal.append,
                        **options)
        poller._start_actor_loop()
        started.append((poller.actor_ref, sink_ref, poller, client))
        return poller, sink, tracker, fatal

    yield start
    for poller_ref, sink_ref, poller, client in started:
        poller.stop_fetching()
        confirm_offset(client, poller.offset)
        poller_ref.stop(timeout=10)
        sink_ref.stop(timeout=10)
        client.close()


def flat(sink: Sink) -> list[Any]:
    with sink.lock:
        return [u for batch in sink.batches for u in batch]


def test_batches_arrive_in_order_and_the_offset_confirms(tg: FakeBotApi, poll: Any) -> None:
    ids = [tg.inject_message(1, f"m{i}")["update_id"] for i in range(250)]
    poller, sink, _, _ = poll()
    eventually(lambda: len(flat(sink)) == 250, what="all updates")
    assert [u["update_id"] for u in flat(sink)] == ids
    assert poller.offset == ids[-1] + 1
    assert poller.stats.fetched == 250
    eventually(lambda: tg.confirmed_offset == ids[-1] + 1, what="confirmation")


def test_backpressure_stops_fetching_while_too_many_in_flight(
    tg: FakeBotApi, poll: Any
) -> None:
    for i in range(50):
        tg.inject_message(1, f"m{i}")
    poller, sink, tracker, _ = poll(max_in_flight=10, limit=5)
    eventually(lambda: len(flat(sink)) >= 10, what="the first window")
    polls = poller.stats.polls
    assert not tracker.wait_below(10, timeout=0.3)  # the poller waits meanwhile ...
    assert len(flat(sink)) == 10  # ... and has fetched nothing more
    assert poller.stats.polls == polls
    for seq in range(1, 6):
        tracker.finish(seq)
    eventually(lambda: len(flat(sink)) == 15, what="the next batch")
    assert len(tracker) == 10


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (None, "refused the token"),  # wrong token: see below
        (Fault(method="getUpdates", status=404, description="Not Found"), "refused"),
    ],
)
def test_fatal_answers_stop_polling_with_a_clear_error(
    tg: FakeBotApi, fault: Fault | None, words: str
) -> None:
    token = tg.token if fault is not None else "999999:wrong-token-for-this-bot"
    if fault is not None:
        tg.add_fault(fault)
    engine = Engine(
        token, [Route(per_chat_id(), ChatHandler)], intake=Polling(timeout=1),
        connection=tg.connection, stats_interval=None,
    )
    with capture_logs() as logs, pytest.raises(PollingStopped, match=words) as info:
        engine.run_forever()
    assert engine.status == "stopped"
    fatal = [e for e in logs if e["event"] == "poller.error" and e.get("fatal")]
    assert len(fatal) == 1
    assert "wrong-token" not in repr(logs) + str(info.value)


def test_webhook_set_is_explained(tg: FakeBotApi) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        client.set_webhook("https://example.org/hook")
    engine = Engine(
        tg.token, [Route(per_chat_id(), ChatHandler)], intake=Polling(timeout=1),
        connection=tg.connection, stats_interval=None,
    )
    with pytest.raises(PollingStopped, match="webhook is set"):
        engine.run_forever()


def test_another_poller_is_retried_then_reported(tg: FakeBotApi, poll: Any) -> None:
    tg.add_fault(Fault(method="getUpdates", status=409,
                       description="Conflict: terminated by other getUpdates request; make "
                                   "sure that only one bot instance is running"))
    _, _, _, fatal = poll(conflict_retries=3)
    eventually(lambda: fatal, what="the fatal report")
    assert "another getUpdates poller" in str(fatal[0])
    assert len(tg.calls_to("getUpdates")) == 4  # the first try and 3 retries


def test_retry_after_is_honoured(tg: FakeBotApi, poll: Any) -> None:
    tg.add_fault(Fault(method="getUpdates", status=429, retry_after=1, times=1))
    tg.inject_message(1, "x")
    start = time.monotonic()
    poller, sink, _, _ = poll()
    eventually(lambda: flat(sink), what="the update after the pause")
    assert time.monotonic() - start >= 1.0
    assert poller.stats.rate_limited == 1


@pytest.mark.parametrize(
    "fault",
    [Fault(method="getUpdates", status=500, times=3),
     Fault(method="getUpdates", status=502, times=3),  # HTML, not JSON
     Fault(method="getUpdates", drop="before", times=3),
     Fault(method="getUpdates", raw_body=b"{not json", status=200, times=3)],
)
def test_transient_failures_back_off_and_recover(
    tg: FakeBotApi, poll: Any, fault: Fault
) -> None:
    tg.add_fault(fault)
    tg.inject_message(1, "x")
    poller, sink, _, fatal = poll()
    eventually(lambda: flat(sink), what="recovery")
    assert poller.stats.errors == 3
    assert fatal == []


def test_engine_stop_does_not_wait_for_the_long_poll(tg: FakeBotApi) -> None:
    engine = Engine(
        tg.token, [Route(per_chat_id(), ChatHandler)], intake=Polling(timeout=50),
        connection=tg.connection, stats_interval=None,
    ).start()
    eventually(lambda: tg.long_poll_pending, what="a pending long poll")
    start = time.monotonic()
    assert engine.stop(timeout=20) is True
    assert time.monotonic() - start < 5


def _msg(update_id: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0,
            "text": str(update_id), "chat": {"id": 1, "type": "private"}}}


def test_a_backward_jump_is_a_new_sequence_and_old_news_is_not_handled_again(
    tg: FakeBotApi, poll: Any
) -> None:
    journal = MemoryJournal()
    journal.open()
    first = [tg.inject_message(1, t)["update_id"] for t in ("a", "b")]
    poller, sink, _, _ = poll(journal=journal)
    eventually(lambda: len(flat(sink)) == 2, what="the first batch")
    offset = poller.offset
    assert offset == first[-1] + 1
    # The faults below answer without the fake's own getUpdates, so they confirm nothing:
    # wait until a real poll confirmed the first batch, or a later poll gets it again.
    eventually(lambda: tg.confirmed_offset == offset, what="the first batch confirmed")
    # Telegram sends an update it already confirmed: recorded before, so not handed over.
    tg.add_fault(Fault(method="getUpdates", times=1, body={"ok": True, "result": [
        _msg(first[0])]}))
    with capture_logs() as logs:
        eventually(lambda: any(e["event"] == "poller.no_progress" for e in logs),
                   what="the stale batch seen")
    assert len(flat(sink)) == 2
    assert poller.offset == offset
    # After a week without updates Telegram starts from a random, lower update_id.
    tg.add_fault(Fault(method="getUpdates", times=1, body={"ok": True, "result": [
        _msg(7), _msg(8)]}))
    eventually(lambda: len(flat(sink)) == 4, what="the new sequence")
    assert [u["update_id"] for u in flat(sink)[2:]] == [7, 8]
    assert poller.offset == 9
    assert journal.stats.duplicates == 1


def test_lower_ids_after_a_jump_are_handed_over_logged_and_counted(
    tg: FakeBotApi, poll: Any
) -> None:
    journal = MemoryJournal()
    journal.open()
    tg.add_fault(Fault(method="getUpdates", times=1, body={"ok": True, "result": [
        _msg(1000)]}))
    poller, sink, _, _ = poll(journal=journal)
    eventually(lambda: len(flat(sink)) == 1, what="the jump")
    with capture_logs() as logs:
        tg.add_fault(Fault(method="getUpdates", times=1, body={"ok": True, "result": [
            _msg(999), _msg(1000), _msg(1001)]}))
        eventually(lambda: len(flat(sink)) == 3, what="the late newcomer and the next one")
    assert [u["update_id"] for u in flat(sink)] == [1000, 999, 1001]
    assert poller.stats.below_offset == 2  # 999 and the duplicate 1000
    assert poller.stats.fetched == 3  # what was handed over, as the router saw it
    assert journal.stats.duplicates == 1
    (warning,) = [e for e in logs if e["event"] == "poller.below_offset"]
    assert (warning["offset"], warning["updates"]) == (1001, 2)
