"""2,000 replies through drops, 5xx, garbage bodies and 429s: each delivered or parked."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from actorbot import ChatHandler, Polling, Route, per_chat_id
from actorbot.journal import SqliteJournal
from actorbot.runtime import Backoff
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually, make_engine

MESSAGES, CHATS = 2000, 40
FAST = Backoff(initial=0.001, maximum=0.002)


class Echo(ChatHandler):
    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.sender.send_message(f"re {m['text']}")


class AsyncEcho(ChatHandler):
    """On the engine's loop, whose sender sends from the loop (its own transport)."""

    async def on_chat_message(self, m: dict[str, Any]) -> None:
        self.sender.send_message(f"re {m['text']}")


@pytest.mark.parametrize("handler", [Echo, AsyncEcho])
def test_every_reply_is_delivered_or_a_dead_letter_with_its_error(
    tmp_path: Path, no_thread_left: None, handler: type[ChatHandler]
) -> None:
    faults = [
        Fault(method="sendMessage", drop="before", probability=0.04),
        Fault(method="sendMessage", status=502, probability=0.15),  # often outlasts 2 retries
        Fault(method="sendMessage", status=503, description="Service Unavailable",
              probability=0.05),
        Fault(method="sendMessage", raw_body=b"<html>not json</html>", probability=0.03),
        Fault(method="sendMessage", status=429, retry_after=0, probability=0.05),
    ]
    journal = SqliteJournal(tmp_path / "j.db")
    with FakeBotApi(seed=19) as tg:
        for fault in faults:
            tg.add_fault(fault)
        engine = make_engine(
            tg, [Route(per_chat_id(), handler)], journal=journal,
            intake=Polling(timeout=1, backoff=FAST),
            sending=Sending(limits=RateLimits.unlimited(), max_retries=2, backoff=FAST,
                            retry_deadline=0.01))
        with engine:
            for n in range(MESSAGES):
                tg.inject_message(1000 + n % CHATS, f"m{n}")
            eventually(lambda: engine.stats()["handled"] == MESSAGES
                       and engine.stats()["sender_queue"] == 0
                       and engine.stats()["sender_in_flight"] == 0,
                       timeout=60, what="every update handled", interval=0.05)
            journal.flush()
            dead = engine.dead_letters(limit=MESSAGES)
            by_error = dict(engine._sender_actor.stats.failed_by_error)  # type: ignore[union-attr]
        sent = [t for c in range(CHATS) for t in tg.sent_texts(1000 + c)]
    parked = [d.update["message"]["text"] for d in dead]
    assert len(sent) + len(parked) == MESSAGES
    assert sorted([t.removeprefix("re ") for t in sent] + parked) == sorted(
        f"m{n}" for n in range(MESSAGES))
    assert all(d.route == "sender" and d.error.startswith("sendMessage to chat ") for d in dead)
    kinds = Counter(re.search(r"attempt\(s\): (\w+):", d.error)[1] for d in dead)  # type: ignore[index]
    # Garbage bodies are never retried; the others fail once the retry deadline is spent.
    assert "InvalidResponse" in kinds
    assert set(kinds) <= {"ServerError", "InvalidResponse", "ConnectionLost", "RetryAfter"}
    assert kinds == Counter(by_error)
    assert sum(by_error.values()) == len(dead)
    assert journal.count("pending") == 0
