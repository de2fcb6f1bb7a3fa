"""Scale-out under failures, with worker and intake processes (``actorbot worker`` and
``actorbot intake``) against a real redis-server and the fake Bot API in this process.

Each test asserts exact outcomes: every update answered, per-chat order of first
answers, duplicates only among the entries the killed worker had read and not
acknowledged (read from Redis right after the kill, before anyone claims them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from actorbot.cluster import GROUP, Cluster
from actorbot.testing import FakeBotApi
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 12
LEASE_TTL = 3.0
CLUSTER = Cluster(partitions=PARTITIONS, lease_ttl=LEASE_TTL)


class Process:
    """``python -m actorbot ARGS`` with the fake's token; SIGKILL or SIGTERM it."""

    def __init__(self, tg: FakeBotApi, *args: str, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": tg.token, "PYTHONPATH": str(ROOT),
               **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actorbot", *args, "--api-url", tg.base_url,
             "--partitions", str(PARTITIONS), "--lease-ttl", str(LEASE_TTL),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=30)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err


def worker(tg: FakeBotApi, url: str, target: str = "tests.bots.cluster_bot:Counter") -> Process:
    return Process(tg, "worker", target, "--redis", url, "--no-rate-limits",
                   "--stats-interval", "0")


def intake(tg: FakeBotApi, url: str) -> Process:
    return Process(tg, "intake", "--redis", url, "--poll-timeout", "1")


@pytest.fixture
def tg() -> Iterator[FakeBotApi]:
    with FakeBotApi(latency=0.002) as server:  # a round trip keeps replies in flight
        yield server


@pytest.fixture
def client(redis_url: str) -> Iterator[Any]:
    import redis

    conn: Any = redis.Redis.from_url(redis_url, decode_responses=True)
    yield conn
    conn.close()


def owners(client: Any, tg: FakeBotApi) -> list[str | None]:
    keys = CLUSTER.keys(tg.token)
    return [client.get(keys.lease(p)) for p in range(PARTITIONS)]


def wait_spread(client: Any, tg: FakeBotApi, procs: list[Process]) -> None:
    """Until every partition is held and every process holds some."""
    def spread() -> bool:
        held = owners(client, tg)
        return None not in held and all(
            any(f"-{p.pid}-" in (o or "") for o in held) for p in procs)
    eventually(spread, 60, "partitions spread over the workers", interval=0.05)


def in_flight_of(client: Any, tg: FakeBotApi, pid: int) -> set[int]:
    """The update_ids the worker ``pid`` had read and not acknowledged."""
    keys = CLUSTER.keys(tg.token)
    found: set[int] = set()
    for p in range(PARTITIONS):
        stream = keys.stream(p)
        for consumer in client.xinfo_consumers(stream, GROUP):
            if f"-{pid}-" not in consumer["name"]:
                continue
            pending = client.xpending_range(stream, GROUP, "-", "+", 1_000_000,
                                            consumername=consumer["name"])
            for item in pending:
                for _, fields in client.xrange(stream, item["message_id"], item["message_id"]):
                    found.add(json.loads(fields["u"])["update_id"])
    return found


def answers(tg: FakeBotApi) -> list[tuple[int, str]]:
    return [(call.params["chat_id"], call.params["text"]) for call in tg.calls_to("sendMessage")]


def test_a_worker_killed_mid_run_loses_nothing_keeps_order_and_state(
    tg: FakeBotApi, redis_url: str, client: Any
) -> None:
    chats, per_chat = 500, 40  # 20,000 updates
    feeder = intake(tg, redis_url)
    workers = [worker(tg, redis_url) for _ in range(3)]
    wait_spread(client, tg, workers)
    ids: dict[str, int] = {}
    for i in range(per_chat):
        for chat in range(1, chats + 1):
            ids[f"{chat}:{i}"] = tg.inject_message(chat, f"{chat}:{i}")["update_id"]
    eventually(lambda: len(tg.calls_to("sendMessage")) >= 6000, 180, "6,000 answers",
               interval=0.02)
    victim = workers.pop(0)
    victim.kill()
    in_flight = in_flight_of(client, tg, victim.pid)
    workers.append(worker(tg, redis_url))

    def first_answers() -> set[str]:
        return {text.rsplit(" ", 1)[0] for _, text in answers(tg)}
    eventually(lambda: len(first_answers()) >= chats * per_chat, 300,
               "every update answered", interval=0.2)
    wait_spread(client, tg, workers)  # the new worker got its share
    for proc in workers:
        proc.terminate()
    feeder.terminate()

    sent = answers(tg)
    texts = Counter(text.rsplit(" ", 1)[0] for _, text in sent)
    assert set(texts) == set(ids), "an update was lost"
    duplicated = {ids[text] for text, n in texts.items() if n > 1}
    assert duplicated <= in_flight, "a duplicate of an update that was not in flight"
    by_chat: defaultdict[int, list[str]] = defaultdict(list)
    for chat, text in sent:
        message = text.rsplit(" ", 1)[0]
        if message not in by_chat[chat]:
            by_chat[chat].append(message)
    for chat in range(1, chats + 1):
        assert by_chat[chat] == [f"{chat}:{i}" for i in range(per_chat)], chat
    state = stored_counts(redis_url, tg)
    for chat in range(1, chats + 1):  # the state went with each XACK: exactly once
        assert state[chat] == per_chat, f"chat {chat}: state is not exact"
    assert in_flight, "the kill hit no update in flight: the test proved nothing"
    takeovers = int(client.get(CLUSTER.keys(tg.token).takeovers) or 0)
    assert takeovers >= 1, "the killed worker's partitions were not taken over"


def stored_counts(url: str, tg: FakeBotApi) -> dict[int, int]:
    from actorbot.state import RedisStore

    store = RedisStore(url, prefix=f"{CLUSTER.keys(tg.token).prefix}:state:")
    try:
        found = {}
        for record in store.records():
            assert record.data is not None
            found[int(record.seed)] = json.loads(record.data)["n"]
        return found
    finally:
        store.close()


def load_across(tg: FakeBotApi, chats: int, per_chat: int, *, kill: Callable[[], None],
                until: Callable[[], bool], what: str) -> None:
    """Inject the first half of ``per_chat`` rounds (one message per chat each), call
    ``kill`` once ``until`` holds, then inject the rest: the kill lands mid-load, with
    updates still queued and in flight, and more arrive after it."""
    half = per_chat // 2
    for i in range(half):
        for chat in range(1, chats + 1):
            tg.inject_message(chat, f"{chat}:{i}")
    eventually(until, 120, what, interval=0.005)
    kill()
    for i in range(half, per_chat):
        for chat in range(1, chats + 1):
            tg.inject_message(chat, f"{chat}:{i}")


def test_the_intake_killed_and_restarted_loses_nothing(
    tg: FakeBotApi, redis_url: str, client: Any
) -> None:
    """Two intakes: the leader polls, the other waits. SIGKILL the leader mid-load: the
    standby takes over from the stored offset; a restarted one waits in turn. Every
    update is answered exactly once (appends are deduplicated by update_id)."""
    chats, per_chat = 100, 30
    workers = [worker(tg, redis_url, "tests.bots.cluster_bot:Echo") for _ in range(2)]
    intakes = [intake(tg, redis_url), intake(tg, redis_url)]
    leader_key = CLUSTER.keys(tg.token).leader

    def leader() -> Process:
        eventually(lambda: client.get(leader_key) is not None, 30, "a leader", interval=0.02)
        name = client.get(leader_key) or ""
        return next(p for p in intakes if f"-{p.pid}-" in name)

    def kill() -> None:
        first = leader()
        first.kill()
        intakes.remove(first)
        intakes.append(intake(tg, redis_url))  # the restarted one: now the standby

    load_across(tg, chats, per_chat, kill=kill,
                until=lambda: len(tg.calls_to("sendMessage")) >= 500, what="500 answers")
    eventually(lambda: len(tg.calls_to("sendMessage")) >= chats * per_chat, 120,
               "every update answered", interval=0.05)
    assert leader() in intakes  # one of the live two took over (first to ask after expiry)
    for proc in [*intakes, *workers]:
        proc.terminate()
    for chat in range(1, chats + 1):
        assert tg.sent_texts(chat) == [f"{chat}:{i}" for i in range(per_chat)], chat
    assert len(tg.calls_to("sendMessage")) == chats * per_chat


def test_a_webhook_intake_killed_and_restarted_loses_nothing(
    tg: FakeBotApi, redis_url: str, client: Any
) -> None:
    """``actorbot intake --webhook-url``: SIGKILL it mid-load and start it again on the
    same port. A request it died before answering is sent again by Telegram (the fake
    retries, one chat's updates in order); one appended but not yet answered is appended
    once (deduplicated by update_id). Every update answered exactly once, in order."""
    chats, per_chat = 100, 30
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    flags = ("--webhook-url", f"http://127.0.0.1:{port}/hook",
             "--webhook-listen", f"127.0.0.1:{port}")
    secret = {"TELEGRAM_WEBHOOK_SECRET": "the-Webhook-secret"}
    workers = [worker(tg, redis_url, "tests.bots.cluster_bot:Echo") for _ in range(2)]
    feeder = Process(tg, "intake", "--redis", redis_url, *flags, env=secret)
    eventually(lambda: tg.webhook_secret() == secret["TELEGRAM_WEBHOOK_SECRET"], 30,
               "the webhook set", interval=0.02)

    keys = CLUSTER.keys(tg.token)
    feeders = [feeder]
    appended = 0

    def kill() -> None:
        nonlocal appended
        feeders[0].kill()
        appended = sum(client.xlen(keys.stream(p)) for p in range(PARTITIONS))
        feeders[0] = Process(tg, "intake", "--redis", redis_url, *flags, env=secret)

    load_across(tg, chats, per_chat, kill=kill,  # while the first half is delivered
                until=lambda: tg.stats.get("webhook_delivered", 0) >= 300, what="300 deliveries")
    eventually(lambda: len(tg.calls_to("sendMessage")) >= chats * per_chat, 120,
               "every update answered", interval=0.05)
    for proc in [*feeders, *workers]:
        proc.terminate()
    for chat in range(1, chats + 1):
        assert tg.sent_texts(chat) == [f"{chat}:{i}" for i in range(per_chat)], chat
    assert len(tg.calls_to("sendMessage")) == chats * per_chat
    assert 300 <= appended < chats * per_chat // 2  # some of the first half not yet in
    stats = tg.stats
    assert stats["webhook_failed"] > 0, "no request failed: the kill proved nothing"
    assert stats["webhook_delivered"] == chats * per_chat  # each one answered 200 once
    assert tg.calls_to("getUpdates") == []  # no polling
