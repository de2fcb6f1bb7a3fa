"""Intake -> partitions -> workers, in one process: every update answered once, in order."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from actorbot import ChatHandler, Polling, RateLimits, Route, Webhook, per_chat_id
from actorbot.cluster import Cluster, Intake, Worker, serve_worker_metrics
from actorbot.errors import PollingStopped
from actorbot.sending import Sending
from actorbot.testing import FakeBotApi
from tests.helpers import eventually

CLUSTER = Cluster(partitions=8, lease_ttl=1.5, block=0.1)
AWAY = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg["text"])


def worker(tg: FakeBotApi, url: str) -> Worker:
    return Worker(tg.token, [Route(per_chat_id(), Echo)], redis=url, cluster=CLUSTER,
                  connection=tg.connection, sending=Sending(limits=RateLimits.unlimited()),
                  stats_interval=None)


def test_two_workers_answer_every_update_once_in_order(tg: FakeBotApi, redis_url: str) -> None:
    intake = Intake(tg.token, redis=redis_url, cluster=CLUSTER,
                    intake=Polling(timeout=1), connection=tg.connection).start()
    workers = [worker(tg, redis_url).start() for _ in range(2)]
    try:
        for i in range(20):
            for chat in range(1, 21):
                tg.inject_message(chat, f"{chat}:{i}")
        eventually(lambda: len(tg.calls_to("sendMessage")) >= 400, 30, "400 answers")
        for chat in range(1, 21):
            assert tg.sent_texts(chat) == [f"{chat}:{i}" for i in range(20)]
        eventually(lambda: sorted(workers[0].partitions + workers[1].partitions)
                   == list(range(8)), 10, "every partition owned")
        scraped, parts = scrape(workers[0]), workers[0].partitions
    finally:
        for w in workers:
            w.stop()
        intake.stop()
    assert len(tg.calls_to("sendMessage")) == 400
    held = [line for line in scraped.splitlines()
            if line.startswith("actorbot_cluster_partition_held{")]
    assert len(held) == len(parts) > 0
    assert "actorbot_cluster_takeovers_total 0.0" in scraped
    assert "actorbot_cluster_fed_total" in scraped
    assert "actorbot_sender_calls_total" in scraped  # the engine's own metrics too


def scrape(w: Worker) -> str:
    import httpx

    server = serve_worker_metrics(w, 0)
    try:
        return httpx.get(server.url).text
    finally:
        server.stop()


def test_webhook_intakes_append_each_update_once(tg: FakeBotApi, redis_url: str) -> None:
    """Two webhook processes may get the same update (Telegram's retry): appended once."""
    intakes = [Intake(tg.token, redis=redis_url, cluster=CLUSTER,
                      intake=Webhook("https://bot.example/hook"),
                      connection=tg.connection).start() for _ in range(2)]
    w = worker(tg, redis_url).start()
    try:
        updates = [{"update_id": 1000 + n, "message": {
            "message_id": n, "date": 0, "text": f"{chat}:{i}",
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "u"}}}
            for n, (i, chat) in enumerate((i, chat) for i in range(5) for chat in (1, 2))]
        for update in updates:
            intakes[0].feed(update)
            intakes[1].feed(update)  # the retry, to the other process
        eventually(lambda: len(tg.calls_to("sendMessage")) >= 10, 10, "10 answers")
        w.stop()
        assert [i.journal.appended for i in intakes] == [10, 0]
    finally:
        w.stop()
        for intake in intakes:
            intake.stop()
    for chat in (1, 2):
        assert tg.sent_texts(chat) == [f"{chat}:{i}" for i in range(5)]


def test_an_intake_whose_token_is_refused_stops_and_says_why(redis_url: str) -> None:
    with FakeBotApi() as tg:
        bad = Intake("999:wrong", redis=redis_url, cluster=CLUSTER, intake=Polling(timeout=1),
                     connection=tg.connection).start()
        eventually(lambda: bad.error is not None, 10, "the refusal")
        bad.stop()
    assert isinstance(bad.error, PollingStopped)
    assert "refused the token" in str(bad.error)


def test_an_intake_started_while_redis_is_away_warns_and_runs_on() -> None:
    """Redis away at start (a typo in the URL, an outage): the intake warns and keeps
    trying, as workers do; no exception out of ``start()``, and ``stop()`` ends it."""
    with FakeBotApi() as tg, capture_logs() as logs:
        polling = Intake(tg.token, redis=AWAY, cluster=CLUSTER, intake=Polling(timeout=1),
                         connection=tg.connection).start()
        hook = Intake(tg.token, redis=AWAY, cluster=CLUSTER, connection=tg.connection,
                      intake=Webhook("https://bot.example/hook")).start()
        eventually(lambda: any(e.get("during") == "acquire" for e in logs), 10,
                   "the lease asked for again")
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                                              "chat": {"id": 1, "type": "private"}}}
        with pytest.raises(redis.ConnectionError):  # the webhook app answers it 5xx
            hook.feed(update)
        polling.stop()
        hook.stop()
    assert not polling.leader  # it never got the lease, so it never polled
    assert tg.calls_to("getUpdates") == []
    assert any(e.get("during") == "create groups" for e in logs)  # the webhook's start
