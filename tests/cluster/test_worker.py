"""Workers in this process: partition hand-over, state following the chat, the shared
rate budget against the fake's strict flood control, routes refused."""

from __future__ import annotations

import time
from typing import Any

import pytest

from actorbot import Polling, RateLimits, Route, per_chat_id, per_from_id
from actorbot.cluster import Cluster, Intake, Worker
from actorbot.errors import ConfigError
from actorbot.seeds import per_application
from actorbot.sending import LocalLimiter, Sending
from actorbot.testing import FakeBotApi
from tests.bots.cluster_bot import Counter, Echo
from tests.helpers import eventually

FAST = Cluster(partitions=2, lease_ttl=1.5, block=0.1)
SLOW = Cluster(partitions=2, lease_ttl=6.0, block=0.1)
"""Leases far longer than a keeper's tick (2 s): a hand-over faster than that waited for
no expiry."""


def make_worker(tg: FakeBotApi, url: str, cluster: Cluster = FAST, handler: Any = Counter,
                **options: Any) -> Worker:
    options.setdefault("sending", Sending(limits=RateLimits.unlimited()))
    return Worker(tg.token, [Route(per_chat_id(), handler)], redis=url, cluster=cluster,
                  connection=tg.connection, stats_interval=None, **options)


def make_intake(tg: FakeBotApi, url: str, cluster: Cluster = FAST) -> Intake:
    return Intake(tg.token, redis=url, cluster=cluster, intake=Polling(timeout=1),
                  connection=tg.connection)


def chat_in(cluster: Cluster, partition: int) -> int:
    return next(c for c in range(1, 1000)
                if cluster.partition_of({"update_id": 1, "message": {"chat": {"id": c}}})
                == partition)


def test_state_follows_the_chat_to_another_worker_and_back(
    tg: FakeBotApi, redis_url: str, no_thread_left: None
) -> None:
    chat = chat_in(SLOW, 1)  # the partition a second worker gets (the highest goes)
    intake = make_intake(tg, redis_url, SLOW).start()
    first = make_worker(tg, redis_url, SLOW).start()
    try:
        eventually(lambda: first.partitions == [0, 1], 10, "the first worker holds all")
        for i in range(3):
            tg.inject_message(chat, f"a{i}")
        eventually(lambda: len(tg.sent_texts(chat)) == 3, 10, "3 answers")
        second = make_worker(tg, redis_url, SLOW).start()
        eventually(lambda: second.partitions == [1] and first.partitions == [0], 10,
                   "partition 1 handed over")
        for i in range(3):
            tg.inject_message(chat, f"b{i}")
        eventually(lambda: len(tg.sent_texts(chat)) == 6, 10, "6 answers")
        assert second.stats()["cluster_fed"] == 3
        stopping = time.monotonic()
        second.stop()  # graceful: hands partition 1 back at once, no lease expiry
        eventually(lambda: first.partitions == [0, 1], 10, "partition 1 back")
        assert time.monotonic() - stopping < SLOW.lease_ttl  # did not wait for expiry
        for i in range(3):
            tg.inject_message(chat, f"c{i}")
        eventually(lambda: len(tg.sent_texts(chat)) == 9, 10, "9 answers")
        stats = first.stats()
    finally:
        first.stop()
        intake.stop()
    assert tg.sent_texts(chat) == [
        f"{p}{i} {n}" for n, (p, i) in enumerate(
            [(p, i) for p in "abc" for i in range(3)], start=1)]
    assert stats["cluster_takeovers"] == 0  # every move was a hand-over
    assert stats["cluster_handed_over"] == 1


def flood(redis_url: str, limiter: Any = None) -> tuple[FakeBotApi, list[int]]:
    """Three workers answer 120 messages in 60 private chats against the fake's strict
    flood control (defaults: 1/s per chat with a burst, 30 in any second overall): the
    fake to count 429s in, and how many updates each worker was fed."""
    cluster = Cluster(partitions=6, lease_ttl=1.5, block=0.1)
    with FakeBotApi(flood_control=True) as tg:
        intake = make_intake(tg, redis_url, cluster).start()
        workers = [make_worker(tg, redis_url, cluster, Echo,
                               sending=Sending(limiter=limiter and limiter()))
                   .start() for _ in range(3)]
        try:
            eventually(lambda: all(w.partitions for w in workers), 15, "all three serve")
            for i in range(2):
                for chat in range(1, 61):
                    tg.inject_message(chat, f"{chat}:{i}")
            eventually(lambda: len({(c.params["chat_id"], c.params["text"])
                                    for c in tg.calls_to("sendMessage")
                                    if c.status == 200}) >= 120, 60, "120 answers")
            fed = [w.stats()["cluster_fed"] for w in workers]
        finally:
            for w in workers:
                w.stop()
            intake.stop()
    return tg, fed


def test_three_workers_share_one_rate_budget_no_429(
    redis_url: str, no_thread_left: None
) -> None:
    tg, fed = flood(redis_url)  # the default: a RedisLimiter per worker, one budget
    assert tg.count_429 == 0
    assert len(tg.calls_to("sendMessage")) == 120
    assert all(fed), fed  # each worker had its share


def test_three_workers_each_on_its_own_budget_get_429s(redis_url: str) -> None:
    """The control: local limiters, 29/s each, overrun the bot-wide 30/s."""
    tg, _ = flood(redis_url, lambda: LocalLimiter(RateLimits()))
    assert tg.count_429 > 0


def test_routes_whose_seed_does_not_follow_the_partition_key_are_refused(
    tg: FakeBotApi, redis_url: str
) -> None:
    for seed in (per_from_id(), per_application(), lambda update: 1):
        with pytest.raises(ConfigError, match="partitioned by chat id"):
            Worker(tg.token, [Route(seed, Echo)], redis=redis_url)
    with pytest.raises(ConfigError, match="partitioned by user id"):
        Worker(tg.token, [Route(per_chat_id(), Echo)], redis=redis_url,
               cluster=Cluster(partition_by="user"))
    Worker(tg.token, [Route(per_from_id(), Echo)], redis=redis_url,
           cluster=Cluster(partition_by="user"))  # accepted
