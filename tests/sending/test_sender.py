"""The sender against the fake server with strict flood control and fault injection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import Client
from actorbot.errors import ConnectionLost
from actorbot.runtime import Backoff, Clock
from actorbot.sending import (
    CallOptions,
    RateLimits,
    Sender,
    SenderHandle,
    SenderQueueFull,
    Sending,
    TooLate,
)
from actorbot.sending._sender import is_idempotent
from actorbot.testing import FakeBotApi, Fault, FloodLimits
from tests.helpers import eventually

pytestmark = pytest.mark.usefixtures("no_thread_left")

# Telegram's shape, time scaled 20x so that thousands of messages take seconds: windows of
# 3 s per group and 50 ms overall, 20 and 30 on the server, 19 and 29 in the sender (the
# default limits themselves are tested on virtual time in test_sender_scale.py).
SERVER = FloodLimits(private_per_s=20, private_burst=3, group_per_min=400, global_per_s=600,
                     group_window=3.0, global_window=0.05)
CLIENT = RateLimits(private_per_s=19, private_burst=2, group_per_min=380, group_window=3.0,
                    global_per_s=580, global_window=0.05, margin=0.001)

SENDING_FIELDS = frozenset(Sending.__dataclass_fields__)


@pytest.fixture
def start(tg: FakeBotApi) -> Iterator[Any]:
    started: list[tuple[Sender, Clock, Client]] = []

    def make(**options: Any) -> tuple[Sender, SenderHandle]:
        client = Client(tg.token, base_url=tg.base_url, read_timeout=options.pop("read", 5))
        clock = Clock()
        clock.start()
        settings = {k: options.pop(k) for k in SENDING_FIELDS if k in options}
        settings.setdefault("backoff", Backoff(initial=0.01))
        settings.setdefault("limits", CLIENT)
        sender = Sender(client, clock, Sending(**settings), **options)
        sender._start_actor_loop()
        started.append((sender, clock, client))
        return sender, SenderHandle.of(sender)

    yield make
    for sender, clock, client in started:
        sender.actor_ref.stop(timeout=30)
        clock.stop(5)
        client.close()


def texts(tg: FakeBotApi, chat: int) -> list[str]:
    return tg.sent_texts(chat)


def test_500_chats_x_10_exactly_once_in_order_without_429(tg: FakeBotApi, start: Any) -> None:
    tg.flood_limits = SERVER
    tg.flood_control = True
    _, handle = start()
    futures = [handle.submit("sendMessage", {"chat_id": 1000 + c, "text": str(i)})
               for i in range(10) for c in range(500)]
    for future in futures:
        future.get(timeout=120)
    assert tg.count_429 == 0
    assert len(tg.calls_to("sendMessage")) == 5000
    expected = [str(i) for i in range(10)]
    assert [c for c in range(500) if texts(tg, 1000 + c) != expected] == []


def test_a_429_pauses_only_the_chat_that_got_it(tg: FakeBotApi, start: Any) -> None:
    tg.add_fault(Fault(method="sendMessage", chat_id=1, status=429, retry_after=1, times=1))
    sender, handle = start(limits=RateLimits.unlimited())
    futures = [handle.submit("sendMessage", {"chat_id": 1, "text": str(i)}) for i in range(3)]
    futures += [handle.submit("sendMessage", {"chat_id": c, "text": str(i)})
                for i in range(5) for c in range(2, 6)]
    for future in futures:
        future.get(timeout=30)
    assert texts(tg, 1) == ["0", "1", "2"]
    calls = tg.calls_to("sendMessage")
    first_try, retry = [c.time for c in calls if c.params["chat_id"] == 1][:2]
    others = [c.time for c in calls if c.params["chat_id"] != 1]
    assert retry - first_try >= 1.0  # the same call, retried after retry_after
    assert max(others) < retry  # every other chat went on meanwhile
    assert sender.stats.rate_limited == 1


def test_5xx_and_dropped_connections_lose_and_duplicate_nothing(
    tg: FakeBotApi, start: Any
) -> None:
    tg.add_fault(Fault(method="sendMessage", status=502, probability=0.3))
    tg.add_fault(Fault(method="sendMessage", drop="before", probability=0.1))
    tg.add_fault(Fault(method="editMessageText", drop="after", probability=0.3))
    tg.add_fault(Fault(method="editMessageText", status=500, probability=0.2))
    _, handle = start(limits=RateLimits.unlimited(), max_retries=30)
    sent = {(c, i): handle.submit("sendMessage", {"chat_id": c, "text": f"m{c}-{i}"})
            for i in range(10) for c in range(1, 21)}
    messages, lost = [], []
    for key, future in sent.items():
        try:
            messages.append(future.get(timeout=60))
        except ConnectionLost:  # may have reached Telegram: not repeated, but reported
            lost.append(key)
    assert lost  # the drops happened ...
    assert len(messages) > 150  # ... and the 5xx were retried
    for c in range(1, 21):  # each delivered message once, in order; none silently missing
        assert texts(tg, c) == [f"m{c}-{i}" for i in range(10) if (c, i) not in lost]
    edits = [handle.submit("editMessageText", {"chat_id": m["chat"]["id"],
                                               "message_id": m["message_id"], "text": "edited"})
             for m in messages[:50]]
    for future in edits:  # idempotent: retried until done (True: an earlier try took effect)
        result = future.get(timeout=60)
        assert result is True or result["text"] == "edited"
    edited = {(m["chat"]["id"], m["message_id"]) for m in messages[:50]}
    for chat in {c for c, _ in edited}:
        bot_messages = [x for x in tg.transcript(chat) if x["from"]["is_bot"]]
        for message in bot_messages:
            if (chat, message["message_id"]) in edited:
                assert message["text"] == "edited"


def test_a_call_that_may_have_reached_telegram_is_not_repeated(
    tg: FakeBotApi, start: Any
) -> None:
    tg.add_fault(Fault(method="sendMessage", drop="after", times=1))
    _, handle = start(limits=RateLimits.unlimited())
    with pytest.raises(ConnectionLost):
        handle.submit("sendMessage", {"chat_id": 5, "text": "once"}).get(timeout=10)
    assert texts(tg, 5) == ["once"]  # it did arrive, and only once
    tg.add_fault(Fault(method="sendMessage", drop="after", times=1))
    unsafe = CallOptions(retry_unsafe=True)
    handle.submit("sendMessage", {"chat_id": 6, "text": "x"}, options=unsafe).get(timeout=10)
    assert texts(tg, 6) == ["x", "x"]  # opted in: retried, and so sent twice


def test_chat_migration_moves_the_call_and_the_queue(tg: FakeBotApi, start: Any) -> None:
    tg.migrate_chat(-4000001, -1009000000777)
    migrations: list[tuple[Any, int]] = []
    sender, handle = start(limits=RateLimits.unlimited(), http_workers=1,
                           on_migrated=lambda old, new: migrations.append((old, new)))
    with capture_logs() as logs:
        futures = [handle.submit("sendMessage", {"chat_id": -4000001, "text": str(i)})
                   for i in range(4)]
        results = [f.get(timeout=10) for f in futures]
    assert [r["chat"]["id"] for r in results] == [-1009000000777] * 4
    assert texts(tg, -1009000000777) == ["0", "1", "2", "3"]
    assert migrations == [(-4000001, -1009000000777)]
    assert [e["event"] for e in logs].count("sender.chat_migrated") == 1
    later = handle.submit("sendMessage", {"chat_id": -4000001, "text": "later"}).get(timeout=10)
    assert later["chat"]["id"] == -1009000000777  # no second round trip to the old id
    assert sender.stats.migrated == 1


def test_answers_jump_ahead_and_expire(tg: FakeBotApi, start: Any) -> None:
    tg.latency = 0.05
    _, handle = start(limits=RateLimits.unlimited(), http_workers=1, answer_deadline=0.2)
    bulk = [handle.submit("sendMessage", {"chat_id": 1, "text": str(i)}) for i in range(10)]
    query = tg.inject_callback_query(7, 7, "data", message_id=1)["callback_query"]
    answer = handle.submit("answerCallbackQuery", {"callback_query_id": query["id"]})
    answer.get(timeout=10)
    order = [c.method for c in tg.calls]
    assert order.index("answerCallbackQuery") <= 1  # right after the call in flight
    for future in bulk:
        future.get(timeout=10)

    late = [handle.submit("sendMessage", {"chat_id": 2, "text": str(i)}) for i in range(8)]
    expired = handle.submit("answerInlineQuery", {"inline_query_id": "q", "results": []})
    tg.latency = 0.3  # the call in flight outlasts the answer's deadline
    with pytest.raises(TooLate):
        expired.get(timeout=10)
    assert "answerInlineQuery" not in [c.method for c in tg.calls]
    for future in late:
        future.get(timeout=30)


def test_coalesced_edits_send_only_the_newest(tg: FakeBotApi, start: Any) -> None:
    _, handle = start(limits=RateLimits.unlimited(), http_workers=1)
    message = handle.submit("sendMessage", {"chat_id": 3, "text": "v0"}).get(timeout=10)
    tg.latency = 0.2
    blocker = handle.submit("sendChatAction", {"chat_id": 3, "action": "typing"})
    coalesce = CallOptions(coalesce=True)
    edits = [handle.submit("editMessageText", {"chat_id": 3, "message_id": message["message_id"],
                                               "text": f"v{i}"}, options=coalesce)
             for i in range(1, 5)]
    blocker.get(timeout=10)
    assert [f.get(timeout=10)["text"] for f in edits] == ["v4"] * 4
    assert [c.params["text"] for c in tg.calls_to("editMessageText")] == ["v4"]


def test_a_full_queue_is_a_clear_error(tg: FakeBotApi, start: Any) -> None:
    tg.latency = 0.2
    _, handle = start(limits=RateLimits.unlimited(), http_workers=1, max_queue=3)
    futures = [handle.submit("sendMessage", {"chat_id": 1, "text": str(i)}) for i in range(3)]
    with pytest.raises(SenderQueueFull):
        handle.submit("sendMessage", {"chat_id": 1, "text": "one too many"})
    for future in futures:
        future.get(timeout=10)
    handle.submit("sendMessage", {"chat_id": 1, "text": "room again"}).get(timeout=10)


def test_bad_calls_fail_before_queueing(start: Any, tg: FakeBotApi) -> None:
    """The sender checks each call once, when it is queued (its workers trust that)."""
    _, handle = start()
    with pytest.raises(TypeError, match="'text'"):
        handle.submit("sendMessage", {"chat_id": 1})
    with pytest.raises(TypeError, match="'text'"):
        handle.submit("sendMessage", {"chat_id": 1, "text": None})
    with pytest.raises(ValueError, match="not a Bot API method name"):
        handle.submit("sendMessage/../getMe", {"chat_id": 1})
    # Names are canonical and None parameters gone by the time the request is made.
    handle.submit("SENDMESSAGE", {"chat_id": 1, "text": "x", "parse_mode": None}).get(timeout=10)
    (call,) = tg.calls_to("sendMessage")
    assert call.params == {"chat_id": 1, "text": "x"}


def test_idempotency_rules() -> None:
    assert not is_idempotent("sendMessage")
    assert not is_idempotent("forwardMessage")
    assert not is_idempotent("copyMessage")
    assert is_idempotent("sendChatAction")
    assert is_idempotent("editMessageText")
    assert is_idempotent("deleteMessage")
    assert is_idempotent("getChat")
    assert is_idempotent("answerCallbackQuery")


def test_results_reach_the_future_after_the_sender_stopped(tg: FakeBotApi, start: Any) -> None:
    tg.latency = 0.3
    sender, handle = start(limits=RateLimits.unlimited())
    future = handle.submit("sendMessage", {"chat_id": 1, "text": "in flight"})
    eventually(lambda: sender.stats.in_flight == 1, 10, "the call to be in flight")
    sender.actor_ref.stop(timeout=10)
    assert future.get(timeout=10)["text"] == "in flight"  # settled by its worker
