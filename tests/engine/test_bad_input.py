"""Malformed updates mixed into good batches: skipped and logged (without their text),
while the engine keeps running and handles every good update of the same batch."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from actorbot import seeds
from actorbot.engine._engine import Engine
from actorbot.handlers._handler import ChatHandler
from actorbot.intake import Polling
from actorbot.routing._router import Route
from actorbot.testing import FakeBotApi

SECRET = "SECRET-TEXT-that-must-never-be-logged"


class Collector(ChatHandler):
    lock = threading.Lock()
    seen: ClassVar[list[int]] = []

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append(msg["message_id"])


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[FakeBotApi, Engine]]:
    with FakeBotApi() as tg:
        engine = Engine(
            tg.token, [Route(seeds.per_chat_id(), Collector)], intake=Polling(timeout=1),
            connection=tg.connection, stats_interval=None,
        )
        with engine:
            yield tg, engine


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      st.text(max_size=5).map(lambda t: SECRET + t))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=8,
)
wrong_ids = st.one_of(st.none(), st.text(max_size=3), st.booleans(), st.floats(),
                      st.lists(st.integers(), max_size=2),
                      st.dictionaries(st.text(), st.integers()))
junk = st.one_of(
    json_value,  # non-dicts and random dicts
    st.builds(lambda v: {"message": v}, json_value),  # a message that is not a Message
    st.builds(lambda c: {"message": {"text": SECRET, "chat": c}}, json_value),
    st.builds(lambda i: {"message": {"text": SECRET, "chat": {"id": i, "type": "private"}}},
              wrong_ids),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["brand_new_type", "x", "update"]),
              json_value),
    st.builds(lambda i: {"callback_query": {"from": {"id": i}, "data": SECRET}}, wrong_ids),
    st.just({"message": {"text": SECRET * 30_000, "chat": []}}),  # huge and malformed
)

_ids = itertools.count(1)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad=st.lists(junk, min_size=1, max_size=6), good_count=st.integers(1, 5),
       data=st.data())
def test_bad_updates_are_skipped_and_good_ones_handled(
    running: tuple[FakeBotApi, Engine], bad: list[Any], good_count: int, data: st.DataObject
) -> None:
    tg, engine = running
    good = [{"message": {"message_id": next(_ids), "date": 0, "text": SECRET,
                         "chat": {"id": 5_000_000 + i % 3, "type": "private"}}}
            for i in range(good_count)]
    batch: list[Any] = list(good)
    for item in bad:
        batch.insert(data.draw(st.integers(0, len(batch) - 1)), item)  # a good one stays last
    want = sorted(u["message"]["message_id"] for u in good)
    with capture_logs() as logs:
        tg.inject_updates(batch)
        deadline = time.monotonic() + 30
        while not set(want) <= set(Collector.seen):
            assert time.monotonic() < deadline, "good updates were not handled"
            time.sleep(0.002)
    assert engine.status == "connected"
    with Collector.lock:
        handled = [i for i in Collector.seen if i in set(want)]
    assert sorted(handled) == want  # each good update exactly once
    assert SECRET not in repr(logs)
    skips = [e for e in logs if e["event"] in ("router.malformed_update", "router.no_route")]
    assert len(skips) == sum(1 for item in bad if seeds.per_chat_id()(item) is None)
