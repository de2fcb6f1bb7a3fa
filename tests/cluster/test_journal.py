"""The cluster's journals: the intake's fenced appender, the worker's entry map."""

from __future__ import annotations

from typing import Any

import pytest

from actorbot.cluster import Appender, Cluster, StreamJournal, connect
from actorbot.errors import LeaseLost

CLUSTER = Cluster(partitions=4)
KEYS = CLUSTER.keys("42:x")


def message(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": "t"}}


def test_the_appender_appends_once_stores_the_offset_and_is_fenced(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        client.set(KEYS.leader, "me")
        appender = Appender(client, CLUSTER, KEYS, "me")
        batch = [message(100 + i, chat) for i, chat in enumerate((1, 2, 3, 1))]
        assert appender.record(batch, offset=104) == []  # nothing to route at the intake
        assert appender.record(batch[2:], offset=104) == []  # re-fetched: not appended again
        assert appender.appended == 4
        assert appender.stats.duplicates == 2
        assert appender.next_offset() == 104
        streams = [client.xrange(KEYS.stream(p)) for p in range(CLUSTER.partitions)]
        assert sum(len(s) for s in streams) == 4
        ones = [p for p in range(4) if any('"id":1}' in e[1]["u"] for e in streams[p])]
        assert ones == [CLUSTER.partition_of(batch[0])]  # one chat, one partition
        restarted = [message(7, 1)]  # Telegram's ids started over: the poller must move on
        assert appender.record(restarted, offset=8) == restarted
        client.set(KEYS.leader, "another")
        with pytest.raises(LeaseLost):
            appender.record([message(200, 1)], offset=201)
        assert appender.next_offset() == 8  # the fenced batch changed nothing
    finally:
        client.close()


def test_the_stream_journal_finishes_entries_when_the_engine_acks() -> None:
    done: list[list[tuple[int, str]]] = []
    journal = StreamJournal(done.append, done.append)
    assert journal.expect(0, [("1-0", message(1, 5)), ("1-1", message(2, 5)),
                              ("1-2", {"no": "id"})]) == [(0, "1-2")]
    assert journal.record([message(1, 5), message(2, 5)]) == [message(1, 5), message(2, 5)]
    assert done == []  # pending until acknowledged
    journal.ack(2)
    assert done == [[(0, "1-1")]]
    journal.expect(1, [("9-0", message(2, 5))])  # a copy of a finished update: done at once
    assert journal.record([message(2, 5)]) == []
    assert done[-1] == [(1, "9-0")]
    journal.expect(0, [("2-0", message(3, 5))])
    assert journal.forget([message(3, 5)]) == [(0, "2-0")]  # not fed after all
    journal.expect(0, [("3-0", message(4, 5))])
    journal.record([message(4, 5)], keep=lambda update: False)  # at-most-once
    assert done[-1] == [(0, "3-0")]
