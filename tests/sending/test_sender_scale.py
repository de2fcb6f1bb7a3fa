"""The sender at Telegram's real limits and through a long outage, on virtual time.

The sender and the fake share one :class:`ManualClock`, stepped from one due timer to the
next whenever nothing is in flight: Telegram's default limits (minutes of traffic) and a
two-minute outage run in seconds, and no request can reach the fake "late", so a 429 here
is a scheduling error, not jitter.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from actorbot import Client
from actorbot.runtime import ManualClock
from actorbot.sending import (
    CallFuture,
    Lane,
    LocalLimiter,
    RateLimits,
    Sender,
    SenderHandle,
    Sending,
)
from actorbot.sending._sender import _Wake
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1000.0)


@pytest.fixture
def strict(clock: ManualClock) -> Iterator[FakeBotApi]:
    with FakeBotApi(flood_control=True, clock=clock.now) as tg:
        yield tg


@pytest.fixture
def sender(strict: FakeBotApi, clock: ManualClock) -> Iterator[Sender]:
    client = Client(strict.token, base_url=strict.base_url, read_timeout=5)
    actor = Sender(client, clock, Sending(max_queue=20_000))
    actor._start_actor_loop()
    yield actor
    actor.actor_ref.stop(timeout=30)
    client.close()


def settle(sender: Sender) -> None:
    """Until nothing is in flight and the sender has read every message sent so far."""
    def quiet() -> bool:
        sender.actor_ref.ask(_Wake(), timeout=10)  # a no-op pump: the mailbox is read
        return sender.stats.in_flight == 0
    eventually(quiet, what="the sender to go quiet")


def done(future: CallFuture[Any]) -> bool:
    try:
        future.get(timeout=0)
    except pykka.Timeout:
        return False
    except Exception:  # noqa: BLE001 - failed is done too
        return True
    return True


def run(sender: Sender, clock: ManualClock, futures: list[CallFuture[Any]],
        until: float | None = None) -> None:
    """Step virtual time event by event until every future is done (or time ``until``)."""
    settle(sender)
    while not all(done(f) for f in futures):
        due = clock.next_due()
        assert due is not None, "calls wait, yet nothing is scheduled"
        if until is not None and due > until:
            clock.advance(until - clock.now())
            return
        clock.advance(max(due - clock.now(), 0.0))
        settle(sender)


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max((i + 1 - bisect.bisect_right(times, t - seconds) for i, t in enumerate(times)),
               default=0)


def test_default_limits_500_private_x_10_and_50_groups_x_5_without_429(
    strict: FakeBotApi, sender: Sender, clock: ManualClock
) -> None:
    handle = SenderHandle.of(sender)
    chats = [1000 + c for c in range(500)] + [-2000 - g for g in range(50)]
    futures = [handle.submit("sendMessage", {"chat_id": chat, "text": str(i)})
               for i in range(10) for chat in chats if chat > 0 or i < 5]
    started = clock.now()
    run(sender, clock, futures)
    assert strict.count_429 == 0
    assert sender.stats.rate_limited == 0
    assert [f.get(timeout=0)["text"] for f in futures[:3]] == ["0", "0", "0"]
    sent = strict.calls_to("sendMessage")
    assert len(sent) == 5250
    bad = [c for c in chats if strict.sent_texts(c) != [str(i) for i in range(10 if c > 0 else 5)]]
    assert bad == []
    times = [c.time for c in sent]
    assert most_in_any_window(times, 1.0) == 29  # the default: 29 in any 1.02 s, from t=0
    # The whole run takes as long as 29 per 1.02 s allows, not longer: 5,250 -> 181 windows.
    assert clock.now() - started == pytest.approx(181 * 1.02, abs=1.1)


def test_a_two_minute_502_outage_loses_no_reply(
    strict: FakeBotApi, sender: Sender, clock: ManualClock
) -> None:
    handle = SenderHandle.of(sender)
    first = [handle.submit("sendMessage", {"chat_id": c, "text": "a"}) for c in range(1, 11)]
    run(sender, clock, first)
    strict.add_fault(Fault(method="sendMessage", status=502))
    outage_from = clock.now()
    during = [handle.submit("sendMessage", {"chat_id": c, "text": "b"}) for c in range(1, 11)]
    run(sender, clock, during, until=outage_from + 120.0)
    assert not any(done(f) for f in during)  # still retrying, two minutes on
    assert sender.stats.retries >= 10 * 6  # backoff up to 30 s: many tries, not 5
    strict.clear_faults()
    run(sender, clock, during)
    assert [f.get(timeout=0)["text"] for f in during] == ["b"] * 10
    assert all(strict.sent_texts(c) == ["a", "b"] for c in range(1, 11))
    assert sender.stats.failed == 0


def test_an_outage_longer_than_the_deadline_fails_the_call(
    strict: FakeBotApi, clock: ManualClock
) -> None:
    client = Client(strict.token, base_url=strict.base_url, read_timeout=5)
    actor = Sender(client, clock, Sending(retry_deadline=60.0))
    actor._start_actor_loop()
    try:
        strict.add_fault(Fault(method="sendMessage", status=502))
        future = SenderHandle.of(actor).submit("sendMessage", {"chat_id": 1, "text": "x"})
        started = clock.now()
        run(actor, clock, [future])
        assert clock.now() - started == pytest.approx(60.0)  # a last try at the deadline
        with pytest.raises(Exception, match="502"):
            future.get(timeout=0)
    finally:
        actor.actor_ref.stop(timeout=30)
        client.close()


class CountingLimiter:
    """The default limiter, counting how often the sender asks it."""

    def __init__(self) -> None:
        self.inner = LocalLimiter(RateLimits())
        self.asked: dict[str, int] = {"overall": 0, "paid": 0}

    def reserve(self, lane: Lane, now: float) -> float:
        self.asked[lane] += 1
        return self.inner.reserve(lane, now)

    def release(self, lane: Lane, now: float) -> None:
        self.inner.release(lane, now)


def test_a_spent_budget_costs_no_work_per_waiting_chat(
    strict: FakeBotApi, clock: ManualClock
) -> None:
    """2,000 chats wait behind a budget of 29 per 1.02 s: the limiter is asked about once
    per message sent plus once per wake-up, not once per waiting chat per wake-up."""
    limiter = CountingLimiter()
    client = Client(strict.token, base_url=strict.base_url, read_timeout=5)
    actor = Sender(client, clock, Sending(limiter=limiter))
    actor._start_actor_loop()
    try:
        handle = SenderHandle.of(actor)
        futures = [handle.submit("sendMessage", {"chat_id": c, "text": "x"})
                   for c in range(1, 2001)]
        futures += [handle.submit("sendMessage", {"chat_id": c, "text": "paid",
                                                  "allow_paid_broadcast": True})
                    for c in range(5001, 5101)]
        run(actor, clock, futures)
        assert strict.count_429 == 0
        assert len(strict.calls_to("sendMessage")) == 2100
        windows = 2000 // 29 + 1
        assert 2000 <= limiter.asked["overall"] <= 2000 + 2 * windows
        assert limiter.asked["paid"] == 100  # its own lane, never closed
    finally:
        actor.actor_ref.stop(timeout=30)
        client.close()
