"""QueueSource: a queue or any iterable into engine.feed, optionally through a Reorderer."""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from typing import Any, ClassVar

import pytest

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.intake import QueueSource, Reorderer
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine

pytestmark = pytest.mark.usefixtures("no_thread_left")


def test_a_queue_is_drained_in_order_and_stop_feeds_what_came_before() -> None:
    q: queue.Queue[Any] = queue.Queue()
    out: list[Any] = []
    source = QueueSource(q, out.append).start()
    for i in range(100):
        q.put(i)
    assert source.stop(10)
    assert out == list(range(100))
    assert source.fed == 100
    assert source.error is None
    assert not source.running
    assert repr(source) == "QueueSource(name='actorbot-source', stopped, fed=100)"


def test_an_iterable_ends_the_thread_when_exhausted() -> None:
    out: list[Any] = []
    source = QueueSource(iter(range(5)), out.append, name="test-source").start()
    assert source.join(10)
    assert out == [0, 1, 2, 3, 4]


def test_stopping_an_iterable_keeps_the_next_item() -> None:
    gate = threading.Event()
    out: list[Any] = []

    def items() -> Any:
        yield 1
        gate.wait(10)
        yield 2
        yield 3

    source = QueueSource(items(), out.append).start()
    eventually(lambda: out == [1], 10, "the first item")
    assert not source.stop(0)  # asked while the iterable is waiting for its next item
    gate.set()
    assert source.join(10)
    assert out == [1]
    assert source.unhandled == 2


def test_a_refusing_sink_stops_the_source_and_keeps_the_update() -> None:
    q: queue.Queue[Any] = queue.Queue()
    for i in range(5):
        q.put(i)

    def sink(item: int) -> None:
        if item == 2:
            raise RuntimeError("engine is stopped")

    source = QueueSource(q, sink).start()
    assert source.join(10)
    assert source.fed == 2
    assert source.unhandled == 2
    assert isinstance(source.error, RuntimeError)
    assert [q.get_nowait() for _ in range(q.qsize())] == [3, 4]
    assert source.stop(1)
    with pytest.raises(RuntimeError, match="runs once"):
        source.start()


class Recorder(ChatHandler):
    lock = threading.Lock()
    seen: ClassVar[defaultdict[int, list[int]]] = defaultdict(list)

    def on_message(self, update: Any) -> None:
        with self.lock:
            self.seen[self.chat_id].append(update["update_id"])


def test_an_unordered_source_through_a_reorderer_into_the_engine(tg: FakeBotApi) -> None:
    Recorder.seen.clear()
    engine = make_engine(tg, [Route(per_chat_id(), Recorder)], intake=None)
    q: queue.Queue[Any] = queue.Queue()
    ids = list(range(1000, 1300))
    shuffled = ids[:]
    for i in range(0, len(shuffled) - 4, 5):  # a consumer that reorders within a window
        shuffled[i:i + 5] = reversed(shuffled[i:i + 5])
    with engine:
        reorderer = Reorderer(engine.feed, clock=engine.clock, max_hold=5.0)
        source = QueueSource(q, reorderer).start()
        q.put({"update_id": 999, "message": {"message_id": 1, "date": 0, "text": "start",
                                             "chat": {"id": 7, "type": "private"}}})
        for uid in shuffled:
            q.put({"update_id": uid, "message": {"message_id": uid, "date": 0, "text": "x",
                                                 "chat": {"id": 7 + uid % 3, "type": "private"}}})
        eventually(lambda: sum(map(len, Recorder.seen.values())) == 301, 30, "every update")
        assert source.stop(10)
        reorderer.close()
    for chat in (7, 8, 9):
        assert Recorder.seen[chat] == sorted(Recorder.seen[chat])
    assert sorted(u for seen in Recorder.seen.values() for u in seen) == [999, *ids]
    assert reorderer.stats.late == 0
    assert reorderer.stats.skipped == 0


def test_a_failing_iterable_is_kept_in_error() -> None:
    def items() -> Any:
        yield 1
        raise ConnectionError("broker gone")

    out: list[Any] = []
    source = QueueSource(items(), out.append).start()
    assert source.join(10)
    assert out == [1]
    assert isinstance(source.error, ConnectionError)
    assert source.unhandled is None


def test_a_new_source_resumes_the_queue_an_ended_one_left() -> None:
    q: queue.Queue[Any] = queue.Queue()
    for i in range(5):
        q.put(i)
    refused: list[Any] = []

    def sink(item: int) -> None:
        if item == 2:
            raise RuntimeError("engine is stopped")
        refused.append(item)

    first = QueueSource(q, sink).start()
    assert first.join(10)
    assert first.stop(1)  # after it ended on its own: nothing is left in the queue
    q.put(first.unhandled)  # the source takes the update back...
    out: list[Any] = []
    second = QueueSource(q, out.append).start()  # ...and a new source carries on
    q.put(5)
    eventually(lambda: len(out) == 4, 10, "the rest of the queue")
    assert second.stop(10)
    assert out == [3, 4, 2, 5]
    assert q.empty()
